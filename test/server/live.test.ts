/**
 * Live voice, the server (issue 16). What a commune notices:
 * - who may go live at which priority is a setting (LOAXA_LIVE_ROLES): an operator speaks to the commune at
 *   normal priority, but is refused an emergency with a reason to read; an emergency needs a recent login;
 *   a target outside one's area is refused; so is a second airing at once;
 * - the voice from the phone (WebM/Opus chunks at real-time pace on the WebSocket) reaches a box listening with
 *   its own credentials: the marker is heard within the issue's two seconds (the figure is printed);
 * - the boxes' `play` says `stream.live`, one URL on this server with the box's own credentials;
 * - only the airing's boxes may listen, only the speaker may send, only from this server's pages;
 * - the operator's link dropping ends it: the box's stream ends, the airing says `link-dropped`, boxes that had
 *   not begun are cancelled, and the recording becomes a ready bulletin at broadcast loudness, aired again.
 */
import t from 'tap';
import mqtt from 'mqtt';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMessage, encodeMessage, topics, type Payload } from '@loaxa/shared';
import { securityServer } from '../security/helpers.js';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { boxStatus, listenAsBox, makeSpeech, openOperator, operatorStatus, speak } from '../helpers/live.js';
import { parseLiveRoles, liveRefusal } from '../../server/src/live/live-roles.js';
import { loadConfig } from '../../server/src/config.js';

t.test('LOAXA_LIVE_ROLES: parsed at start, refusals in words', async (t) => {
  const roles = parseLiveRoles('normal:operator,approver;emergency:province-admin');
  t.same(roles, { normal: ['operator', 'approver'], priority: [], emergency: ['province-admin'] }, 'a priority left out allows nobody');
  t.equal(liveRefusal(roles, 'operator', 'normal'), null);
  t.match(liveRefusal(roles, 'operator', 'emergency'), /only province admins may \(LOAXA_LIVE_ROLES\); you may go live at normal/);
  t.match(liveRefusal(roles, 'approver', 'priority'), /nobody on this installation/);
  t.throws(() => loadConfig({ LOAXA_LIVE_ROLES: 'urgent:operator' }), /LOAXA_LIVE_ROLES: "urgent" is not a priority/);
  t.throws(() => loadConfig({ LOAXA_LIVE_ROLES: 'normal:viewer' }), /LOAXA_LIVE_ROLES: "viewer"/);
  t.throws(() => loadConfig({ LOAXA_LIVE_ICECAST_URL: 'http://source:pw@127.0.0.1:8000/live.mp3' }), /set both/);
  t.same(loadConfig({}).liveRoles.emergency, ['province-admin', 'approver'], 'the default: emergencies by those who may approve');
});

t.test('who may go live, at which priority, to which target', async (t) => {
  const s = await securityServer(t);
  const box = (await s.api('POST', '/api/v1/devices', { name: 'loa Tân Lập', areaCode: '99003' }, s.token)).body;
  const operator = await s.login('operator', '99003');
  const approver = await s.login('approver', '99003');
  const viewer = await s.login('viewer', '99003');
  const target = { areaCodes: ['99003'] };

  const refused = await s.api('POST', '/api/v1/live', { target, priority: 'emergency' }, operator.token);
  t.equal(refused.status, 403, 'an operator may not go live at emergency priority by default');
  t.match(refused.body.error.message, /emergency.*only province admins, approvers may \(LOAXA_LIVE_ROLES\); you may go live at normal/, 'with a reason the operator can read');
  t.equal((await s.api('POST', '/api/v1/live', { target, priority: 'priority' }, operator.token)).status, 403, 'nor at priority');
  t.equal((await s.api('POST', '/api/v1/live', { target }, viewer.token)).status, 403, 'viewers never go live');
  const outside = await s.api('POST', '/api/v1/live', { target: { areaCodes: ['99004'] } }, operator.token);
  t.equal(outside.status, 403, 'a commune outside the operator’s area is refused');
  t.match(outside.body.error.message, /outside your area/);
  t.equal((await s.api('POST', '/api/v1/live', { target: { areaCodes: ['98001'] } }, approver.token)).status, 403, 'another province too');
  t.equal((await s.api('POST', '/api/v1/live', { target: { areaCodes: ['99005'] } }, s.token)).status, 400, 'a commune without a box: nothing to speak to');

  const ok = await s.api('POST', '/api/v1/live', { target }, operator.token);
  t.equal(ok.status, 201, 'an operator goes live at normal priority without waiting for an approver');
  t.equal(ok.body.state, 'waiting');
  t.equal(ok.body.priority, 'normal');
  t.equal(ok.body.devices, 1);
  t.equal(ok.body.audioPath, `/api/v1/live/${ok.body.id}/audio`);
  t.match(ok.body.title, /^Phát trực tiếp \d\d:\d\d \d\d\/\d\d\/\d{4}$/);
  const bc = (await s.api('GET', `/api/v1/broadcasts/${ok.body.broadcastId}`, undefined, operator.token)).body;
  t.equal(bc.status, 'approved', 'its broadcast is approved as it is made (LOAXA_LIVE_ROLES is the approval)');
  t.equal(bc.summary.queued + bc.summary.sent, 1, 'and written for the commune’s box');
  t.equal((await s.api('POST', '/api/v1/live', { target }, operator.token)).status, 409, 'one airing at a time per speaker');
  const bulletin = (await s.api('GET', `/api/v1/bulletins/${ok.body.id}`, undefined, operator.token)).body;
  t.equal(bulletin.source, 'live', 'the airing is a bulletin of kind live');
  t.equal(bulletin.status, 'synthesizing');

  // Another operator of the commune sees the airing but may not end it; an approver may.
  const other = await s.login('operator', '99003');
  t.equal((await s.api('GET', `/api/v1/live/${ok.body.id}`, undefined, other.token)).status, 200);
  t.equal((await s.api('POST', `/api/v1/live/${ok.body.id}/stop`, undefined, other.token)).status, 403);
  const stopped = await s.api('POST', `/api/v1/live/${ok.body.id}/stop`, undefined, approver.token);
  t.equal(stopped.status, 200, 'an approver ends it');
  t.equal(stopped.body.state, 'ended');
  t.equal(stopped.body.endReason, 'stopped');
  t.equal((await s.api('POST', `/api/v1/live/${ok.body.id}/stop`, undefined, approver.token)).status, 409, 'ended once');
  const failed = await waitFor('the empty airing’s bulletin', async () => {
    const b = (await s.api('GET', `/api/v1/bulletins/${ok.body.id}`, undefined, operator.token)).body;
    return b.status === 'failed' ? b : null;
  }, 5_000);
  t.match(failed.error, /nothing was recorded/, 'an airing that never had a voice leaves a failed bulletin saying why');
  const cancelled = (await s.api('GET', `/api/v1/broadcasts/${ok.body.broadcastId}`, undefined, operator.token)).body;
  t.equal(cancelled.summary.cancelled, 1, 'its box, which had not begun, drops it');

  const emergency = await s.api('POST', '/api/v1/live', { target: { deviceIds: [box.id] }, priority: 'emergency' }, approver.token);
  t.equal(emergency.status, 201, 'an approver with a fresh login goes live at emergency priority');
  t.equal((await s.api('POST', `/api/v1/live/${emergency.body.id}/stop`, undefined, approver.token)).status, 200);
  t.equal((await s.api('GET', '/api/v1/audit', undefined, s.token)).body.items.filter((r: { route: string }) => r.route.startsWith('/api/v1/live')).length >= 4, true, 'going live and ending are in the audit log');
});

t.test('a live emergency needs a recent login, as every emergency', async (t) => {
  // A login older than LOAXA_EMERGENCY_REAUTH_SECONDS: 0 here, so every login is too old.
  const s = await startTestServer(t, { emergencyReauthSeconds: 0 });
  await importSampleAreas(s.api, s.token);
  await s.api('POST', '/api/v1/devices', { name: 'loa', areaCode: '99003' }, s.token);
  await new Promise((r) => setTimeout(r, 5));
  const stale = await s.api('POST', '/api/v1/live', { target: { areaCodes: ['99003'] }, priority: 'emergency' }, s.token);
  t.equal(stale.status, 401);
  t.match(stale.body.error.message, /needs a login from the last/);
  t.equal((await s.api('POST', '/api/v1/live', { target: { areaCodes: ['99003'] }, priority: 'normal' }, s.token)).status, 201, 'a normal airing does not');
});

t.test('the voice reaches a box within two seconds; the link drops; the recording is kept and aired again', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'loaxa-live-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const speech = makeSpeech(dir);
  const s = await securityServer(t);
  const { api, base, urls } = s;
  const operator = await s.login('operator', '99003');
  const box = (await api('POST', '/api/v1/devices', { name: 'loa chợ', areaCode: '99003' }, s.token)).body;
  const asleep = (await api('POST', '/api/v1/devices', { name: 'loa đình', areaCode: '99003' }, s.token)).body;
  const stranger = (await api('POST', '/api/v1/devices', { name: 'loa xã bên', areaCode: '99004' }, s.token)).body;

  // The box on MQTT as an agent: it takes the play, says it plays, and says played when its stream ends.
  const c = await mqtt.connectAsync(urls.mqttUrl, { clientId: box.id, username: box.id, password: box.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  const plays: Array<Payload<'play'>> = [];
  c.on('message', (_topic, payload) => {
    const m = decodeMessage(payload, ['play']);
    if (m.ok && m.value.type === 'play') plays.push(m.value.payload);
  });
  await c.subscribeAsync(topics.deviceCmd(box.id), { qos: 1 });
  await c.publishAsync(topics.deviceStatus(box.id), encodeMessage('status', { state: 'online' }), { qos: 1, retain: true });
  await new Promise((r) => setTimeout(r, 300));

  const live = await api('POST', '/api/v1/live', { target: { areaCodes: ['99003'] }, title: 'Bão số 3' }, operator.token);
  t.equal(live.status, 201);
  const id: string = live.body.id;
  const play = await waitFor('the box’s play', () => plays.find((p) => p.broadcastId === live.body.broadcastId) ?? null, 5_000);
  t.same(play.stream, { sourceId: id, urls: [`${base}/live/${id}`], durationMs: 2 * 3600_000, deviceAuth: true, live: true }, 'one URL on this server, the box’s own credentials, live');
  t.equal(play.media, undefined, 'no fallback file: a live voice has none');
  t.equal(play.windowMs, 2 * 3600_000, 'a box freed late may still join');
  await c.publishAsync(topics.deviceEvent(box.id), encodeMessage('event', { kind: 'delivery', broadcastId: play.broadcastId, occurrenceAt: play.occurrenceAt, state: 'playing', at: Date.now() }), { qos: 1 });

  const streamUrl = `${base}/live/${id}`;
  t.equal(await boxStatus(streamUrl, box.id, 'wrong-password'), 401, 'a wrong password is refused');
  t.equal(await boxStatus(streamUrl, stranger.id, stranger.mqtt.password), 403, 'a box the airing was not sent to is refused');
  t.equal(await boxStatus(`${base}/live/bt-0000000000000000`, box.id, box.mqtt.password), 404);
  const heard = listenAsBox(t, streamUrl, box.id, box.mqtt.password);
  t.equal(await heard.status, 200, 'the box tunes in before the voice begins');
  const tunedAt = performance.now();

  // The operator's socket: only from this server's pages, only the speaker.
  const path: string = live.body.audioPath;
  t.equal(await operatorStatus(base, path, { cookie: operator.token, origin: 'https://evil.example' }), 403, 'a page of another site is refused (cross-site WebSocket hijacking)');
  t.equal(await operatorStatus(base, path, { cookie: operator.token }), 403, 'a cookie without an Origin is refused');
  t.equal(await operatorStatus(base, path, { bearer: s.token }), 403, 'another user may not send the voice, even an admin');
  t.equal(await operatorStatus(base, path, {}), 401);
  const op = await openOperator(base, path, { cookie: operator.token, origin: base });
  t.equal(await operatorStatus(base, path, { bearer: operator.token }), 409, 'one socket per airing');

  const t0 = await speak(op, speech);
  const markerHeard = await heard.marker;
  const latencyMs = markerHeard - (t0 + speech.markerMs);
  t.comment(`mouth to box (decoded): ${Math.round(latencyMs)} ms for the marker at ${speech.markerMs} ms (100 ms recorder chunks included)`);
  t.ok(latencyMs > 0 && latencyMs < 2_000, `the marker is heard ${Math.round(latencyMs)} ms after it was spoken (issue 16: ≤ 2 s)`);
  const onAir = (await api('GET', `/api/v1/live/${id}`, undefined, operator.token)).body;
  t.equal(onAir.state, 'on-air');
  t.ok(onAir.airedMs > 5_000, `${onAir.airedMs} ms aired so far`);

  // The phone's link drops (the socket closes without a stop).
  await new Promise((r) => setTimeout(r, 300));
  const cutAt = performance.now();
  op.ws.terminate();
  const end = await heard.ended;
  t.ok(end.at - cutAt < 1_500, `the box’s stream ends ${Math.round(end.at - cutAt)} ms after the link dropped`);
  // Silence from when it tuned in until the voice began (the server keeps a waiting stream alive), then the voice.
  const decodedMs = end.pcm.length / 96;
  const silenceMs = t0 - tunedAt;
  t.ok(decodedMs > speech.durationMs - 300 && decodedMs < speech.durationMs + silenceMs + 600, `the box decoded ${Math.round(decodedMs)} ms: ${Math.round(silenceMs)} ms of waiting, then the ${speech.durationMs} ms spoken`);
  await c.publishAsync(topics.deviceEvent(box.id), encodeMessage('event', { kind: 'delivery', broadcastId: play.broadcastId, occurrenceAt: play.occurrenceAt, state: 'played', at: Date.now(), airedMs: Math.round(decodedMs - silenceMs) }), { qos: 1 });

  const ended = await waitFor('the airing’s end', async () => {
    const v = (await api('GET', `/api/v1/live/${id}`, undefined, operator.token)).body;
    return v.state === 'ended' ? v : null;
  }, 5_000);
  t.equal(ended.endReason, 'link-dropped', 'the operator sees that the link dropped');
  t.ok(Math.abs(ended.airedMs - speech.durationMs) < 600, `${ended.airedMs} ms aired`);
  t.ok(op.messages.filter((m) => m.type === 'level').length >= 50, `the meter had ${op.messages.filter((m) => m.type === 'level').length} readings`);
  t.ok(op.messages.some((m) => m.type === 'boxes' && m.listening === 1 && m.total === 2), 'and the boxes: one listening, of two');
  t.equal(await boxStatus(streamUrl, box.id, box.mqtt.password), 410, 'a box joining after the end is told it is gone');
  const deliveries = await waitFor('the deliveries settled', async () => {
    const d = (await api('GET', `/api/v1/broadcasts/${live.body.broadcastId}`, undefined, operator.token)).body;
    return d.summary.played === 1 ? d : null;
  }, 5_000);
  const sleeping = deliveries.deliveries.find((d: { deviceId: string }) => d.deviceId === asleep.id);
  t.equal(sleeping.state, 'cancelled', 'the box that had not begun drops it');
  t.match(sleeping.reason, /live airing ended \(link-dropped\)/);

  // The recording: mastered like an upload, listed, airable again.
  const bulletin = await waitFor('the recording mastered', async () => {
    const b = (await api('GET', `/api/v1/bulletins/${id}`, undefined, operator.token)).body;
    return b.status === 'ready' ? b : b.status === 'failed' ? Promise.reject(new Error(b.error)) : null;
  }, 30_000);
  t.equal(bulletin.title, 'Bão số 3');
  t.ok(Math.abs(bulletin.audio.durationMs - speech.durationMs) < 700, `the recording lasts ${bulletin.audio.durationMs} ms`);
  t.ok(Math.abs(bulletin.audio.lufs + 16) <= 1, `at broadcast loudness: ${bulletin.audio.lufs} LUFS`);
  const listed = (await api('GET', '/api/v1/bulletins?source=live', undefined, operator.token)).body;
  t.ok(listed.items.some((b: { id: string }) => b.id === id), 'listed among the bulletins of kind live');
  // The operator's own broadcast waits for an approver (LOAXA_OPERATORS_NEED_APPROVAL); the admin's airs at once.
  t.equal((await api('POST', '/api/v1/broadcasts', { bulletinId: id, target: { deviceIds: [box.id] } }, operator.token)).body.status, 'submitted', 'the operator may broadcast the recording again (for approval, as any recording)');
  const again = await api('POST', '/api/v1/broadcasts', { bulletinId: id, target: { deviceIds: [box.id] } }, s.token);
  t.equal(again.status, 201, 'and broadcast again');
  const replay = await waitFor('the replay’s play', () => plays.find((p) => p.broadcastId === again.body.id) ?? null, 5_000);
  t.equal(replay.stream, undefined, 'aired again as a file, not a stream');
  t.equal(replay.media?.sha256, bulletin.audio.sha256);
  const from = new Date(Date.now() - 3600_000).toISOString();
  const to = new Date(Date.now() + 3600_000).toISOString();
  const asRun = await api('GET', `/api/v1/reports/as-run?area=99003&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, undefined, operator.token);
  t.equal(asRun.status, 200);
  t.match(JSON.stringify(asRun.body), /Bão số 3/, 'the airing is in the as-run');
  t.match(JSON.stringify(asRun.body), /"played"/, 'played by the box that heard it');
});

t.test('the server stopping ends every airing: the operator is told, the boxes’ streams end', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'loaxa-live-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const speech = makeSpeech(dir, { durationMs: 2_000, markerMs: 1_000 });
  const s = await startTestServer(t);
  await importSampleAreas(s.api, s.token);
  const box = (await s.api('POST', '/api/v1/devices', { name: 'loa', areaCode: '99003' }, s.token)).body;
  const live = await s.api('POST', '/api/v1/live', { target: { deviceIds: [box.id] } }, s.token);
  const heard = listenAsBox(t, `${s.base}/live/${live.body.id}`, box.id, box.mqtt.password);
  t.equal(await heard.status, 200);
  const op = await openOperator(s.base, live.body.audioPath, { bearer: s.token });
  op.ws.send(JSON.stringify({ type: 'start', mimeType: 'audio/webm' }));
  for (const chunk of speech.chunks.slice(0, 10)) op.ws.send(chunk);
  await waitFor('the voice on air', () => (op.messages.some((m) => m.type === 'level') ? true : null), 5_000);
  const stopping = performance.now();
  await s.server.stop();
  t.ok(performance.now() - stopping < 5_000, `the server stopped in ${Math.round(performance.now() - stopping)} ms`);
  t.match(op.messages.find((m) => m.type === 'ended'), { reason: 'server-stopping' }, 'the operator is told why it ended');
  t.ok((await heard.ended).bytes > 0, 'the box’s stream ended');
});
