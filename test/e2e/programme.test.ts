/**
 * A commune programme end to end (issue 15, "Proof"): a real server, 20 simulated boxes running the real agent
 * (the simulated player records when each file's decoding started and ended; the relay's audio is really pulled
 * and decoded with ffmpeg and counted by the box's sink), and a radio stream made on this machine. The
 * programme has four items — the built-in bell, a bulletin, a one-minute relay segment, a closing bulletin —
 * and is broadcast with `resume`. Two emergencies interrupt it: one during the bulletin (the programme then
 * continues at that bulletin, where it stopped), one during the relay segment (the relay continues live and
 * still ends on time: its end was fixed when it began). What a listener and the province would notice:
 * every box airs every item once, in order, with gaps under 200 ms between files; the relay ends on time and
 * the closing bulletin follows it at once; the as-run lists the programme with its items on every box.
 * A relay segment lasts at least a minute (RELAY_MIN_DURATION_MS), so this test takes about a minute and a half.
 */
import t from 'tap';
import { join } from 'node:path';
import { pino } from 'pino';
import { startSimulation } from '../../firmware-sim/src/index.js';
import { startTestServer, importSampleAreas, ADMIN_PASSWORD } from '../helpers/server.js';
import { ffmpegBin, startToneStream } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';

const BOXES = 20;
const RELAY_MS = 60_000;
const GAP_LIMIT_MS = 200;

interface AsRunItem {
  broadcastId: string;
  state: string;
  programme?: { version: number; items: Array<{ index: number; kind: string; state: string | null; startedAt: string | null; endedAt: string | null; airedMs: number | null; reason: string | null }> };
}

t.test(`a four-item programme with a relay segment, interrupted twice by emergencies, on ${BOXES} boxes`, { timeout: 240_000 }, async (t) => {
  const { api, token, base, dataDir } = await startTestServer(t, { sourceCheckSeconds: 0 });
  await importSampleAreas(api, token);
  const tone = await startToneStream(t, { format: 'mp3', frequencyHz: 440 });

  const sim = await startSimulation({
    serverUrl: base,
    count: BOXES,
    areaCode: '99003',
    stateFile: join(dataDir, 'sim.json'),
    logger: pino({ level: 'silent' }),
    username: 'admin',
    password: ADMIN_PASSWORD,
    startSpreadMs: 0,
    agentConfig: { ffmpegPath: ffmpegBin() },
  });
  t.teardown(() => sim.stop());
  t.equal(await sim.waitForConnections(20_000), BOXES, 'boxes connected');

  const ready = async (title: string, text: string): Promise<{ id: string; durationMs: number; sha256: string }> => {
    const made = await api('POST', '/api/v1/bulletins', { title, text }, token);
    const id = made.body.id as string;
    const b = await waitFor(`“${title}” synthesized`, async () => {
      const r = (await api('GET', `/api/v1/bulletins/${id}`, undefined, token)).body;
      return r.status === 'ready' ? r : null;
    }, 60_000);
    return { id, durationMs: b.audio.durationMs as number, sha256: b.audio.sha256 as string };
  };
  const news = await ready('Tin xã', 'Ủy ban nhân dân xã thông báo: từ ngày mai, bà con đưa trẻ đi tiêm phòng tại trạm y tế xã, từ bảy giờ sáng đến mười một giờ trưa.');
  const closing = await ready('Lời chào', 'Chương trình phát thanh của xã đến đây là hết. Xin chào và hẹn gặp lại.');
  const alarm = await ready('Khẩn cấp', 'Khẩn cấp: nước sông đang lên nhanh.');
  const source = await api('POST', '/api/v1/sources', { name: 'VOV1 (thử)', urls: [tone.url], areaCode: null }, token);
  t.equal(source.status, 201, 'the source is registered');

  const programme = await api(
    'POST',
    '/api/v1/programmes',
    {
      title: 'Chương trình phát thanh xã',
      items: [
        { kind: 'chime', bell: 'intro' },
        { kind: 'bulletin', bulletinId: news.id },
        { kind: 'relay', sourceId: source.body.id, durationMs: RELAY_MS },
        { kind: 'bulletin', bulletinId: closing.id },
      ],
    },
    token,
  );
  t.equal(programme.status, 201, 'the programme is saved', { body: programme.body });
  t.equal(programme.body.version, 1);
  const bellMs = programme.body.items[0].durationMs as number;

  // Broadcast a few seconds ahead, so that every box fetches every file before air time.
  const startAt = Date.now() + 6_000;
  const cast = await api('POST', '/api/v1/broadcasts', { bulletinId: programme.body.id, target: { areaCodes: ['99003'] }, startAt: new Date(startAt).toISOString(), resume: 'resume' }, token);
  t.equal(cast.status, 201, 'broadcast to the commune', { body: cast.body });
  t.equal(cast.body.devices, BOXES);
  const broadcastId = cast.body.id as string;

  const emergency = async (label: string): Promise<number> => {
    const r = await api('POST', '/api/v1/broadcasts', { bulletinId: alarm.id, priority: 'emergency', target: { areaCodes: ['99003'] } }, token);
    t.equal(r.status, 201, `${label}: the emergency goes out`, { body: r.body });
    return Date.now();
  };
  // The first emergency 1.5 s into the bulletin; the second 20 s into the relay segment.
  await waitFor('the bulletin on air', () => (Date.now() >= startAt + bellMs + 1_500 ? true : null), 30_000, 20);
  await emergency('during the bulletin');
  const relayFrom = startAt + bellMs + news.durationMs + alarm.durationMs;
  await waitFor('20 s into the relay segment', () => (Date.now() >= relayFrom + 20_000 ? true : null), 60_000, 50);
  await emergency('during the relay');

  const detail = await waitFor(
    'every box to finish the programme',
    async () => {
      const b = (await api('GET', `/api/v1/broadcasts/${broadcastId}`, undefined, token)).body;
      return b.deliveries?.length === BOXES && b.deliveries.every((d: { state: string }) => ['played', 'failed', 'missed'].includes(d.state)) ? b : null;
    },
    RELAY_MS + 60_000,
  );
  t.equal(detail.summary.played, BOXES, 'the programme played on every box');

  // The as-run: the programme and its items on every box.
  const span = `from=${encodeURIComponent(new Date(startAt - 3600_000).toISOString())}&to=${encodeURIComponent(new Date(startAt + 3600_000).toISOString())}`;
  const asRun = (await api('GET', `/api/v1/reports/as-run?area=99003&${span}`, undefined, token)).body;
  const devices = asRun.communes[0].devices as Array<{ deviceId: string; items: AsRunItem[] }>;
  t.equal(devices.length, BOXES);
  let worstGap = 0;
  for (const d of devices) {
    const aired = d.items.find((i) => i.broadcastId === broadcastId)!;
    t.equal(aired.state, 'played', `${d.deviceId}: played`);
    const items = aired.programme!.items;
    t.same(items.map((i) => `${i.index}:${i.kind}:${i.state}`), ['0:chime:played', '1:bulletin:played', '2:relay:played', '3:bulletin:played'], `${d.deviceId}: every item played, in order`);
    // The bulletin was interrupted and resumed where it stopped: it aired its own length once, not twice.
    t.ok(Math.abs(items[1]!.airedMs! - news.durationMs) < 500, `${d.deviceId}: the bulletin aired ${items[1]!.airedMs} ms of its ${news.durationMs} ms`);
    // The relay continued live after the second emergency and ended at its fixed end, a minute after it began.
    const relayStart = Date.parse(items[2]!.startedAt!);
    const relayEnd = Date.parse(items[2]!.endedAt!);
    t.ok(Math.abs(relayEnd - relayStart - RELAY_MS) < 1_500, `${d.deviceId}: the relay segment ended ${relayEnd - relayStart} ms after it began (not pushed back by the emergency)`);
    t.ok(items[2]!.airedMs! < RELAY_MS - alarm.durationMs + 1_000 && items[2]!.airedMs! > RELAY_MS - alarm.durationMs - 6_000, `${d.deviceId}: it aired ${items[2]!.airedMs} ms: the minute less the emergency`);

    // On the box's own player: the gaps between files, and the closing bulletin right after the relay's end.
    const box = sim.boxes.find((b) => b.id === d.deviceId)!;
    const decoded = box.player.decoded;
    const alarmRuns = decoded.filter((x) => x.file.includes(alarm.sha256));
    t.equal(alarmRuns.filter((x) => x.completed).length, 2, `${d.deviceId}: both emergencies aired whole`);
    const programmeFiles = decoded.filter((x) => !alarmRuns.includes(x));
    t.equal(programmeFiles.length, 4, `${d.deviceId}: bell, bulletin (in two parts), closing bulletin`);
    const [bell, part1, part2, last] = programmeFiles as [typeof decoded[number], typeof decoded[number], typeof decoded[number], typeof decoded[number]];
    t.equal(part1.file, part2.file, 'the bulletin’s two parts are one file');
    t.ok(part2.offsetMs > 1_000, `${d.deviceId}: its second part began at ${Math.round(part2.offsetMs)} ms, where it stopped`);
    const bellToNews = part1.startedAt - bell.endedAt!;
    const relayToClosing = last.startedAt - relayEnd;
    worstGap = Math.max(worstGap, bellToNews, relayToClosing);
    t.ok(bellToNews >= 0 && bellToNews < GAP_LIMIT_MS, `${d.deviceId}: bell → bulletin gap ${bellToNews.toFixed(1)} ms`);
    t.ok(relayToClosing < GAP_LIMIT_MS, `${d.deviceId}: relay end → closing bulletin gap ${relayToClosing.toFixed(1)} ms`);
    t.ok(box.sink.audibleMs > (items[2]!.airedMs! * 0.9), `${d.deviceId}: its speaker got ${Math.round(box.sink.audibleMs)} ms of the stream`);
  }
  t.comment(`worst gap between items over ${BOXES} boxes: ${worstGap.toFixed(1)} ms`);

  // The relay report covers the programme's relay segment too.
  const relays = (await api('GET', `/api/v1/reports/relays?broadcastId=${broadcastId}&occurrenceAt=${encodeURIComponent(new Date(startAt).toISOString())}`, undefined, token)).body;
  t.equal(relays.items.length, BOXES, 'the relay report lists the segment on every box');
  t.ok((relays.items as Array<{ sourceName: string | null }>).every((i) => i.sourceName === 'VOV1 (thử)'), 'naming its source');
});
