/**
 * `npm run bench:live` (issue 16, "Proof"): 2,000 boxes on one live broadcast through the server, and the same
 * through Icecast2 in the same run, with the mouth-to-speaker latency, the CPU and memory of each side and the
 * dropouts of every box. Targets: p99 ≤ 2 s, no box with a dropout on loopback, the server's CPU ≤ 1.5×
 * Icecast's.
 *
 * What runs: the server as `npm start` starts it (bench/relay/harness.ts: its Node options, temp data dir,
 * loopback ports), with LOAXA_LIVE_ICECAST_URL/_PUBLIC_URL naming a mount of a real Icecast2
 * (test/helpers/icecast.ts; burst 2,400 bytes, what README § Live voice measured for live, client limit above
 * the fleet). BENCH_BOXES + 1 boxes registered; one emergency airing to their commune. The speaker
 * (./speaker.ts, its own process) speaks into it as the browser does: a recording made beforehand by ffmpeg —
 * a speech-band tone with firmware-sim's 2.5 kHz marker bursts every 3 s, encoded as MediaRecorder does
 * (Opus in WebM, a cluster every 100 ms) — sent one cluster a chunk at real-time pace over the WebSocket. The
 * server encodes it once (ffmpeg, CBR MP3 64 kb/s) and serves it at `/live/{id}` to boxes with their own
 * credentials, and pushes the same bytes into the Icecast mount: so both sides serve the same frames of the
 * same voice, and the server's encoder and its push to Icecast are counted for both windows alike (reported
 * as the server's CPU while Icecast's listeners were served).
 *
 * The boxes: BENCH_PROCESSES listener processes (bench/relay/listener.ts) holding the 2,000 boxes as HTTP
 * listeners, listening to one side at a time in ABBA order (Icecast, server, server, Icecast), as bench:relay
 * and for its reasons. Each listener notes when every frame arrived (CRC-32 and time) and plays the frames
 * through a model of the box's live jitter buffer (device-agent's DEFAULT_TUNING: 200 ms before output starts,
 * 600 ms held at most) to count its dropouts (the buffer running dry). A reference box of each side
 * (./reference.ts) decodes the same stream with ffmpeg and finds the markers; the frame each onset came from,
 * by its CRC, gives every box's arrival of that marker. Latency = that arrival − when the marker left the
 * speaker's side (the instant it was "spoken": the recorder hands its chunk over up to 100 ms later, as in a
 * browser) — the box's decoding of the frame (well under a millisecond) and its 200 ms jitter buffer come on
 * top before the speaker plays it (the jitter buffer's effect is what test/web/live-browser.test.ts measures).
 *
 * Bounded: windows shrink to fit BENCH_TIMEOUT_MS (default 300 s); past it, or on SIGINT/SIGTERM, every process
 * the run started is stopped and its temp dirs removed. Results: results/live.json and the `live` block of
 * bench/README.md. Settings: BENCH_BOXES (2000), BENCH_PROCESSES (4), BENCH_WINDOW_MS (30000), BENCH_ROUNDS
 * (2), BENCH_IN_FLIGHT (50), BENCH_SERVER_NODE_ARGS, BENCH_WRITE=0 (print only). Type-check: `npx tsc --noEmit
 * -p bench/live`.
 */
import { fork, spawnSync } from 'node:child_process';
import { writeFile, mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { cpus, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_TUNING } from '@loaxa/device-agent';
import { markerTrack, wavFile } from '../../firmware-sim/src/live-markers.js';
import { icecastAvailable, ICECAST_SKIP, startIcecast } from '../../test/helpers/icecast.js';
import { ffmpegBin } from '../../test/helpers/streams.js';
import { updateReadmeBlock } from '../readme-block.js';
import { ask, describe, forkListeners, peek, registerBoxes, ROOT, startServer } from '../relay/harness.js';
import type { ListenerResult } from '../relay/listener.js';
import { findDescendant, ownCpuSeconds, treeCpuSeconds, treeRssMiB, descendantNames } from '../relay/procs.js';
import type { Side } from '../relay/report.js';
import { Cleanup, loadAverage, openFileLimit, sleep } from '../scale/proc.js';
import { liveBlock, liveSummary, type LivePhase } from './report.js';
import { ReferenceListener, watchList } from './reference.js';
import type { FromSpeaker, ToSpeaker } from './speaker.js';

const BOXES = Number(process.env.BENCH_BOXES ?? 2000);
const PROCESSES = Number(process.env.BENCH_PROCESSES ?? 4);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 30_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 50);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 300_000);
const WRITE = process.env.BENCH_WRITE !== '0';
/** Markers this far apart: each onset is matched to the last marker spoken before it (any latency under this is read right). */
const MARKER_EVERY_MS = 3_000;
/** After every listener has audio, before the window: the connect storm's after-effects pass. */
const SETTLE_MS = 3_000;
/** Connecting 2,000 listeners, decoding the reference, closing them again, per phase (the window shrinks to fit). */
const PHASE_OVERHEAD_MS = 30_000;
/** As bench:relay: Icecast 2.4's listen backlog of 5 makes the kernel retransmit SYNs for up to 31 s. */
const CONNECT_TIMEOUT_MS = 35_000;
const MIN_WINDOW_MS = 15_000;
const PASSWORD = 'bench-live-password';
/** The speech lasts the whole run: one airing for every window (the server ends it after 10 s without audio). */
const SPEECH_MS = TIMEOUT_MS + 20_000;
const HERE = new URL('..', import.meta.url);

const log = (s: string): void => void process.stdout.write(`${s}\n`);
const started = Date.now();
const deadline = started + TIMEOUT_MS;
const cleanup = new Cleanup();
const epochNow = (): number => performance.timeOrigin + performance.now();

/** The speaker's recording: as test/web/live-browser.test.ts's microphone, encoded as MediaRecorder would. */
async function recording(dir: string): Promise<{ file: string; markersMs: number[] }> {
  const s = SPEECH_MS / 1000;
  const voice = spawnSync(ffmpegBin(), ['-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', `aevalsrc=0.25*sin(2*PI*220*t)+0.15*sin(2*PI*660*t):s=48000:d=${s}`, '-af', 'tremolo=f=4:d=0.6', '-ac', '1', '-f', 's16le', '-c:a', 'pcm_s16le', 'pipe:1'], { maxBuffer: 1 << 30 });
  if (voice.status !== 0) throw new Error(`ffmpeg (voice): ${voice.stderr.toString()}`);
  const markersMs: number[] = [];
  for (let ms = 1_000; ms < SPEECH_MS - 500; ms += MARKER_EVERY_MS) markersMs.push(ms);
  const wav = join(dir, 'mic.wav');
  await writeFile(wav, wavFile(markerTrack(SPEECH_MS, markersMs, voice.stdout)));
  const file = join(dir, 'phone.webm');
  const enc = spawnSync(ffmpegBin(), ['-hide_banner', '-v', 'error', '-y', '-i', wav, '-c:a', 'libopus', '-b:a', '32k', '-f', 'webm', '-cluster_time_limit', '100', file]);
  if (enc.status !== 0) throw new Error(`ffmpeg (Opus/WebM): ${enc.stderr.toString()}`);
  return { file, markersMs };
}

interface Served {
  side: Side;
  port: number;
  path: string;
  url: string;
  /** The process tree whose CPU and memory count for this side. */
  pid: number;
}

async function main(): Promise<void> {
  if (!icecastAvailable()) throw new Error(ICECAST_SKIP);
  const load0 = loadAverage();
  if (openFileLimit() < BOXES + 200) throw new Error(`open-file limit ${openFileLimit()} is too low for ${BOXES} listeners: run through npm (ulimit -n $(ulimit -Hn))`);
  const tempRoot = await mkdtemp(join(tmpdir(), 'loaxa-bench-live-'));
  cleanup.dir(tempRoot);

  log(`bench:live: the speaker's recording (${(SPEECH_MS / 1000).toFixed(0)} s of Opus/WebM, a marker every ${MARKER_EVERY_MS / 1000} s)…`);
  const speech = await recording(tempRoot);

  log(`bench:live: starting Icecast2 (client limit ${BOXES + 100}, burst 2,400 bytes)…`);
  const icecast = await startIcecast({ teardown: (fn) => cleanup.add('icecast', fn) }, { clients: BOXES + 100, burstSize: 2_400, maxSeconds: Math.ceil(TIMEOUT_MS / 1000) + 60 });
  const icecastPid = findDescendant(process.pid, 'icecast2');
  if (!icecastPid) throw new Error('icecast2 is running but its process was not found under this one');
  const icecastVersion = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'icecast2'], { encoding: 'utf8' }).stdout.trim() || '?';
  const mount = icecast.mountUrl('/live-{id}.mp3');

  const server = await startServer({
    tempRoot,
    password: PASSWORD,
    cleanup,
    log,
    name: 'bench:live',
    env: {
      LOAXA_LIVE_ICECAST_URL: mount.replace('http://', `http://source:${icecast.sourcePassword}@`),
      LOAXA_LIVE_ICECAST_PUBLIC_URL: mount,
    },
  });
  log(`bench:live: registering ${BOXES} boxes and a reference box…`);
  const auths = await registerBoxes(server, BOXES + 1);
  const referenceAuth = auths.pop()!;

  const live = await server.api('POST', '/api/v1/live', { target: { areaCodes: ['99001'] }, priority: 'emergency', title: 'bench:live' });
  const id = live.id as string;
  log(`bench:live: live airing ${id} sent to ${live.devices} boxes; the speaker starts…`);
  const speaker = fork(fileURLToPath(new URL('speaker.ts', import.meta.url)), ['--speaker', server.base, live.audioPath as string, server.token, speech.file], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  cleanup.process(speaker, 'speaker', 2_000);
  // The phone is not on the server's machine: on two saturated cores the speaker's process, left at the same
  // priority, sent chunks up to 150 ms late, and every box heard that gap (dropouts at the same instant on
  // both sides). Raised above the rest, it takes the few % of a core it needs on time.
  let speakerNice = 0;
  try {
    setPriority(speaker.pid!, -10);
    speakerNice = -10;
  } catch {
    log('bench:live: could not raise the speaker\'s priority (not root?): its hiccups will be heard as dropouts');
  }
  const speakerDone = new Promise<FromSpeaker>((resolve) => speaker.on('message', (m: FromSpeaker) => m.type !== 'speaking' && resolve(m)));
  const t0 = await new Promise<number>((resolve, reject) => {
    speaker.on('message', (m: FromSpeaker) => (m.type === 'speaking' ? resolve(m.t0) : m.type === 'failed' ? reject(new Error(`the speaker: ${m.why}`)) : undefined));
    speaker.once('exit', (code) => reject(new Error(`the speaker exited (${code})`)));
  });
  const mouthTimes = speech.markersMs.map((m) => t0 + m);

  const icecastPath = `/live-${encodeURIComponent(id)}.mp3`;
  const serverPath = `/live/${encodeURIComponent(id)}`;
  await sleep(1_500);
  const viaIcecast = await peek(icecast.mountUrl(icecastPath));
  const viaServer = await peek(server.base + serverPath, auths[0]);
  if (viaIcecast.status !== 200 || viaServer.status !== 200) throw new Error(`a box cannot listen: Icecast ${viaIcecast.status}, server ${viaServer.status} (${(await readFile(server.logFile, 'utf8')).slice(-1500)})`);
  const formats = { icecast: describe(viaIcecast.type, viaIcecast.bytes), loaxa: describe(viaServer.type, viaServer.bytes) };
  log(`bench:live: Icecast serves ${formats.icecast}; the server serves ${formats.loaxa}`);

  const listeners = forkListeners(PROCESSES, cleanup);
  const per = Math.ceil(BOXES / PROCESSES);
  const sides: Record<Side, Served> = {
    icecast: { side: 'icecast', port: icecast.port, path: icecastPath, url: icecast.mountUrl(icecastPath), pid: icecastPid },
    loaxa: { side: 'loaxa', port: server.httpPort, path: serverPath, url: server.base + serverPath, pid: server.child.pid! },
  };
  const order: Side[] = [];
  for (let r = 0; r < ROUNDS; r++) order.push(...(r % 2 === 0 ? (['icecast', 'loaxa'] as const) : (['loaxa', 'icecast'] as const)));
  const jitter = { prebufferMs: DEFAULT_TUNING.livePrebufferMs, maxMs: DEFAULT_TUNING.liveBufferMs };

  const phases: LivePhase[] = [];
  for (let i = 0; i < order.length; i++) {
    const s = sides[order[i]!];
    const left = order.length - i;
    const windowMs = Math.min(WINDOW_MS, Math.floor((deadline - Date.now() - 15_000) / left - PHASE_OVERHEAD_MS));
    if (windowMs < MIN_WINDOW_MS) {
      log(`bench:live: no time left for ${left} more window(s) of at least ${MIN_WINDOW_MS / 1000} s; stopping here`);
      break;
    }
    // Frames a listener notes: the window, the settling, the reference's decoding and some slack.
    const frames = Math.ceil((windowMs + 20_000) / 24);
    await sleep(1000);
    const idleRss = { icecast: treeRssMiB(icecastPid), loaxa: treeRssMiB(server.child.pid!) };
    // The reference joins first, so that it is not held up in the connect storm (Icecast's backlog of 5).
    const reference = new ReferenceListener(s.url, s.side === 'loaxa' ? referenceAuth : null);
    reference.start();
    const cpuConnect0 = treeCpuSeconds(s.pid);
    const c0 = performance.now();
    const connected = await Promise.all(
      listeners.map((c, k) =>
        ask(c, { type: 'connect', port: s.port, path: s.path, authorizations: auths.slice(k * per, (k + 1) * per), inFlight: IN_FLIGHT, timeoutMs: CONNECT_TIMEOUT_MS, live: { frames, ...jitter } }, 'connected', CONNECT_TIMEOUT_MS + 30_000),
      ),
    );
    const connectWallMs = Math.round(performance.now() - c0);
    const connectCpuS = treeCpuSeconds(s.pid) - cpuConnect0;
    const failedNow = connected.reduce((n, m) => n + (m.type === 'connected' ? m.failed : 0), 0);
    log(`bench:live: ${s.side}: ${BOXES - failedNow}/${BOXES} listening after ${(connectWallMs / 1000).toFixed(1)} s${failedNow ? ` (${failedNow} failed: ${connected.flatMap((m) => (m.type === 'connected' ? m.why : [])).join(', ')})` : ''}; window of ${(windowMs / 1000).toFixed(0)} s…`);
    await sleep(SETTLE_MS);

    const cpu0 = { icecast: treeCpuSeconds(icecastPid), loaxa: treeCpuSeconds(server.child.pid!) };
    const node0 = ownCpuSeconds(server.child.pid!);
    await Promise.all(listeners.map((c) => ask(c, { type: 'mark' }, 'marked', 5_000)));
    const markEpoch = epochNow();
    const w0 = performance.now();
    const peakRss = { icecast: 0, loaxa: 0 };
    const children = new Set<string>();
    const sample = (): void => {
      peakRss.icecast = Math.max(peakRss.icecast, treeRssMiB(icecastPid));
      peakRss.loaxa = Math.max(peakRss.loaxa, treeRssMiB(server.child.pid!));
      for (const n of descendantNames(server.child.pid!)) if (!n.startsWith('esbuild')) children.add(n);
    };
    sample();
    const sampler = setInterval(sample, 500);
    await sleep(windowMs);
    clearInterval(sampler);
    sample();
    const cpu1 = { icecast: treeCpuSeconds(icecastPid), loaxa: treeCpuSeconds(server.child.pid!) };
    const serverNodeCpuS = ownCpuSeconds(server.child.pid!) - node0;
    const windowEpoch = epochNow();
    const wallS = (performance.now() - w0) / 1000;
    // Markers whose onset reached the reference within the window; the listeners keep noting frames meanwhile.
    reference.stop();
    if (reference.failed) throw new Error(`the reference box of ${s.side}: ${reference.failed}`);
    const ref = await reference.markers(mouthTimes, MARKER_EVERY_MS, markEpoch, windowEpoch);
    const stopped = await Promise.all(listeners.map((c) => ask(c, { type: 'stop', watch: watchList(ref.markers) }, 'stopped', 20_000)));
    const results: ListenerResult[] = stopped.flatMap((m) => (m.type === 'stopped' ? m.results : []));
    const phase: LivePhase = {
      side: s.side,
      windowS: Math.round(wallS * 10) / 10,
      cpuS: { icecast: cpu1.icecast - cpu0.icecast, loaxa: cpu1.loaxa - cpu0.loaxa },
      serverNodeCpuS,
      idleRssMiB: idleRss,
      peakRssMiB: peakRss,
      connectWallMs,
      connectCpuS,
      serverChildren: [...children],
      listenerCpuS: stopped.reduce((n, m) => n + (m.type === 'stopped' ? m.cpuMs / 1000 : 0), 0),
      listenerLoopDelayMaxMs: Math.max(...stopped.map((m) => (m.type === 'stopped' ? m.loopDelayMaxMs : 0))),
      results,
      markers: ref.markers.map((m) => ({ mouthAt: m.mouthAt, referenceMs: Math.round(m.arrivedAt - m.mouthAt) })),
      referenceFrames: ref.frames,
      referenceDroppedFrames: ref.droppedFrames,
    };
    phases.push(phase);
    const lat = results.flatMap((r) => (r.arrivals ?? []).map((a, k) => (a === null ? Number.NaN : a - ref.markers[k]!.mouthAt))).filter(Number.isFinite).sort((a, b) => a - b);
    log(
      `bench:live: ${s.side}: ${phase.cpuS[s.side].toFixed(2)} CPU-s in ${wallS.toFixed(1)} s (the other side: ${phase.cpuS[s.side === 'loaxa' ? 'icecast' : 'loaxa'].toFixed(2)}), peak RSS ${peakRss[s.side].toFixed(0)} MiB; ` +
        `${ref.markers.length} markers, latency p50 ${lat[Math.floor(lat.length / 2)]?.toFixed(0)} / p99 ${lat[Math.ceil(lat.length * 0.99) - 1]?.toFixed(0)} ms over ${lat.length} arrivals; ` +
        `boxes with a dropout: ${results.filter((r) => (r.dropouts ?? 0) > 0).length}; ${results.filter((r) => !r.ok).length} failed`,
    );
  }
  for (const c of listeners) c.send({ type: 'exit' });
  speaker.send({ type: 'stop' } satisfies ToSpeaker);
  const spoke = await Promise.race([speakerDone, sleep(15_000).then(() => null)]);
  const ended = await server.api('GET', `/api/v1/live/${id}`);
  if (!phases.some((p) => p.side === 'loaxa') || !phases.some((p) => p.side === 'icecast')) throw new Error('not enough time for a window of each side');

  const summary = liveSummary(phases, PROCESSES, spoke?.type === 'done' ? spoke.lateAt : []);
  const result = {
    date: new Date().toISOString(),
    commit: spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? '', node: process.version, icecast2: icecastVersion, loadAverage: { before: load0, after: loadAverage() } },
    boxes: BOXES,
    processes: PROCESSES,
    order: phases.map((p) => p.side),
    serverNodeArgs: server.nodeArgs.join(' '),
    // Issue 21 asks every reference to run with the server's Node options; this one is Icecast (C), not Node.
    referenceNodeArgs: 'none (Icecast2, not a Node process)',
    formats,
    jitterModel: jitter,
    speaker: spoke && spoke.type === 'done' ? { chunks: spoke.chunks, lateMaxMs: spoke.lateMaxMs, lateChunks: spoke.lateChunks, nice: speakerNice } : null,
    airing: { endReason: ended.endReason as string | null, airedMs: ended.airedMs as number },
    ...summary,
    phases: phases.map(({ results, ...rest }) => ({ ...rest, listeners: results.length })),
  };
  const block = liveBlock(result);
  log('');
  log(block);
  if (WRITE) {
    await mkdir(new URL('results/', HERE), { recursive: true });
    await writeFile(new URL('results/live.json', HERE), `${JSON.stringify(result, null, 2)}\n`);
    await updateReadmeBlock(new URL('README.md', HERE), 'live', block);
    log('bench:live: wrote results/live.json and the live block of bench/README.md');
  }
}

const guard = setTimeout(() => {
  log(`bench:live: gave up after ${TIMEOUT_MS} ms; stopping everything`);
  cleanup.killNow();
  void cleanup.run(log).finally(() => process.exit(1));
}, TIMEOUT_MS + 30_000);
guard.unref();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    cleanup.killNow();
    void cleanup.run(log).finally(() => process.exit(130));
  });
}

main()
  .then(
    () => cleanup.run(log).then(() => process.exit(0)),
    (err: unknown) => {
      process.stderr.write(`bench:live failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      return cleanup.run(log).then(() => process.exit(1));
    },
  )
  .catch(() => process.exit(1));
