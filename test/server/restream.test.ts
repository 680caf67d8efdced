/**
 * The server's own restream (issue 15: "a choice per source to go through the server's own restream when a
 * source allows few listeners or needs credentials"): `GET /streams/{sourceId}` against real streams made on
 * this machine (test/helpers/streams.ts). Boxes tune in with their own credentials and an independent ffmpeg
 * decodes what they get; the tone's pitch says which URL the server is serving. Checked: one upstream pull for
 * many boxes, who is refused, failover with listeners staying connected, all URLs down, the puller letting go,
 * shutdown leaving no ffmpeg, a simulated box relaying through it with `deviceAuth`, and the fan-out's burst
 * and its bound on a listener that falls behind.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { pino } from 'pino';
import { startSimulation } from '../../firmware-sim/src/index.js';
import { startTestServer, importSampleAreas, ADMIN_PASSWORD } from '../helpers/server.js';
import { ffmpegBin, measureTone, startToneStream, SAMPLE_RATE } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';
import { proxyTo } from '../device-agent/relay-fixtures.js';
import type { Restreamer } from '../../server/src/relay/restream.js';
import { Fanout } from '../../server/src/relay/fanout.js';

type Tap = Parameters<typeof startTestServer>[0];
type Api = Awaited<ReturnType<typeof startTestServer>>['api'];

const basic = (id: string, password: string): string => `Basic ${Buffer.from(`${id}:${password}`).toString('base64')}`;
const OTHER_PROVINCE = { provinces: [{ code: '98', name: 'Tỉnh Bên', type: 'tỉnh', communes: [{ code: '98001', name: 'Xã Bên Sông', type: 'xã' }] }] };

/** A box tuned in: what arrived (and when), decoded by an ffmpeg of the test's own. */
interface Tuned {
  status: number;
  contentType: string | null;
  connectedAt: number;
  /** When the server ended or cut the response (null: still open). */
  endedAt: number | null;
  /** performance.now() of each chunk of bytes received. */
  arrivals: number[];
  /** Seconds decoded so far. */
  seconds(): number;
  /** Pitch and loudness of the last `s` seconds decoded. */
  tone(s: number): { seconds: number; rms: number; frequencyHz: number };
  close(): void;
}

async function tuneIn(t: Tap, url: string, authorization?: string): Promise<Tuned> {
  const ac = new AbortController();
  const connectedAt = performance.now();
  const res = await fetch(url, { headers: authorization ? { authorization } : {}, signal: ac.signal });
  const pcm: Buffer[] = [];
  let pcmBytes = 0;
  const tuned: Tuned = {
    status: res.status,
    contentType: res.headers.get('content-type'),
    connectedAt,
    endedAt: null,
    arrivals: [],
    seconds: () => pcmBytes / 2 / SAMPLE_RATE,
    tone: (s) => {
      const all = Buffer.concat(pcm);
      return measureTone(new Int16Array(all.buffer.slice(all.byteOffset, all.byteOffset + all.length - (all.length % 2))), s);
    },
    close: () => ac.abort(),
  };
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel().catch(() => undefined);
    tuned.endedAt = performance.now();
    return tuned;
  }
  const ff = spawn(ffmpegBin(), ['-hide_banner', '-nostdin', '-v', 'error', '-probesize', '4096', '-analyzeduration', '0', '-f', 'mp3', '-i', 'pipe:0', '-f', 's16le', '-ac', '1', '-ar', String(SAMPLE_RATE), 'pipe:1'], { stdio: ['pipe', 'pipe', 'ignore'] });
  ff.stdin.on('error', () => undefined);
  ff.stdout.on('data', (b: Buffer) => {
    pcm.push(b);
    pcmBytes += b.length;
  });
  const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
  body.on('data', (c: Buffer) => {
    tuned.arrivals.push(performance.now());
    ff.stdin.write(c);
  });
  const ended = (): void => {
    tuned.endedAt ??= performance.now();
    ff.stdin.end();
  };
  body.on('end', ended);
  body.on('error', ended);
  t.teardown(() => {
    ac.abort();
    ff.kill('SIGKILL');
  });
  return tuned;
}

const near = (hz: number, want: number): boolean => Math.abs(hz - want) / want < 0.03;
const hearing = (l: Tuned, hz: number): boolean => {
  const m = l.tone(1);
  return m.seconds >= 0.99 && m.rms > 3000 && near(m.frequencyHz, hz);
};
/** Whether a process still exists. */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function setup(t: Tap) {
  const s = await startTestServer(t, { sourceCheckSeconds: 0 });
  await importSampleAreas(s.api, s.token);
  await s.api('POST', '/api/v1/areas/import', OTHER_PROVINCE, s.token);
  const box = async (areaCode: string): Promise<{ id: string; auth: string }> => {
    const d = (await s.api('POST', '/api/v1/devices', { name: `loa ${areaCode}`, areaCode }, s.token)).body;
    return { id: d.id, auth: basic(d.id, d.mqtt.password) };
  };
  const source = async (api: Api, body: Record<string, unknown>): Promise<string> => {
    const r = await api('POST', '/api/v1/sources', body, s.token);
    if (r.status !== 201) throw new Error(JSON.stringify(r.body));
    return r.body.id as string;
  };
  const restream: Restreamer = s.server.app.restream;
  return { ...s, restream, box, source: (body: Record<string, unknown>) => source(s.api, body) };
}

t.test('boxes hear one pull of the source at its pitch; it fails over and back under them; the puller lets go after the last', { timeout: 90_000 }, async (t) => {
  const { base, restream, box, source } = await setup(t);
  const a = await startToneStream(t, { format: 'mp3', frequencyHz: 440 });
  const b = await startToneStream(t, { format: 'ogg', frequencyHz: 660 });
  const id = await source({ name: 'VOV1 (restream)', urls: [a.url, b.url], areaCode: '99', restream: true });
  const url = `${base}/streams/${id}`;
  const [b1, b2] = [await box('99003'), await box('99004')];

  const l1 = await tuneIn(t, url, b1.auth);
  const l2 = await tuneIn(t, url, b2.auth);
  t.equal(l1.status, 200, 'a box of the commune tunes in');
  t.equal(l2.status, 200, 'a box of another commune of the province too');
  t.equal(l1.contentType, 'audio/mpeg');
  await waitFor('both boxes hearing 440 Hz', () => (hearing(l1, 440) && hearing(l2, 440) ? true : null), 10_000);
  t.pass('both decode the first URL’s 440 Hz tone');
  t.equal(a.clients(), 1, 'one upstream connection for two listeners');
  t.equal(b.clients(), 0, 'none to the second URL');

  // A late joiner gets a burst of recent audio: more than real time could have brought it.
  const l3 = await tuneIn(t, url, b1.auth);
  const burst = await waitFor('the late joiner’s burst', () => {
    const ahead = l3.seconds() - (performance.now() - l3.connectedAt) / 1000;
    return ahead >= 1 ? ahead : null;
  }, 3_000, 20);
  t.ok(burst >= 1, `the late joiner had ${burst.toFixed(1)} s more audio than time had passed`);
  t.equal(a.clients(), 1, 'still one upstream connection for three listeners');
  t.match(restream.status(), [{ sourceId: id, listeners: 3, url: a.url }]);

  // The first URL dies: the server moves to the second; the boxes stay connected and hear it.
  const killedAt = performance.now();
  await a.kill();
  await waitFor('every box hearing 660 Hz', () => (hearing(l1, 660) && hearing(l2, 660) && hearing(l3, 660) ? true : null), 8_000);
  t.ok(performance.now() - killedAt < 6_000, `the boxes hear the second URL ${Math.round(performance.now() - killedAt)} ms after the first died`);
  t.same([l1.endedAt, l2.endedAt, l3.endedAt], [null, null, null], 'no listener was cut');
  const gap = Math.max(...l1.arrivals.slice(1).map((at, i) => at - l1.arrivals[i]!));
  t.ok(gap < 1_500, `bytes kept flowing through the failover (longest pause ${Math.round(gap)} ms): no box sees a stall`);
  t.equal(b.clients(), 1, 'one connection to the second URL');

  // The first returns: after its back-off (5 s) and a second of sound it takes over again.
  await a.revive();
  await waitFor('the boxes back on 440 Hz', () => (hearing(l1, 440) && hearing(l2, 440) ? true : null), 15_000);
  t.pass('the preferred URL takes over again when it returns');
  await waitFor('the second URL let go', () => (b.clients() === 0 && a.clients() === 1 ? true : null), 3_000);

  // Everyone leaves: the puller stops some seconds later, upstream and ffmpeg included.
  const pids = restream.pids();
  t.ok(pids.length >= 2, `the restream runs ffmpeg (${pids.length}: the decoder and the encoder)`);
  for (const l of [l1, l2, l3]) l.close();
  await new Promise((r) => setTimeout(r, 1_000));
  t.equal(a.clients(), 1, 'a box reconnecting within seconds would find the puller still there');
  await waitFor('the puller to stop', () => (a.clients() === 0 && restream.status().length === 0 ? true : null), 8_000);
  await waitFor('its ffmpeg to exit', () => (pids.every((p) => !alive(p)) && restream.pids().length === 0 ? true : null), 3_000);
  t.pass('no upstream connection and no ffmpeg once nobody listens');
});

t.test('only boxes, with their current credentials, in the source’s area, for a restreamed source', async (t) => {
  const { base, api, token, restream, box, source } = await setup(t);
  const a = await startToneStream(t, { format: 'mp3' });
  const id = await source({ name: 'Đài tỉnh', urls: [a.url], areaCode: '99', restream: true });
  const direct = await source({ name: 'Đài tỉnh (trực tiếp)', urls: [a.url], areaCode: '99' });
  const url = `${base}/streams/${id}`;
  const inside = await box('99003');
  const outside = await box('98001');
  const revoked = await box('99003');

  const none = await fetch(url);
  t.equal(none.status, 401, 'no credentials');
  t.match(none.headers.get('www-authenticate'), /^Basic /);
  t.equal(((await none.json()) as { error: { code: string } }).error.code, 'LOAXA_UNAUTHORIZED');
  t.equal((await fetch(url, { headers: { authorization: basic(inside.id, 'wrong-password') } })).status, 401, 'a wrong secret');
  t.equal((await fetch(url, { headers: { authorization: basic('spk-nobody', 'x') } })).status, 401, 'an unknown box');
  t.equal((await fetch(url, { headers: { authorization: 'Basic !!!' } })).status, 401, 'garbage');
  t.equal((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status, 401, 'an API token is not a box');
  t.equal((await api('POST', `/api/v1/devices/${revoked.id}/revoke`, {}, token)).status, 200);
  t.equal((await fetch(url, { headers: { authorization: revoked.auth } })).status, 401, 'a revoked box');

  const foreign = await fetch(url, { headers: { authorization: outside.auth } });
  t.equal(foreign.status, 403, 'a box of another province');
  t.match(((await foreign.json()) as { error: { message: string } }).error.message, /not usable in the box’s area/);
  t.equal((await fetch(`${base}/streams/${direct}`, { headers: { authorization: inside.auth } })).status, 404, 'a source boxes pull themselves is not restreamed');
  t.equal((await fetch(`${base}/streams/src-nothing`, { headers: { authorization: inside.auth } })).status, 404, 'an unknown source');
  const head = await fetch(url, { method: 'HEAD', headers: { authorization: inside.auth } });
  t.equal(head.status, 200, 'HEAD answers whether the box may listen');
  t.equal(head.headers.get('content-type'), 'audio/mpeg');
  t.equal(a.clients(), 0, 'no refusal (nor HEAD) pulled the source');
  t.same(restream.status(), []);

  // Deleted (nothing relays it): refused from then on.
  t.equal((await api('DELETE', `/api/v1/sources/${id}`, undefined, token)).status, 204);
  t.equal((await fetch(url, { headers: { authorization: inside.auth } })).status, 404, 'a deleted source');
});

t.test('a hung URL is replaced with silence in between; with every URL down the boxes’ streams end', { timeout: 60_000 }, async (t) => {
  const { base, restream, box, source } = await setup(t);
  const a = await startToneStream(t, { format: 'mp3', frequencyHz: 440 });
  const hung = await proxyTo(t, a.url);
  const b = await startToneStream(t, { format: 'mp3', frequencyHz: 660 });
  const id = await source({ name: 'VOV2', urls: [hung.url, b.url], areaCode: null, restream: true });
  const url = `${base}/streams/${id}`;
  const l = await tuneIn(t, url, (await box('99003')).auth);
  await waitFor('hearing 440 Hz', () => (hearing(l, 440) ? true : null), 10_000);

  // The first URL hangs (connected, no more bytes): the server keeps the boxes fed with silence, so none sees
  // its own 4 s stall, and moves on after 4 s without audio.
  const frozenAt = performance.now();
  hung.freeze();
  await waitFor('hearing 660 Hz', () => (hearing(l, 660) ? true : null), 10_000);
  const after = performance.now() - frozenAt;
  t.ok(after > 3_500 && after < 7_500, `the second URL is heard ${Math.round(after)} ms after the first hung (4 s stall rule)`);
  const during = l.arrivals.filter((at) => at > frozenAt);
  const gap = Math.max(...[frozenAt, ...during].slice(1).map((at, i) => at - [frozenAt, ...during][i]!));
  t.ok(gap < 1_500, `the box kept receiving while the server decided (longest pause ${Math.round(gap)} ms)`);
  t.equal(l.endedAt, null);

  // Both die: the response ends at once, so each box plays its fallback now rather than after 10 s of silence.
  const deadAt = performance.now();
  await Promise.all([a.kill(), b.kill()]);
  await waitFor('the box’s stream to end', () => l.endedAt, 5_000);
  t.ok(l.endedAt! - deadAt < 3_000, `the box’s stream ended ${Math.round(l.endedAt! - deadAt)} ms after the last URL died`);
  await waitFor('no ffmpeg left', () => (restream.pids().length === 0 && restream.status().length === 0 ? true : null), 3_000);

  // A box retrying at once is answered 503 with Retry-After, and no ffmpeg starts (issue 15 review: boxes
  // retrying must not respawn the decoders in a loop).
  const retryBox = await box('99003');
  const soon = await fetch(url, { headers: { authorization: retryBox.auth } });
  t.equal(soon.status, 503, 'an immediate retry is refused');
  const after503 = Number(soon.headers.get('retry-after'));
  t.ok(after503 >= 1 && after503 <= 4, `Retry-After: ${after503} s`);
  t.match(((await soon.json()) as { error: { code: string; message: string } }).error, { code: 'LOAXA_UNAVAILABLE', message: /every URL of source .* is down/ });
  t.same([restream.pids(), restream.status()], [[], []], 'no ffmpeg was started for it');

  // Past the few seconds: one quick attempt, then the end of its stream.
  await new Promise((r) => setTimeout(r, after503 * 1000 + 200));
  const retry = await tuneIn(t, url, retryBox.auth);
  t.equal(retry.status, 200);
  await waitFor('the retry’s stream to end', () => retry.endedAt, 8_000);
  t.ok(retry.seconds() < 3, `it heard no source (${retry.seconds().toFixed(1)} s of filler) before its stream ended`);
});

t.test('a revoked box is cut at once while another keeps listening; a third stream of one box is 429', { timeout: 60_000 }, async (t) => {
  const { base, api, token, restream, box, source } = await setup(t);
  const a = await startToneStream(t, { format: 'mp3', frequencyHz: 440 });
  const id = await source({ name: 'Đài tỉnh', urls: [a.url], areaCode: '99', restream: true });
  const url = `${base}/streams/${id}`;
  const [gone, stays] = [await box('99003'), await box('99003')];
  const g1 = await tuneIn(t, url, gone.auth);
  const g2 = await tuneIn(t, url, gone.auth);
  const s1 = await tuneIn(t, url, stays.auth);
  t.same([g1.status, g2.status, s1.status], [200, 200, 200]);
  await waitFor('every listener hearing 440 Hz', () => (hearing(g1, 440) && hearing(g2, 440) && hearing(s1, 440) ? true : null), 10_000);

  // Issue 15 review, finding 3: one credential may not open any number of listeners.
  const third = await fetch(url, { headers: { authorization: gone.auth } });
  t.equal(third.status, 429, 'a third stream of the same box is refused');
  if (third.status === 429) t.match(((await third.json()) as { error: { code: string; message: string } }).error, { code: 'LOAXA_RATE_LIMITED', message: /already has 2 streams of source .* open, the most allowed/ });
  else await third.body?.cancel();
  t.equal(restream.listenersOf(gone.id), 2);

  // Issue 15 review, finding 2: revoking a listening box ends its streams within a second; the other box stays.
  const revokedAt = performance.now();
  t.equal((await api('POST', `/api/v1/devices/${gone.id}/revoke`, {}, token)).status, 200);
  await waitFor('the revoked box’s streams to end', () => (g1.endedAt !== null && g2.endedAt !== null ? true : null), 2_000, 20);
  t.ok(Math.max(g1.endedAt!, g2.endedAt!) - revokedAt < 1_000, `cut ${Math.round(Math.max(g1.endedAt!, g2.endedAt!) - revokedAt)} ms after the revocation`);
  t.equal(restream.listenersOf(gone.id), 0);
  t.equal((await fetch(url, { headers: { authorization: gone.auth } })).status, 401, 'and refused when it comes back');
  const heardBefore = s1.seconds();
  await new Promise((r) => setTimeout(r, 1_500));
  t.equal(s1.endedAt, null, 'the other box keeps listening');
  t.ok(s1.seconds() - heardBefore > 1, 'and keeps receiving audio');
  t.match(restream.status(), [{ sourceId: id, listeners: 1 }]);
  // A stream closed by the box frees its slot: the cap counts open streams only.
  const s2 = await tuneIn(t, url, stays.auth);
  s2.close();
  await waitFor('the closed stream to be let go', () => (restream.listenersOf(stays.id) === 1 ? true : null), 2_000);
  const s3 = await tuneIn(t, url, stays.auth);
  t.equal(s3.status, 200, 'a box that closed a stream may open another');
  s3.close();
});

t.test('narrowing a source’s area cuts the listeners of boxes outside it at the next refresh', { timeout: 60_000 }, async (t) => {
  const { base, api, token, restream, box, source } = await setup(t);
  const a = await startToneStream(t, { format: 'mp3', frequencyHz: 440 });
  const id = await source({ name: 'Đài tỉnh', urls: [a.url], areaCode: null, restream: true });
  const url = `${base}/streams/${id}`;
  const [here, there] = [await box('99003'), await box('98001')];
  const lh = await tuneIn(t, url, here.auth);
  const lt = await tuneIn(t, url, there.auth);
  await waitFor('both hearing 440 Hz', () => (hearing(lh, 440) && hearing(lt, 440) ? true : null), 10_000);
  const r = await api('PATCH', `/api/v1/sources/${id}`, { areaCode: '99' }, token);
  t.equal(r.status, 200, JSON.stringify(r.body));
  // The puller reads its source every 5 s (refreshMs).
  await waitFor('the other province’s box to be cut', () => lt.endedAt, 7_000);
  t.pass('the box outside the narrowed area was cut');
  t.equal(lh.endedAt, null, 'the box inside keeps listening');
  t.equal(restream.listenersOf(there.id), 0);
  t.equal(restream.listenersOf(here.id), 1);
});

t.test('a source gone silent is left after 6 s, so the boxes hear the next URL before their own 10 s rule', { timeout: 60_000 }, async (t) => {
  const { base, box, source } = await setup(t);
  const a = await startToneStream(t, { format: 'mp3', frequencyHz: 440 });
  const b = await startToneStream(t, { format: 'aac', frequencyHz: 660 });
  const id = await source({ name: 'Đài tỉnh (FM)', urls: [a.url, b.url], areaCode: '99', restream: true });
  const l = await tuneIn(t, `${base}/streams/${id}`, (await box('99003')).auth);
  await waitFor('hearing 440 Hz', () => (hearing(l, 440) ? true : null), 10_000);
  const quietAt = performance.now();
  a.setSilent(true);
  await waitFor('hearing 660 Hz', () => (hearing(l, 660) ? true : null), 12_000);
  const after = performance.now() - quietAt;
  t.ok(after > 5_500 && after < 9_000, `the box hears a full second of the next URL ${Math.round(after)} ms after the source went quiet: before its own 10 s`);
  t.equal(l.endedAt, null, 'on the same connection');
});

t.test('shutting the server down ends the listeners and leaves no ffmpeg', async (t) => {
  const { base, server, restream, box, source } = await setup(t);
  const a = await startToneStream(t, { format: 'ogg', frequencyHz: 550 });
  const id = await source({ name: 'Đài huyện', urls: [a.url], areaCode: '99', restream: true });
  const l = await tuneIn(t, `${base}/streams/${id}`, (await box('99003')).auth);
  await waitFor('hearing 550 Hz', () => (hearing(l, 550) ? true : null), 10_000);
  const pids = restream.pids();
  t.ok(pids.length >= 2 && pids.every(alive), 'the restream’s ffmpeg run');
  await server.stop();
  t.same(pids.filter(alive), [], 'every ffmpeg of the restream has exited when stop resolves');
  await waitFor('the listener’s stream to end', () => l.endedAt, 2_000);
  await waitFor('the upstream connection to close', () => (a.clients() === 0 ? true : null), 2_000);
  t.pass('the listener was ended and the source let go');
});

t.test('simulated boxes relay a restreamed source with their own credentials: one pull for all', { timeout: 90_000 }, async (t) => {
  const { api, token, base, dataDir, server, restream, source } = await setup(t);
  const a = await startToneStream(t, { format: 'mp3', frequencyHz: 440 });
  const sim = await startSimulation({
    serverUrl: base,
    count: 2,
    areaCode: '99003',
    stateFile: join(dataDir, 'sim.json'),
    logger: pino({ level: 'silent' }),
    username: 'admin',
    password: ADMIN_PASSWORD,
    startSpreadMs: 0,
    agentConfig: { ffmpegPath: ffmpegBin() },
  });
  t.teardown(() => sim.stop());
  t.equal(await sim.waitForConnections(10_000), 2, 'boxes connected');
  const id = await source({ name: 'VOV1 (qua máy chủ)', urls: [a.url], areaCode: '99', restream: true });
  const bulletin = (await api('POST', '/api/v1/bulletins/relay', { title: 'Tiếp sóng qua máy chủ', sourceId: id, durationMs: 60_000 }, token)).body;
  const cast = await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['99003'] } }, token);
  t.equal(cast.status, 201);
  const restreamUrl = `${base}/streams/${id}`;

  const rows = (): Array<{ deviceId: string; url: string | null; cause: string }> =>
    server.ctx.db.prepare('SELECT device_id AS deviceId, url, cause FROM relay_log WHERE broadcast_id = ? ORDER BY at, id').all(cast.body.id) as Array<{ deviceId: string; url: string | null; cause: string }>;
  await waitFor('both boxes relaying the restream', () => (rows().filter((r) => r.cause === 'started' && r.url === restreamUrl).length === 2 ? true : null), 15_000);
  t.pass('the boxes were sent the server’s URL and were let in with their own credentials');
  await waitFor('audio on both speakers', () => (sim.boxes.every((b) => b.sink.audibleMs > 3_000) ? true : null), 15_000);
  t.equal(a.clients(), 1, 'the source is pulled once for both boxes');
  t.match(restream.status(), [{ sourceId: id, listeners: 2, url: a.url }]);
  t.same(rows().filter((r) => r.cause !== 'started'), [], 'no failover, no error on any box');

  t.equal((await api('POST', `/api/v1/broadcasts/${cast.body.id}/cancel`, {}, token)).status, 200);
  await waitFor('both boxes to end the relay', () => (rows().filter((r) => r.cause === 'ended').length === 2 ? true : null), 10_000);
  t.pass('both boxes stopped the relay when it was cancelled');
  await waitFor('the restream to let go of the source', () => (a.clients() === 0 && restream.status().length === 0 ? true : null), 10_000);
  t.pass('the source is let go once the boxes stop listening');
});

t.test('fan-out: a joiner’s burst starts on a frame; a listener that falls behind is dropped, the others keep going', async (t) => {
  const frameBytes = 192;
  const fan = new Fanout({ burstBytes: 4 * frameBytes, maxBacklogBytes: 1_000, frameBytes });
  const fake = () => ({ got: [] as Buffer[], writableLength: 0, ended: false, destroyed: false, write(c: Buffer) { this.got.push(c); }, end() { this.ended = true; }, destroy() { this.destroyed = true; } });
  // Frames numbered by their first byte, sent in chunks that cut frames anywhere.
  const stream = Buffer.concat(Array.from({ length: 20 }, (_, i) => Buffer.alloc(frameBytes, i)));
  const slow = fake();
  const steady = fake();
  fan.add(slow);
  fan.add(steady);
  t.same(steady.got, [], 'nothing to burst before the first output');
  for (let at = 0; at < 10 * frameBytes; at += 100) fan.push(stream.subarray(at, Math.min(at + 100, 10 * frameBytes)));
  const joiner = fake();
  fan.add(joiner);
  const burst = joiner.got[0]!;
  t.equal(burst.length % frameBytes, 0, 'the burst is whole frames');
  t.ok(burst.length >= 4 * frameBytes && burst.length < 6 * frameBytes, `about burstBytes of the latest output (${burst.length} bytes)`);
  t.equal(burst[0], 10 - burst.length / frameBytes, 'it starts at the first byte of a frame, and ends with the latest');

  slow.writableLength = 1_001;
  fan.push(stream.subarray(10 * frameBytes, 11 * frameBytes));
  t.ok(slow.destroyed, 'more than maxBacklogBytes queued: dropped');
  t.equal(fan.dropped, 1);
  t.equal(fan.size, 2);
  t.equal(Buffer.concat(steady.got).length, 11 * frameBytes, 'the steady listener got every byte, in order');
  t.ok(Buffer.concat(steady.got).equals(stream.subarray(0, 11 * frameBytes)));
  fan.endAll();
  t.ok(steady.ended && joiner.ended && !slow.ended, 'the end reaches the listeners still there');
  t.equal(fan.size, 0);
});

t.test('a check of a source the restream pulls takes no second upstream slot (issue 15 review)', async (t) => {
  const { base, api, token, box, source } = await setup(t);
  const a = await startToneStream(t, { format: 'mp3', frequencyHz: 440 });
  const b = await startToneStream(t, { format: 'mp3', frequencyHz: 660 });
  const id = await source({ name: 'Đài ít suất nghe', urls: [a.url, b.url], areaCode: '99', restream: true });
  const listener = await tuneIn(t, `${base}/streams/${id}`, (await box('99003')).auth);
  await waitFor('the box hearing the first URL', () => (hearing(listener, 440) ? true : null), 10_000);
  t.equal(a.clients(), 1);

  let most = 0;
  const watch = setInterval(() => (most = Math.max(most, a.clients())), 20);
  const checked = await api('POST', `/api/v1/sources/${id}/check`, {}, token);
  clearInterval(watch);
  t.equal(checked.status, 200);
  t.equal(most, 1, 'the URL being restreamed was never opened a second time during the check');
  t.match(checked.body.checks, [{ url: a.url, status: 'up' }, { url: b.url, status: 'up' }], 'it is up, from the restream’s hearing; the other URL was checked as usual');
  t.ok(b.clients() === 0, 'the check of the second URL has let go');
});
