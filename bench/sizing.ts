/**
 * `npm run bench:sizing` (issue 21): what one box costs the server, measured, for the sizing table of README
 * (provinces of 1,000, 5,000 and 20,000 boxes). Results: bench/results/sizing.json and the `sizing` block of
 * bench/README.md.
 *
 * - Disk per box per day, from a real SQLite file: the real server (`npm start`'s Node options, temp data dir,
 *   loopback, the embedded broker) and BENCH_SIZING_BOXES boxes (default 100) of the firmware simulator's fleet
 *   live through a compressed day: BENCH_SIZING_DAY_FRACTION of a day's heartbeats (default 1/8: 360 per box,
 *   sent every 250 ms instead of every 30 s) and BENCH_SIZING_BROADCASTS broadcasts (default 6, a commune's day:
 *   morning and evening bulletins, province relays; each played by every box and reported acknowledged, cached,
 *   playing, played). Each table's bytes (SQLite's `dbstat`) are read after connecting, after the heartbeats
 *   (once the server has folded its heartbeat log) and after the broadcasts; then the server stops and the file
 *   is read again. Heartbeat growth is scaled up to a whole day; broadcast growth is per broadcast and per day.
 * - MQTT bytes per box: what the boxes' processes read and wrote (rchar/wchar of /proc/<pid>/io: TCP payload,
 *   MQTT headers included, TCP/IP headers not), per heartbeat and per broadcast, minus the fleet's IPC chatter
 *   measured while idle.
 * - Audio bytes per bulletin: the Opus bitrate of the media bench's 5-minute bulletin (results/media.json).
 * - CPU and memory per box: from the 10,000-box runs in results/heartbeat.json and results/connect.json
 *   (server CPU-s per heartbeat minute, CPU-s of a connect storm, peak RSS), against this run's server with few
 *   boxes for the fixed part.
 *
 * Bounded by BENCH_TIMEOUT_MS (default 400 s): past it, or on Ctrl-C, every process is killed and the temp dir
 * removed. BENCH_WRITE=0 prints only.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { startFleet, type Fleet } from '../firmware-sim/src/index.js';
import { updateReadmeBlock } from './readme-block.js';
import { Cleanup, loadAverage, memoryMiB, sleep } from './scale/proc.js';
import { settle, type PhaseContext } from './scale/phases.js';
import { SERVER_NODE_ARGS, startOurs, type Target } from './scale/targets.js';
import type { RunResults } from './scale/report.js';

const BOXES = Number(process.env.BENCH_SIZING_BOXES ?? 100);
const DAY_FRACTION = Number(process.env.BENCH_SIZING_DAY_FRACTION ?? 0.125);
const BROADCASTS = Number(process.env.BENCH_SIZING_BROADCASTS ?? 6);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 400_000);
const WRITE = process.env.BENCH_WRITE !== '0';
const HEARTBEATS_PER_DAY = 86_400 / 30;
/** Compressed heartbeat period: a day's share in ~90 s for the default fraction. */
const FAST_PERIOD_MS = 250;
const PROVINCES = [1_000, 5_000, 20_000];
/** A typical bulletin: five minutes (the media bench's 313 s bulletin is the measured bitrate). */
const BULLETIN_S = 300;
const HERE = new URL('.', import.meta.url);

const started = Date.now();
const log = (s: string): void => void process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${s}\n`);
const cleanup = new Cleanup();
const remaining = (): number => TIMEOUT_MS - (Date.now() - started);

async function abort(why: string, code: number): Promise<never> {
  log(`bench:sizing: ${why}; stopping every process it started`);
  cleanup.killNow();
  await Promise.race([cleanup.run(log), sleep(10_000)]);
  process.exit(code);
}

type TableBytes = Record<string, number>;

/** Bytes of each table and index (with their overflow pages), and the file's pages in use, read-only. */
function tableBytes(file: string): { tables: TableBytes; usedBytes: number; fileBytes: number } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables: TableBytes = {};
    // dbstat's `name` is the table or index; indexes are counted with their table (sqlite_master.tbl_name).
    const rows = db.prepare(`SELECT COALESCE(m.tbl_name, s.name) AS t, SUM(s.pgsize) AS bytes FROM dbstat s LEFT JOIN sqlite_master m ON m.name = s.name GROUP BY t`).all() as Array<{ t: string; bytes: number }>;
    for (const r of rows) tables[r.t] = r.bytes;
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const pages = db.pragma('page_count', { simple: true }) as number;
    const free = db.pragma('freelist_count', { simple: true }) as number;
    return { tables, usedBytes: (pages - free) * pageSize, fileBytes: pages * pageSize };
  } finally {
    db.close();
  }
}

function diff(a: TableBytes, b: TableBytes): TableBytes {
  const out: TableBytes = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const d = (b[k] ?? 0) - (a[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

/** Bytes the processes passed through read/write system calls so far (sockets and pipes; the fleet has no files). */
function ioBytes(pids: number[]): { read: number; written: number } {
  let read = 0;
  let written = 0;
  for (const pid of pids) {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    read += Number(/^rchar: (\d+)/m.exec(io)?.[1] ?? 0);
    written += Number(/^wchar: (\d+)/m.exec(io)?.[1] ?? 0);
  }
  return { read, written };
}

async function main(): Promise<void> {
  const guard = setTimeout(() => void abort(`gave up after ${TIMEOUT_MS / 1000} s (BENCH_TIMEOUT_MS)`, 1), TIMEOUT_MS);
  guard.unref();
  process.once('SIGINT', () => void abort('interrupted', 130));
  process.once('SIGTERM', () => void abort('terminated', 143));
  const loadBefore = loadAverage();
  log(`bench:sizing: ${BOXES} boxes, ${DAY_FRACTION} of a day's heartbeats, ${BROADCASTS} broadcasts; load average ${loadBefore}`);
  const dir = await mkdtemp(join(tmpdir(), 'loaxa-bench-sizing-'));
  cleanup.dir(dir);
  // Runs after the server has stopped (its last fold and checkpoint) and before the temp dir goes: the file as it stays.
  let s3: ReturnType<typeof tableBytes> | null = null;
  cleanup.add('read the database after the server stopped', () => (s3 = tableBytes(join(dir, 'data', 'loaxa.sqlite'))));
  const target: Target = await startOurs({ dir, boxes: BOXES, broker: 'aedes', cleanup, log });
  const dbFile = join(dir, 'data', 'loaxa.sqlite');
  const serverPid = target.processes()[0]!.pid;
  const idleRss = memoryMiB(serverPid)!.rss;
  const fleet: Fleet = await startFleet({ boxes: target.boxes, processes: 1, retainedStatus: true, onError: (m) => log(`  fleet: ${m}`) });
  cleanup.add('stop the fleet', () => fleet.stop({ abrupt: true, timeoutMs: 2_000 }));
  const ctx: PhaseContext = { target, fleet, bootAt: Date.now(), log, remaining, spans: [] };
  fleet.connect(0, 50);
  await fleet.waitFor('every box subscribed', (c) => c.subscribed >= BOXES, 60_000);
  await settle(ctx, 20_000);
  const connectedRss = memoryMiB(serverPid)!.rss;
  // A box's row widens once, with its first heartbeat (uptime, health, versions): a few heartbeats and a fold
  // first, so that what the day adds is measured, not that one-time growth.
  const reader = new Database(dbFile, { readonly: true, fileMustExist: true });
  cleanup.add('close the database reader', () => reader.close());
  const logRows = (): number => (reader.prepare('SELECT COUNT(*) AS n FROM heartbeat_log').get() as { n: number }).n;
  const folded = async (): Promise<number> => {
    for (const until = Date.now() + 75_000; logRows() > 0 && Date.now() < until; ) await sleep(1_000);
    return logRows();
  };
  fleet.startHeartbeats(FAST_PERIOD_MS);
  await sleep(3 * FAST_PERIOD_MS);
  fleet.stopHeartbeats();
  await folded();
  await settle(ctx, 10_000);
  await fleet.report();
  const s0 = tableBytes(dbFile);
  log(`  ${BOXES} boxes connected; server RSS ${idleRss} MiB before, ${connectedRss} MiB after; file ${(s0.fileBytes / 1024).toFixed(0)} KiB`);

  // The fleet's own IPC with this process (progress twice a second) is not box traffic: its rate, measured idle.
  const ipc0 = ioBytes(fleet.pids);
  const idleMs = 5_000;
  await sleep(idleMs);
  const ipc1 = ioBytes(fleet.pids);
  const ipcPerMs = (ipc1.read - ipc0.read + ipc1.written - ipc0.written) / idleMs;

  // 1. A fraction of a day's heartbeats, fast.
  const hbCount0 = fleet.counts().heartbeats;
  const windowMs = Math.round(HEARTBEATS_PER_DAY * DAY_FRACTION * FAST_PERIOD_MS);
  log(`  1. heartbeats every ${FAST_PERIOD_MS} ms ± 10 % for ${(windowMs / 1000).toFixed(0)} s (${DAY_FRACTION} of a day's ${HEARTBEATS_PER_DAY} per box)`);
  const hbIo0 = ioBytes(fleet.pids);
  const hbT0 = Date.now();
  fleet.startHeartbeats(FAST_PERIOD_MS);
  await sleep(windowMs);
  fleet.stopHeartbeats();
  const hbIo1 = ioBytes(fleet.pids);
  const hbWindow = Date.now() - hbT0;
  const heartbeats = fleet.counts().heartbeats - hbCount0;
  await fleet.report(); // empties the boxes' lists of heartbeats sent
  // The server folds its heartbeat log into the boxes' rows about once a minute and deletes what it folded.
  const unfolded = await folded();
  await settle(ctx, 10_000);
  const s1 = tableBytes(dbFile);
  const hbMqtt = (hbIo1.read - hbIo0.read + hbIo1.written - hbIo0.written - ipcPerMs * hbWindow) / heartbeats;
  log(`  ${heartbeats} heartbeats; ${unfolded} rows left in heartbeat_log; MQTT ${hbMqtt.toFixed(0)} bytes per heartbeat (both ways); tables grown: ${JSON.stringify(diff(s0.tables, s1.tables))}`);

  // 2. A day's broadcasts, one after the other, each played everywhere and reported.
  log(`  2. ${BROADCASTS} broadcasts to every box`);
  const bcBytes: number[] = [];
  for (let i = 1; i <= BROADCASTS; i++) {
    const io0 = ioBytes(fleet.pids);
    const t0 = Date.now();
    const cast = await target.fanOut(i);
    for (const until = Date.now() + 60_000; (await target.playingReceived(cast.broadcastId)).size < BOXES && Date.now() < until; ) await sleep(250);
    // Until `played` is reported by every box (the audio lasts cast.durationMs) and the server is idle again.
    await sleep(cast.durationMs + 1_000);
    await settle(ctx, 15_000);
    const io1 = ioBytes(fleet.pids);
    bcBytes.push((io1.read - io0.read + io1.written - io0.written - ipcPerMs * (Date.now() - t0)) / BOXES);
  }
  const s2 = tableBytes(dbFile);
  const bcMqtt = bcBytes.sort((a, b) => a - b)[Math.floor(bcBytes.length / 2)]!;
  log(`  MQTT ${bcMqtt.toFixed(0)} bytes per box per broadcast (median; commands in, answers and four reports out)`);
  const peakRss = memoryMiB(serverPid)!.peak;

  // 3. The server stops (its last fold and checkpoint): the file as it stays on disk.
  await fleet.stop({ timeoutMs: 5_000 });
  await cleanup.run(log).catch(() => undefined);
  clearTimeout(guard);
  const stopped = s3 as ReturnType<typeof tableBytes> | null;
  if (stopped) log(`  the server stopped: file ${(stopped.fileBytes / 1024).toFixed(0)} KiB, ${(stopped.usedBytes / 1024).toFixed(0)} KiB in use`);

  const perDay = (bytes: number, scale: number): number => Math.round((bytes / BOXES) * scale);
  const hbGrowth = diff(s0.tables, s1.tables);
  const bcGrowth = diff(s1.tables, s2.tables);
  const hbPerBoxDay = perDay(s1.usedBytes - s0.usedBytes, 1 / DAY_FRACTION);
  const bcPerBoxBroadcast = perDay(s2.usedBytes - s1.usedBytes, 1 / BROADCASTS);
  const diskPerBoxDay = Math.max(0, hbPerBoxDay) + bcPerBoxBroadcast * BROADCASTS;

  // CPU and memory per box from the 10,000-box runs.
  const results = (name: string): RunResults | null => {
    try {
      return JSON.parse(readFileSync(new URL(`results/${name}.json`, HERE), 'utf8')) as RunResults;
    } catch {
      return null;
    }
  };
  const hb = results('heartbeat')?.targets.find((t) => t.name === 'ours-aedes');
  const conn = results('connect')?.targets.find((t) => t.name === 'ours-aedes');
  const scaleBoxes = results('heartbeat')?.boxes ?? 10_000;
  const cpuPerBoxMinute = hb?.heartbeat ? hb.heartbeat.cpuSecondsPerMinute / scaleBoxes : null;
  const stormCpuPerBox = conn?.connect ? conn.connect.cpuSecondsTotal / (results('connect')?.boxes ?? 10_000) : null;
  const peak10k = Math.max(hb?.peakMiB?.server?.peak ?? 0, conn?.peakMiB?.server?.peak ?? 0);
  const memPerBoxKiB = peak10k ? ((peak10k - connectedRss) * 1024) / (scaleBoxes - BOXES) : null;
  const media = JSON.parse(await readFile(new URL('results/media.json', HERE), 'utf8')) as { file: { bytes: number; durationMs: number } };
  const audioBytesPerSecond = media.file.bytes / (media.file.durationMs / 1000);
  const audioPerBulletin = Math.round(audioBytesPerSecond * BULLETIN_S);

  const rows = PROVINCES.map((n) => {
    const cores = cpuPerBoxMinute === null ? null : (cpuPerBoxMinute * n) / 60;
    const stormS = stormCpuPerBox === null ? null : stormCpuPerBox * n;
    const mem = memPerBoxKiB === null ? null : connectedRss + (memPerBoxKiB * n) / 1024;
    return {
      boxes: n,
      heartbeatCores: cores === null ? null : Number(cores.toFixed(3)),
      connectStormCpuSeconds: stormS === null ? null : Number(stormS.toFixed(1)),
      memoryMiB: mem === null ? null : Math.round(mem),
      diskPerDayMiB: Number(((diskPerBoxDay * n) / 1048576).toFixed(2)),
      diskPerYearGiB: Number(((diskPerBoxDay * n * 365) / 1073741824).toFixed(2)),
      bulletinMiB: Number((((audioPerBulletin + bcMqtt) * n) / 1048576).toFixed(1)),
      heartbeatsPerDayMiB: Number(((hbMqtt * HEARTBEATS_PER_DAY * n) / 1048576).toFixed(1)),
    };
  });
  const out = {
    date: new Date().toISOString(),
    commit: spawnSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', cwd: new URL('..', HERE) }).stdout.trim(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model.trim() ?? '?', node: process.version, loadBefore, loadAfter: loadAverage() },
    nodeArgs: SERVER_NODE_ARGS.join(' '),
    boxes: BOXES,
    dayFraction: DAY_FRACTION,
    broadcasts: BROADCASTS,
    heartbeats,
    heartbeatLogRowsLeft: unfolded,
    disk: {
      file: { connected: s0.fileBytes, afterHeartbeats: s1.fileBytes, afterBroadcasts: s2.fileBytes, serverStopped: stopped?.fileBytes ?? null },
      used: { connected: s0.usedBytes, afterHeartbeats: s1.usedBytes, afterBroadcasts: s2.usedBytes, serverStopped: stopped?.usedBytes ?? null },
      heartbeatGrowthByTable: hbGrowth,
      broadcastGrowthByTable: bcGrowth,
      heartbeatsPerBoxPerDay: hbPerBoxDay,
      perBoxPerBroadcast: bcPerBoxBroadcast,
      perBoxPerDay: diskPerBoxDay,
    },
    mqtt: { bytesPerHeartbeat: Math.round(hbMqtt), bytesPerBoxPerBroadcast: Math.round(bcMqtt), ipcBytesPerSecond: Math.round(ipcPerMs * 1000) },
    audio: { bytesPerSecond: Math.round(audioBytesPerSecond), bulletinSeconds: BULLETIN_S, bytesPerBulletin: audioPerBulletin },
    cpu: { fromBoxes: scaleBoxes, serverCpuSecondsPerBoxPerMinute: cpuPerBoxMinute, connectStormCpuSecondsPerBox: stormCpuPerBox },
    memory: { idleMiB: idleRss, withBoxesMiB: connectedRss, peakHereMiB: peakRss, peakAt10kMiB: peak10k, perBoxKiB: memPerBoxKiB === null ? null : Number(memPerBoxKiB.toFixed(1)) },
    provinces: rows,
  };
  const block = sizingBlock(out);
  if (WRITE) {
    await writeFile(new URL('results/sizing.json', HERE), `${JSON.stringify(out, null, 2)}\n`);
    await updateReadmeBlock(new URL('README.md', HERE), 'sizing', block);
  }
  log(`bench:sizing: done in ${((Date.now() - started) / 1000).toFixed(0)} s\n\n${block}\n`);
}

type Sizing = {
  date: string;
  commit: string;
  machine: { cpus: number; model: string; node: string; loadBefore: string; loadAfter: string };
  boxes: number;
  dayFraction: number;
  broadcasts: number;
  disk: { perBoxPerDay: number; heartbeatsPerBoxPerDay: number; perBoxPerBroadcast: number; broadcastGrowthByTable: TableBytes };
  mqtt: { bytesPerHeartbeat: number; bytesPerBoxPerBroadcast: number };
  audio: { bytesPerBulletin: number; bulletinSeconds: number };
  cpu: { fromBoxes: number; serverCpuSecondsPerBoxPerMinute: number | null; connectStormCpuSecondsPerBox: number | null };
  memory: { withBoxesMiB: number; perBoxKiB: number | null };
  provinces: Array<{ boxes: number; heartbeatCores: number | null; connectStormCpuSeconds: number | null; memoryMiB: number | null; diskPerDayMiB: number; diskPerYearGiB: number; bulletinMiB: number; heartbeatsPerDayMiB: number }>;
};

const n = (x: number | null, d = 0): string => (x === null ? '—' : x.toLocaleString('en', { maximumFractionDigits: d, minimumFractionDigits: d }));

export function sizingBlock(s: Sizing): string {
  const tables = Object.entries(s.disk.broadcastGrowthByTable)
    .filter(([, b]) => b > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([t, b]) => `${t} ${n(b / s.boxes / s.broadcasts)}`)
    .join(', ');
  return [
    `Measured ${s.date.slice(0, 10)} at ${s.commit.slice(0, 7)}, ${s.machine.cpus} cores (${s.machine.model}), Node ${s.machine.node}, load average ${s.machine.loadBefore} before / ${s.machine.loadAfter} after; ${s.boxes} boxes through a compressed day (${s.dayFraction} of a day's heartbeats, scaled up; ${s.broadcasts} broadcasts).`,
    '',
    '| province | server CPU, heartbeats (cores) | CPU-s of a connect storm (all boxes at once) | server memory | disk per day / per year | one 5-minute bulletin to every box | heartbeats per day (MQTT) |',
    '|---|---|---|---|---|---|---|',
    ...s.provinces.map(
      (p) =>
        `| ${n(p.boxes)} boxes | ${n(p.heartbeatCores, 2)} | ${n(p.connectStormCpuSeconds, 1)} | ${p.memoryMiB === null ? '—' : `${n(p.memoryMiB)} MiB`} | ${n(p.diskPerDayMiB, 2)} MiB / ${n(p.diskPerYearGiB, 2)} GiB | ${n(p.bulletinMiB, 1)} MiB | ${n(p.heartbeatsPerDayMiB, 1)} MiB |`,
    ),
    '',
    `Per box: ${s.cpu.serverCpuSecondsPerBoxPerMinute === null ? '—' : n(s.cpu.serverCpuSecondsPerBoxPerMinute * 1000, 2)} CPU-ms a minute of heartbeats and ${s.cpu.connectStormCpuSecondsPerBox === null ? '—' : n(s.cpu.connectStormCpuSecondsPerBox * 1000, 2)} CPU-ms to connect (the ${n(s.cpu.fromBoxes)}-box runs of bench:heartbeat and bench:connect); ` +
      `memory ${s.memory.perBoxKiB === null ? '—' : n(s.memory.perBoxKiB, 1)} KiB on top of ${n(s.memory.withBoxesMiB)} MiB (the server with ${s.boxes} boxes); ` +
      `disk ${n(s.disk.perBoxPerDay)} bytes a day (heartbeats ${n(s.disk.heartbeatsPerBoxPerDay)}, each broadcast ${n(s.disk.perBoxPerBroadcast)}: ${tables || 'no table grew'}); ` +
      `MQTT ${n(s.mqtt.bytesPerHeartbeat)} bytes per heartbeat and ${n(s.mqtt.bytesPerBoxPerBroadcast)} per broadcast, both ways, TCP/IP headers not counted; audio ${n(s.audio.bytesPerBulletin / 1024)} KiB per ${s.audio.bulletinSeconds / 60}-minute bulletin (Opus 32 kb/s).`,
  ].join('\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:sizing failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  void abort('failed', 1);
});
