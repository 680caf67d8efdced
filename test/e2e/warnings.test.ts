/**
 * Issue 18, "Proof", end to end: a real server, 24 simulated boxes running the real agent (their player decodes
 * each file with ffmpeg in real time), a CAP feed served on this machine and pulled by the server's own poller.
 *
 * - 20 boxes of Tân Lập air a normal programme (two recorded items, `resume`). A flash-flood alert (level 4,
 *   Extreme, Immediate) appears in the feed: it is pulled, its Vietnamese announcement is synthesized with the
 *   attention signal before it, and it airs as an emergency on every box, cutting into the programme, which
 *   resumes where it stopped. The time from the feed change to the first box playing is measured (goal ≤ 60 s,
 *   synthesis included); it is repeated every minute until it expires, and not after.
 * - 4 boxes of Hưng Đạo get a second alert, also repeated every minute; a `Cancel` for it in the feed stops it:
 *   no airing after the Cancel is taken.
 * The whole scene takes about four minutes (the repeats are a minute apart).
 */
import t from 'tap';
import { createServer } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { capDateTimeToMs, formatCapDateTime, type CapAlertInput } from '@loaxa/shared';
import { startSimulation } from '../../firmware-sim/src/index.js';
import { writeAtomFeed } from '../../server/src/warnings/cap-write.js';
import { startTestServer, importSampleAreas, ADMIN_PASSWORD } from '../helpers/server.js';
import { ffmpegBin } from '../helpers/streams.js';
import { alert as capAlert } from '../warnings/server-helpers.js';
import { uploadTone } from '../helpers/programmes.js';
import { waitFor } from '../helpers/wait.js';

const BOXES = 20;
const GOAL_MS = 60_000;
// The scene runs about three and a half minutes: past tap's default for one file.
t.setTimeout(480_000);

/** The warning tests' CAP alert (test/warnings/server-helpers.ts), level 4 and observed, for one commune. */
function alert(id: string, areaCode: string, areaName: string, expiresAt: number, o: Partial<CapAlertInput> = {}): CapAlertInput {
  return capAlert(
    { identifier: id, ...o },
    {
      certainty: 'Observed',
      expires: formatCapDateTime(expiresAt),
      description: 'Mưa rất to trên thượng nguồn, nước suối lên nhanh.',
      instruction: 'Không qua suối, di chuyển lên vùng cao.',
      parameter: [{ valueName: 'VN-QD18-2021-CapDoRuiRo', value: '4' }],
      area: [{ areaDesc: areaName, geocode: [{ valueName: 'MaDVHC', value: areaCode }] }],
    },
  );
}

t.test(`a CAP alert from a feed airs as an emergency on ${BOXES} boxes within a minute, repeats until it expires, and a Cancel stops another`, { timeout: 420_000 }, async (t) => {
  const { api, token, base, dataDir, server } = await startTestServer(t, { sourceCheckSeconds: 0 });
  await importSampleAreas(api, token);

  // The feed: an Atom document the test rewrites, with its ETag.
  let feed = { body: '', etag: '"0"' };
  const feedServer = createServer((req, res) => {
    if (req.headers['if-none-match'] === feed.etag) return void res.writeHead(304, { etag: feed.etag }).end();
    res.writeHead(200, { 'content-type': 'application/atom+xml', etag: feed.etag }).end(feed.body);
  });
  await new Promise<void>((r) => feedServer.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => feedServer.close(() => r())));
  const feedUrl = `http://127.0.0.1:${(feedServer.address() as AddressInfo).port}/canh-bao.atom`;
  let version = 0;
  const publish = (alerts: CapAlertInput[]) => {
    feed = { body: writeAtomFeed({ id: feedUrl, title: 'Cảnh báo thiên tai tỉnh Mẫu', author: { name: 'Đài KTTV tỉnh Mẫu' }, entries: alerts.map((alert) => ({ alert })) }), etag: `"${++version}"` };
  };
  publish([]);
  const source = await api('POST', '/api/v1/warning-sources', {
    name: 'Đài KTTV tỉnh Mẫu',
    kind: 'feed',
    feedUrl,
    pollSeconds: 15,
    areaCodes: ['99'],
    policy: { repeatMinutes: 1, attention: true },
  }, token);
  t.equal(source.status, 201, 'the feed source is set', { body: source.body });

  const sim = await startSimulation({ serverUrl: base, count: BOXES, areaCode: '99003', stateFile: join(dataDir, 'sim.json'), logger: pino({ level: 'silent' }), username: 'admin', password: ADMIN_PASSWORD, startSpreadMs: 0, agentConfig: { ffmpegPath: ffmpegBin() } });
  t.teardown(() => sim.stop());
  const other = await startSimulation({ serverUrl: base, count: 4, areaCode: '99004', stateFile: join(dataDir, 'sim-hd.json'), logger: pino({ level: 'silent' }), username: 'admin', password: ADMIN_PASSWORD, startSpreadMs: 0, agentConfig: { ffmpegPath: ffmpegBin() } });
  t.teardown(() => other.stop());
  t.equal(await sim.waitForConnections(20_000), BOXES, 'Tân Lập’s boxes connected');
  t.equal(await other.waitForConnections(20_000), 4, 'Hưng Đạo’s boxes connected');

  // A normal programme: a 75 s item, then a 6 s one, broadcast with `resume`: the warning comes during the first.
  const long = await uploadTone(base, token, { hz: 440, seconds: 75, title: 'Nhạc dân ca', tremoloHz: 2 });
  const short = await uploadTone(base, token, { hz: 660, seconds: 6, title: 'Lời chào' });
  const programme = await api('POST', '/api/v1/programmes', { title: 'Chương trình buổi sáng', items: [{ kind: 'bulletin', bulletinId: long.id }, { kind: 'bulletin', bulletinId: short.id }] }, token);
  t.equal(programme.status, 201, 'the programme is saved', { body: programme.body });
  const startAt = Date.now() + 6_000;
  const cast = await api('POST', '/api/v1/broadcasts', { bulletinId: programme.body.id, target: { areaCodes: ['99003'] }, startAt: new Date(startAt).toISOString(), resume: 'resume' }, token);
  t.equal(cast.status, 201, 'the programme is broadcast', { body: cast.body });
  const programmeId = cast.body.id as string;
  await waitFor('the programme on air', () => (Date.now() >= startAt + 3_000 ? true : null), 30_000, 50);

  // The alert appears in the feed; nobody touches the server.
  const flood = alert(`kttv-lq-${process.pid}`, '99003', 'xã Tân Lập', Date.now() + 150_000);
  const other1 = alert(`kttv-lq-hd-${process.pid}`, '99004', 'xã Hưng Đạo', Date.now() + 600_000);
  publish([flood, other1]);
  const changedAt = Date.now();

  const warnings = await waitFor('both warnings taken and their audio ready', async () => {
    const items = (await api('GET', '/api/v1/warnings', undefined, token)).body.items as Array<{ id: string; identifier: string; state: string; versions: Array<{ bulletinId: string | null; broadcastId: string | null }> }>;
    const found = [flood, other1].map((a) => items.find((w) => w.identifier === a.identifier));
    if (found.some((w) => !w?.versions[0]?.broadcastId)) return null;
    return found as Array<NonNullable<(typeof found)[number]>>;
  }, GOAL_MS + 30_000, 200);
  const [tl, hd] = warnings as [(typeof warnings)[number], (typeof warnings)[number]];
  t.equal(tl.state, 'airing');
  const sha = (await api('GET', `/api/v1/bulletins/${tl.versions[0]!.bulletinId}`, undefined, token)).body.audio.sha256 as string;
  const hdSha = (await api('GET', `/api/v1/bulletins/${hd.versions[0]!.bulletinId}`, undefined, token)).body.audio.sha256 as string;
  const airings = (box: (typeof sim.boxes)[number], hash: string) => box.player.decoded.filter((d) => d.file.includes(hash));

  const firstPlay = await waitFor('the first box playing the warning', () => {
    const starts = sim.boxes.flatMap((b) => airings(b, sha).map((d) => d.startedAt));
    return starts.length ? Math.min(...starts) : null;
  }, GOAL_MS, 20);
  const latency = firstPlay - changedAt;
  // Where the time went: the poll (every 15 s), the synthesis (the announcement, with the attention signal), the rest.
  const taken = Date.parse((await api('GET', `/api/v1/warnings/${tl.id}`, undefined, token)).body.versions[0].receivedAt as string);
  const ready = Date.parse((await api('GET', `/api/v1/broadcasts/${tl.versions[0]!.broadcastId}`, undefined, token)).body.createdAt as string);
  t.comment(`feed change → first box playing: ${(latency / 1000).toFixed(1)} s = taken from the feed after ${((taken - changedAt) / 1000).toFixed(1)} s, audio made and broadcast after ${((ready - taken) / 1000).toFixed(1)} s more, first box playing ${((firstPlay - ready) / 1000).toFixed(1)} s later`);
  t.ok(latency <= GOAL_MS, `within a minute of the feed change (${(latency / 1000).toFixed(1)} s)`);
  await waitFor('every box airing the warning', () => (sim.boxes.every((b) => airings(b, sha).length > 0) ? true : null), 20_000, 50);
  const spread = Math.max(...sim.boxes.map((b) => airings(b, sha)[0]!.startedAt)) - firstPlay;
  t.comment(`first to last box: ${spread.toFixed(0)} ms`);

  // Hưng Đạo's second airing, then the source cancels that warning.
  await waitFor('Hưng Đạo’s warning aired twice', () => (other.boxes.every((b) => airings(b, hdSha).filter((d) => d.completed).length >= 2) ? true : null), 150_000, 200);
  publish([flood, other1, alert(`kttv-lq-hd-cancel-${process.pid}`, '99004', 'xã Hưng Đạo', Date.now() + 600_000, { msgType: 'Cancel', references: [{ sender: other1.sender, identifier: other1.identifier, sent: other1.sent }] })]);
  await waitFor('the Cancel taken', async () => ((await api('GET', `/api/v1/warnings/${hd.id}`, undefined, token)).body.state === 'cancelled' ? true : null), 40_000, 200);
  const cancelledAt = Date.now();
  const hdCounts = other.boxes.map((b) => airings(b, hdSha).length);

  // Tân Lập's warning expires 150 s after it was published: it airs every minute from when its audio was ready
  // until then (its broadcast's `every` schedule; the expiry itself excluded), then no more.
  const expiresAt = capDateTimeToMs(flood.info![0]!.expires!)!;
  const plan = (await api('GET', `/api/v1/broadcasts/${tl.versions[0]!.broadcastId}`, undefined, token)).body.schedule as { kind: string; from: string; until: string; minutes: number };
  t.match(plan, { kind: 'every', minutes: 1 }, 'a repeat every minute');
  t.equal(Date.parse(plan.until), expiresAt, 'until the warning expires');
  const expected = Math.ceil((expiresAt - Date.parse(plan.from)) / 60_000);
  t.ok(expected >= 2, `${expected} airings before it expires`);
  await waitFor('past the warning’s expiry and a minute more', () => (Date.now() > Math.max(expiresAt, cancelledAt) + 65_000 ? true : null), 240_000, 500);
  for (const box of sim.boxes) {
    const runs = airings(box, sha);
    const starts = runs.map((d) => d.startedAt);
    t.equal(runs.length, expected, `${box.id}: aired every minute until it expired: ${starts.map((s) => `${((s - firstPlay) / 1000).toFixed(0)} s`).join(', ')}`);
    t.ok(starts.every((s) => s < expiresAt), `${box.id}: never after it expired`);
  }
  t.same(other.boxes.map((b) => airings(b, hdSha).length), hdCounts, 'no airing of the cancelled warning after the Cancel');
  t.equal((await api('GET', `/api/v1/warnings/${tl.id}`, undefined, token)).body.state, 'expired', 'the warning shows it expired');

  // The programme was cut by the first airing and resumed where it stopped; every box played it through.
  const detail = await waitFor('every box to finish the programme', async () => {
    const b = (await api('GET', `/api/v1/broadcasts/${programmeId}`, undefined, token)).body;
    return b.deliveries?.length === BOXES && b.deliveries.every((d: { state: string }) => ['played', 'failed', 'missed'].includes(d.state)) ? b : null;
  }, 60_000);
  t.equal(detail.summary.played, BOXES, 'the programme played on every box');
  const longSha = (await api('GET', `/api/v1/bulletins/${long.id}`, undefined, token)).body.audio.sha256 as string;
  for (const box of sim.boxes) {
    const parts = box.player.decoded.filter((d) => d.file.includes(longSha));
    const first = airings(box, sha)[0]!;
    t.ok(parts.length >= 2, `${box.id}: the long item was cut by the warning and resumed (${parts.length} parts)`);
    if (parts.length < 2) continue;
    t.ok(parts[0]!.endedAt! <= first.startedAt + 50, `${box.id}: the programme stopped for the warning`);
    t.ok(parts[1]!.offsetMs > 1_000 && parts[1]!.startedAt >= first.endedAt!, `${box.id}: it resumed at ${Math.round(parts[1]!.offsetMs)} ms, after the warning`);
  }

  // The as-run per warning: which box aired which version when.
  const asRun = (await api('GET', `/api/v1/warnings/${tl.id}/as-run`, undefined, token)).body;
  const played = asRun.items.filter((i: { state: string }) => i.state === 'played');
  t.equal(new Set(played.map((i: { deviceId: string }) => i.deviceId)).size, BOXES, 'the as-run lists every box');
  t.equal(played.length, expected * BOXES, `${expected} airings on each`);
  t.ok(played.every((i: { version: number }) => i.version === 1));
  t.equal(server.warnings.sources.get(source.body.id)?.disabledAt ?? null, null);
});
