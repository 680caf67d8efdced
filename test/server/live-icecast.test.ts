/**
 * Live voice through Icecast2 for large fleets (issue 16: "the server pushes the live stream into an Icecast2
 * mount and boxes pull from Icecast: documented and tested"), with Debian's real icecast2: going live opens the
 * mount before the boxes are told of it, the boxes' play names the public mount (no credentials), the voice
 * reaches a listener of the mount, and the end of the airing ends the listener's stream. A wrong source
 * password leaves the airing running on the server and says so in the log.
 */
import t from 'tap';
import mqtt from 'mqtt';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMessage, encodeMessage, topics, type Payload } from '@loaxa/shared';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { icecastAvailable, ICECAST_SKIP, startIcecast } from '../helpers/icecast.js';
import { waitFor } from '../helpers/wait.js';
import { listenAsBox, makeSpeech, openOperator, speak } from '../helpers/live.js';

t.test('a live airing pushed to an Icecast mount, the boxes listening there', { skip: icecastAvailable() ? false : ICECAST_SKIP }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'loaxa-live-ice-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const speech = makeSpeech(dir, { durationMs: 5_000, markerMs: 3_000 });
  // A small burst for joiners: Icecast's default 64 KB is 8 s of this stream, 8 s behind the voice.
  const ice = await startIcecast(t, { burstSize: 2_400, maxSeconds: 120 });
  const mount = ice.mountUrl('/live-{id}.mp3');
  const s = await startTestServer(t, {
    liveIcecast: { url: mount.replace('http://', `http://source:${ice.sourcePassword}@`), publicUrl: mount },
  });
  await importSampleAreas(s.api, s.token);
  const box = (await s.api('POST', '/api/v1/devices', { name: 'loa', areaCode: '99003' }, s.token)).body;
  const c = await mqtt.connectAsync(s.urls.mqttUrl, { clientId: box.id, username: box.id, password: box.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  const plays: Array<Payload<'play'>> = [];
  c.on('message', (_topic, payload) => {
    const m = decodeMessage(payload, ['play']);
    if (m.ok && m.value.type === 'play') plays.push(m.value.payload);
  });
  await c.subscribeAsync(topics.deviceCmd(box.id), { qos: 1 });
  await c.publishAsync(topics.deviceStatus(box.id), encodeMessage('status', { state: 'online' }), { qos: 1, retain: true });
  await new Promise((r) => setTimeout(r, 300));

  const live = await s.api('POST', '/api/v1/live', { target: { deviceIds: [box.id] }, priority: 'emergency' }, s.token);
  t.equal(live.status, 201);
  const id: string = live.body.id;
  const play = await waitFor('the play', () => plays.find((p) => p.broadcastId === live.body.broadcastId) ?? null, 5_000);
  const publicUrl = mount.replace('{id}', id);
  t.same(play.stream, { sourceId: id, urls: [publicUrl], durationMs: 2 * 3600_000, live: true }, 'the boxes pull the Icecast mount, without credentials');

  // The mount exists already: a box told of it at once is not refused (Icecast answers 404 without a source).
  const heard = listenAsBox(t, publicUrl, 'listener', 'no-credentials');
  t.equal(await heard.status, 200, 'the mount is up before the voice begins');
  const op = await openOperator(s.base, live.body.audioPath, { bearer: s.token });
  const t0 = await speak(op, speech);
  const latencyMs = (await heard.marker) - (t0 + speech.markerMs);
  t.comment(`mouth to box through Icecast (decoded): ${Math.round(latencyMs)} ms`);
  t.ok(latencyMs > 0 && latencyMs < 2_000, `the marker is heard through Icecast ${Math.round(latencyMs)} ms after it was spoken`);
  op.ws.send(JSON.stringify({ type: 'stop' }));
  const end = await heard.ended;
  t.ok(end.pcm.length / 96 > speech.durationMs - 500, `the listener decoded ${Math.round(end.pcm.length / 96)} ms`);
  // The mount's listeners may hear the end before the server has written it down (the push ends first).
  const ended = await waitFor('the airing recorded as ended', async () => {
    const b = (await s.api('GET', `/api/v1/live/${id}`, undefined, s.token)).body;
    return b.endReason ? b : null;
  }, 10_000);
  t.equal(ended.endReason, 'stopped');
  t.ok(Math.abs(ended.airedMs - speech.durationMs) < 500);
});

t.test('a mount that refuses the source: going live is not held up, the airing runs on the server', { skip: icecastAvailable() ? false : ICECAST_SKIP }, async (t) => {
  const ice = await startIcecast(t, { maxSeconds: 60 });
  const mount = ice.mountUrl('/live.mp3');
  const s = await startTestServer(t, { liveIcecast: { url: mount.replace('http://', 'http://source:wrong-password@'), publicUrl: mount } });
  await importSampleAreas(s.api, s.token);
  await s.api('POST', '/api/v1/devices', { name: 'loa', areaCode: '99003' }, s.token);
  const started = Date.now();
  const live = await s.api('POST', '/api/v1/live', { target: { areaCodes: ['99003'] } }, s.token);
  t.equal(live.status, 201, 'going live is not refused for it');
  t.ok(Date.now() - started < 3_500, 'nor held longer than the wait for the mount');
  t.equal((await fetch(mount)).status, 404, 'Icecast has no such source');
  t.equal((await s.api('POST', `/api/v1/live/${live.body.id}/stop`, undefined, s.token)).status, 200);
});
