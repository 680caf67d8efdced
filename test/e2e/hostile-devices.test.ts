/**
 * Hostile input from the device side (issue 7), end to end: a real server, real agents from the
 * firmware simulator, the embedded broker. Commands that arrive twice are executed once; a stale command
 * is refused; a box cannot report for another box's delivery.
 */
import t from 'tap';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { topics, encodeMessage, decodeResponse, ErrorCode } from '@loaxa/shared';
import { NullPlayer } from '../../device-agent/src/index.js';
import { startSimulation } from '../../firmware-sim/src/index.js';
import { startTestServer, importSampleAreas, ADMIN_PASSWORD } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const quiet = pino({ level: 'silent' });

async function oneBox(t: Parameters<typeof startTestServer>[0], areaCode = '99003') {
  const env = await startTestServer(t);
  await importSampleAreas(env.api, env.token);
  const players = new Map<string, NullPlayer>();
  const sim = await startSimulation({
    serverUrl: env.base, count: 1, areaCode, stateFile: join(env.dataDir, 'sim.json'), logger: quiet, username: 'admin', password: ADMIN_PASSWORD, startSpreadMs: 0,
    playerFactory: (id) => { const p = new NullPlayer(); players.set(id, p); return p; },
  });
  t.teardown(() => sim.stop());
  await sim.waitForConnections(10_000);
  const box = sim.devices[0]!.id;
  // Everything the box answers, as the broker sees it.
  const answers: Array<{ re: string; code: string | null }> = [];
  await env.server.ctx.bus.subscribe(topics.allDevices('res'), (_topic, payload) => {
    const r = decodeResponse(payload);
    if (r.ok) answers.push({ re: r.value.re, code: r.value.ok ? null : r.value.error.code });
  });
  return { ...env, sim, box, player: () => players.get(box)!, answers };
}

t.test('a command that arrives twice plays once: the same id re-sent, and the same item under another id', async (t) => {
  const { api, token, server, box, player, answers } = await oneBox(t);
  const bulletin = (await api('POST', '/api/v1/bulletins', { title: 'Một lần', text: 'Thông báo chỉ phát một lần.' }, token)).body;
  const cast = (await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { deviceIds: [box] } }, token)).body;
  await waitFor('the box to play it', async () => ((await api('GET', `/api/v1/broadcasts/${cast.id}`, undefined, token)).body.deliveries[0].state === 'played' ? true : null), 20_000, 200);
  t.equal(player().played.length, 1);

  const d = server.ctx.db.prepare('SELECT command_id, occurrence_at FROM deliveries WHERE broadcast_id = ?').get(cast.id) as { command_id: string; occurrence_at: number };
  const payload = server.ctx.deliveryService.playPayload(server.ctx.broadcasts.get(cast.id)!, d.occurrence_at)!;
  const expiresAt = Date.now() + 60_000;
  // What a QoS 1 re-delivery after a lost PUBACK looks like: the very same message.
  await server.ctx.bus.publish(topics.deviceCmd(box), encodeMessage('play', payload, { id: d.command_id, expiresAt }), { qos: 1, retain: false });
  // What the area fan-out plus the per-device send of an emergency look like: one item, two command ids.
  const otherId = randomUUID();
  await server.ctx.bus.publish(topics.deviceCmd(box), encodeMessage('play', payload, { id: otherId, expiresAt }), { qos: 1, retain: false });
  await waitFor('both re-sends answered', () => (answers.some((a) => a.re === d.command_id) && answers.some((a) => a.re === otherId) ? true : null), 10_000);
  await new Promise((r) => setTimeout(r, payload.media!.durationMs + 500));

  t.equal(player().played.length, 1, 'the speaker played the bulletin once');
  const playing = server.ctx.db.prepare(`SELECT COUNT(*) AS n FROM delivery_events WHERE broadcast_id = ? AND state = 'playing'`).get(cast.id) as { n: number };
  t.equal(playing.n, 1, 'the as-run log shows one airing');
  t.equal((await api('GET', `/api/v1/broadcasts/${cast.id}`, undefined, token)).body.deliveries[0].state, 'played', 'the delivery stays played, not failed');
});

t.test('a command past its expiry is refused and not played', async (t) => {
  const { api, token, server, box, player, answers } = await oneBox(t);
  const bulletin = (await api('POST', '/api/v1/bulletins', { title: 'Cũ', text: 'Thông báo đã hết hạn.' }, token)).body;
  // Scheduled beyond the dispatch horizon, so the server has not sent it yet; then a stale copy of its command
  // (expired a minute ago, as a message held in a broker queue would be) reaches the box.
  const startAt = Date.now() + 3 * 24 * 3600_000;
  const cast = (await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { deviceIds: [box] }, startAt: new Date(startAt).toISOString() }, token)).body;
  const occurrenceAt = (server.ctx.db.prepare('SELECT occurrence_at FROM deliveries WHERE broadcast_id = ?').get(cast.id) as { occurrence_at: number }).occurrence_at;
  const payload = { ...server.ctx.deliveryService.playPayload(server.ctx.broadcasts.get(cast.id)!, occurrenceAt)!, startAt: Date.now() - 120_000, occurrenceAt: Date.now() - 120_000 };
  const id = randomUUID();
  await server.ctx.bus.publish(topics.deviceCmd(box), encodeMessage('play', payload, { id, ts: Date.now() - 120_000, expiresAt: Date.now() - 60_000 }), { qos: 1, retain: false });
  const answer = await waitFor('the box to answer', () => answers.find((a) => a.re === id) ?? null, 10_000);
  t.equal(answer.code, ErrorCode.EXPIRED, 'refused as expired');
  await new Promise((r) => setTimeout(r, bulletin.audio.durationMs + 500));
  t.same(player().played, [], 'nothing played');
  const aired = server.ctx.db.prepare(`SELECT COUNT(*) AS n FROM delivery_events WHERE broadcast_id = ? AND state IN ('playing', 'played')`).get(cast.id) as { n: number };
  t.equal(aired.n, 0, 'the as-run log has no airing');
});

t.test('a box cannot report for another box: not on its topic, not through its own', async (t) => {
  const { api, token, urls, server } = await startTestServer(t);
  await importSampleAreas(api, token);
  const a = (await api('POST', '/api/v1/devices', { name: 'a', areaCode: '99003' }, token)).body;
  const b = (await api('POST', '/api/v1/devices', { name: 'b', areaCode: '99003' }, token)).body;
  const bulletin = (await api('POST', '/api/v1/bulletins', { title: 'Của b', text: 'Thông báo cho cụm loa b.' }, token)).body;
  const cast = (await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { deviceIds: [b.id] }, startAt: new Date(Date.now() + 3600_000).toISOString() }, token)).body;
  const occurrenceAt = (server.ctx.db.prepare('SELECT occurrence_at FROM deliveries WHERE broadcast_id = ?').get(cast.id) as { occurrence_at: number }).occurrence_at;
  const forged = encodeMessage('event', { kind: 'delivery', broadcastId: cast.id, occurrenceAt, state: 'played', at: Date.now() });

  const client = await mqtt.connectAsync(urls.mqttUrl, { clientId: a.id, username: a.id, password: a.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => client.endAsync(true));
  // Through its own topic: the delivery is looked up with the publisher's id, so b's is never found.
  await client.publishAsync(topics.deviceEvent(a.id), forged, { qos: 1 });
  await new Promise((r) => setTimeout(r, 300));
  t.equal(server.ctx.broadcasts.delivery(cast.id, b.id, occurrenceAt)!.state, 'queued', "b's delivery is untouched");
  // On b's topic: the broker refuses it and disconnects a.
  const closed = new Promise<void>((r) => client.once('close', () => r()));
  client.publish(topics.deviceEvent(b.id), forged, { qos: 1 });
  await closed;
  t.pass('a was disconnected for publishing as b');
  t.equal(server.ctx.broadcasts.delivery(cast.id, b.id, occurrenceAt)!.state, 'queued', "b's delivery is still untouched");
  const rows = server.ctx.db.prepare(`SELECT COUNT(*) AS n FROM delivery_events WHERE broadcast_id = ? AND state = 'played'`).get(cast.id) as { n: number };
  t.equal(rows.n, 0, 'no forged airing in the as-run log');
});

t.test('a box whose clock is minutes off: the as-run log records times on the server clock, and the skew shows in its health', async (t) => {
  const env = await startTestServer(t);
  const { api, token, server } = env;
  await importSampleAreas(api, token);
  const sim = await startSimulation({
    serverUrl: env.base, count: 1, areaCode: '99003', stateFile: join(env.dataDir, 'sim.json'), logger: quiet, username: 'admin', password: ADMIN_PASSWORD, startSpreadMs: 0, heartbeatMs: 500,
  });
  t.teardown(() => sim.stop());
  await sim.waitForConnections(10_000);
  const box = sim.boxes[0]!;
  box.clock.offsetMs = 3 * 60_000; // a flat RTC battery: the box thinks it is three minutes later
  // The agent measures its offset from command timestamps; a sync gives it one, heartbeats carry it.
  const skewed = await waitFor('the skew in its heartbeat', async () => {
    await api('POST', `/api/v1/devices/${box.id}/commands`, { type: 'set-volume', payload: { volume: 60 } }, token);
    const health = (await api('GET', `/api/v1/devices/${box.id}`, undefined, token)).body.health;
    return typeof health?.clockOffsetMs === 'number' && health.clockOffsetMs < -170_000 ? health.clockOffsetMs : null;
  }, 15_000, 300);
  t.ok(skewed < -170_000 && skewed > -190_000, `the box reports its clock ${Math.round(-skewed / 1000)} s ahead`);

  const bulletin = (await api('POST', '/api/v1/bulletins', { title: 'Giờ lệch', text: 'Thông báo thử đồng hồ.' }, token)).body;
  const sentAt = Date.now();
  const cast = (await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { deviceIds: [box.id] } }, token)).body;
  await waitFor('the box to play it', async () => ((await api('GET', `/api/v1/broadcasts/${cast.id}`, undefined, token)).body.deliveries[0].state === 'played' ? true : null), 20_000, 200);
  const rows = server.ctx.db.prepare('SELECT state, at, received_at FROM delivery_events WHERE broadcast_id = ? ORDER BY at').all(cast.id) as Array<{ state: string; at: number; received_at: number }>;
  const playing = rows.find((r) => r.state === 'playing')!;
  const played = rows.find((r) => r.state === 'played')!;
  t.ok(playing.at >= sentAt - 1000 && playing.at <= playing.received_at, `started ${playing.at - sentAt} ms after the broadcast on the server clock, not three minutes later`);
  t.ok(Math.abs(played.at - playing.at - bulletin.audio.durationMs) < 1500, 'the airtime is the bulletin’s length');
  for (const r of rows) t.ok(r.at <= r.received_at, `${r.state}: never after it arrived`);
});
