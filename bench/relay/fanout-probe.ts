/**
 * What a Node fan-out of one live MP3 stream to 2,000 listeners costs, by how it writes — the measurement
 * behind bench/README.md § Relays "What limits it". `node --import tsx bench/relay/fanout-probe.ts`
 * (~2 minutes; prints a table, writes nothing).
 *
 * A bare HTTP server (a child process, so /proc measures it alone) sends the same 64 kb/s CBR MP3 (made by
 * ffmpeg, at real-time pace) to every listener, in one of four ways; the bench's own listeners
 * (./listener.ts, 4 processes) count what they receive. CPU of the server process over a 20 s window:
 *   chunked/100ms  `res.write` every 100 ms: HTTP/1.1 chunked framing (the server's restream today)
 *   chunked/250ms  the same, 250 ms of audio per write
 *   raw/100ms      headers once, then `socket.write` of the bare bytes (HTTP/1.0-style, as Icecast answers)
 *   raw/250ms
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import type { FromListener, ToListener } from './listener.js';
import { serverNodeArgs } from './harness.js';
import { treeCpuSeconds } from './procs.js';
import { freePort, sleep } from '../scale/proc.js';

const BOXES = Number(process.env.BENCH_BOXES ?? 2000);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 20_000);
const MODES = ['chunked/100', 'chunked/250', 'raw/100', 'raw/250'] as const;
const FRAME = 192; // 64 kb/s, 48 kHz MPEG-1 Layer III: 192-byte frames of 24 ms
const BYTES_PER_MS = 8;

/** The probe server (child): serves `file` (CBR frames) in a loop at real-time pace, `mode`'s way. */
async function serve(file: string, mode: string, port: number): Promise<void> {
  const audio = await readFile(file);
  const [framing, every] = mode.split('/') as ['chunked' | 'raw', string];
  const listeners = new Set<ServerResponse | Socket>();
  const server = createServer((req, res) => {
    if (framing === 'chunked') {
      res.writeHead(200, { 'content-type': 'audio/mpeg', 'cache-control': 'no-store' });
      listeners.add(res);
      res.on('close', () => listeners.delete(res));
    } else {
      const s = res.socket!;
      s.write('HTTP/1.0 200 OK\r\ncontent-type: audio/mpeg\r\ncache-control: no-store\r\nconnection: close\r\n\r\n');
      listeners.add(s);
      s.on('close', () => listeners.delete(s));
      s.on('error', () => undefined);
    }
  });
  server.listen(port, '127.0.0.1', 4096, () => process.send!('listening'));
  const t0 = Date.now();
  let sentFrames = 0;
  setInterval(() => {
    const due = Math.floor(((Date.now() - t0) * BYTES_PER_MS) / FRAME) - sentFrames;
    if (due <= 0) return;
    const chunk = Buffer.alloc(due * FRAME);
    for (let i = 0; i < due; i++) {
      const k = (sentFrames + i) % Math.floor(audio.length / FRAME);
      audio.copy(chunk, i * FRAME, k * FRAME, (k + 1) * FRAME);
    }
    sentFrames += due;
    for (const l of listeners) l.write(chunk);
  }, Number(every));
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'loaxa-fanout-probe-'));
  const children: ChildProcess[] = [];
  try {
    const file = join(dir, 'tone.mp3');
    const ff = spawnSync(ffmpegInstaller.path, ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '30', '-ac', '1', '-c:a', 'libmp3lame', '-b:a', '64k', '-id3v2_version', '0', '-write_xing', '0', '-f', 'mp3', file]);
    if (ff.status !== 0) throw new Error(`ffmpeg: ${ff.stderr.toString()}`);
    const listeners = Array.from({ length: 4 }, () => {
      const c = fork(fileURLToPath(new URL('listener.ts', import.meta.url)), ['--listener'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(c);
      return c;
    });
    const ask = (c: ChildProcess, m: ToListener, want: FromListener['type']): Promise<FromListener> =>
      new Promise((resolve) => {
        const on = (r: FromListener): void => {
          if (r.type !== want) return;
          c.off('message', on);
          resolve(r);
        };
        c.on('message', on);
        c.send(m);
      });
    const per = Math.ceil(BOXES / listeners.length);
    const rows: string[] = [];
    for (const mode of MODES) {
      const port = await freePort();
      // The bare fan-outs run with the server's Node options (issue 21: a reference runs like the server).
      const srv = fork(fileURLToPath(import.meta.url), ['--serve', file, mode, String(port)], { execArgv: [...serverNodeArgs(), '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(srv);
      await new Promise((r) => srv.once('message', r));
      await Promise.all(listeners.map((c) => ask(c, { type: 'connect', port, path: '/', authorizations: Array.from({ length: per }, () => 'Basic eDp4'), inFlight: 100, timeoutMs: 20_000 }, 'connected')));
      await sleep(2000);
      await Promise.all(listeners.map((c) => ask(c, { type: 'mark' }, 'marked')));
      const cpu0 = treeCpuSeconds(srv.pid!);
      await sleep(WINDOW_MS);
      const cpuS = treeCpuSeconds(srv.pid!) - cpu0;
      const done = await Promise.all(listeners.map((c) => ask(c, { type: 'stop' }, 'stopped')));
      const results = done.flatMap((d) => (d.type === 'stopped' ? d.results : []));
      const received = results.map((r) => r.receivedS / r.windowS).sort((a, b) => a - b);
      const chunks = results.reduce((n, r) => n + r.chunks, 0) / results.length / (WINDOW_MS / 1000);
      rows.push(`| ${mode} ms | ${((cpuS / (WINDOW_MS / 1000)) * 60).toFixed(2)} | ${chunks.toFixed(1)} | ${((received[0] ?? 0) * 100).toFixed(1)} % | ${results.filter((r) => !r.ok).length} |`);
      process.stdout.write(`fanout-probe: ${rows.at(-1)}\n`);
      srv.kill('SIGKILL');
      await new Promise((r) => srv.once('exit', r));
    }
    process.stdout.write(`\n${BOXES} listeners, ${WINDOW_MS / 1000} s windows\n\n| writes | CPU-s per minute | pieces/s per listener | received min | failed |\n|---|---|---|---|---|\n${rows.join('\n')}\n`);
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

const at = process.argv.indexOf('--serve');
if (at >= 0) void serve(process.argv[at + 1]!, process.argv[at + 2]!, Number(process.argv[at + 3]));
else
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`fanout-probe failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
