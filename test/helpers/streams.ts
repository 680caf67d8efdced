// Real radio streams made on this machine, for the relay tests (issue 15, "Proof": ffmpeg producing HTTP
// MP3 and AAC streams and an HLS playlist with segments; tests kill a source, make it silent, serve a
// broken playlist). Node generates the PCM (s16le, mono, 48 kHz: a sine, or zeros when silent) at real-time
// pace into ONE long-running ffmpeg encoder; the encoder keeps running across kill/revive and setSilent, so
// a test switches what listeners hear instantly, as a real station's link failing or going quiet would.
//
// The tone stream is served like an Icecast mount: an HTTP/1.0 200 with no length (no chunked encoding)
// that never ends, the same bytes fanned out to every listener, a late joiner first getting a short burst
// of recent data (Icecast's burst-on-connect). For Ogg a late joiner also needs the stream headers
// (OpusHead, OpusTags pages) before any audio page, so the Ogg output is split into pages: header pages are
// kept and sent first, and listeners only ever get whole pages.
//
// `listen` and `measureTone` are the independent ear: ffmpeg tunes in as a listener, Node measures loudness
// and pitch of what it decoded.
//
// Over ~300 lines because the two servers share the PCM generator and teardown, and the ear belongs with the
// streams it checks; kept in one file so every relay test imports one helper.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';

/** What the helpers need of a tap test (the same structural type as test/helpers/server.ts). */
export interface Teardown {
  teardown(fn: () => unknown): void;
}

export const SAMPLE_RATE = 48_000;
const TICK_MS = 100;
// Beyond this the generator does not catch up (a stalled event loop should not flood the encoder).
const MAX_CATCH_UP_MS = 2_000;
// Icecast drops a listener whose queue grows past its limit (queue-size, 512 KB by default); so do we,
// so one stalled test client cannot grow this process's memory.
const MAX_CLIENT_BACKLOG = 512 * 1024;
// Burst for a late joiner: the output of the last second (Icecast's burst-size is 64 KB, seconds of audio;
// shorter here so failover timings in tests are not hidden behind buffered audio). Counted in time, not
// bytes: a sine or silence encodes far below the nominal bitrate, so 8 KB could hold many seconds.
const BURST_MS = 1000;

export type ToneFormat = 'mp3' | 'aac' | 'ogg';

const FORMATS: Record<ToneFormat, { ext: string; contentType: string; args: string[] }> = {
  mp3: { ext: 'mp3', contentType: 'audio/mpeg', args: ['-c:a', 'libmp3lame', '-b:a', '64k', '-f', 'mp3'] },
  aac: { ext: 'aac', contentType: 'audio/aac', args: ['-c:a', 'aac', '-b:a', '64k', '-f', 'adts'] },
  // Short Ogg pages (100 ms rather than the default 1 s) so audio reaches listeners without a second's lag.
  ogg: { ext: 'ogg', contentType: 'audio/ogg', args: ['-c:a', 'libopus', '-b:a', '48k', '-f', 'ogg', '-page_duration', '100000'] },
};

export interface ToneStream {
  /** http://127.0.0.1:<port>/live.<ext> */
  url: string;
  /** From now on the audio is digital silence (the encoder keeps running, clients stay connected). */
  setSilent(silent: boolean): void;
  /** The source goes down: listener closed, every client connection destroyed, further connects refused. */
  kill(): Promise<void>;
  /** Serves again on the same url/port. */
  revive(): Promise<void>;
  /** Connected listeners now. */
  clients(): number;
  /** For teardown (also registered with t.teardown). */
  close(): Promise<void>;
}

export interface HlsStream {
  /** http://127.0.0.1:<port>/live.m3u8 */
  url: string;
  setSilent(silent: boolean): void;
  /** The playlist answers garbage (200, not a playlist); segments are still served. */
  breakPlaylist(): void;
  fixPlaylist(): void;
  kill(): Promise<void>;
  revive(): Promise<void>;
  close(): Promise<void>;
}

/** The installer's static ffmpeg (a 2018 build with libmp3lame, libopus, the hls muxer and the icecast protocol). */
export function ffmpegBin(): string {
  return ffmpegInstaller.path;
}

/**
 * Raw PCM into an ffmpeg started with `outputArgs` (which name its output), generated on a wall-clock pace
 * so the encoder's output flows as a live station's does. `prerollMs` of audio is written at once (HLS needs
 * a segment or two before any player can start).
 */
function startEncoder(outputArgs: string[], frequencyHz: number, silent: boolean, prerollMs = 0) {
  const child = spawn(ffmpegBin(), ['-hide_banner', '-nostdin', '-v', 'error', '-f', 's16le', '-ar', String(SAMPLE_RATE), '-ac', '1', '-i', 'pipe:0', ...outputArgs], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  // A write after ffmpeg died (at teardown) is not the test's failure.
  child.stdin.on('error', () => {});
  let quiet = silent;
  let phase = 0;
  const step = (2 * Math.PI * frequencyHz) / SAMPLE_RATE;
  let started = Date.now() - prerollMs;
  let written = 0;
  const tick = (): void => {
    const now = Date.now();
    if (now - started - (written / SAMPLE_RATE) * 1000 > MAX_CATCH_UP_MS + prerollMs) {
      started = now - (written / SAMPLE_RATE) * 1000 - TICK_MS;
    }
    const due = Math.floor(((now - started) / 1000) * SAMPLE_RATE) - written;
    if (due <= 0 || !child.stdin.writable) return;
    const buf = Buffer.alloc(due * 2);
    if (!quiet) {
      for (let i = 0; i < due; i++) {
        buf.writeInt16LE(Math.round(Math.sin(phase) * 16_000), i * 2);
        phase += step;
      }
      phase %= 2 * Math.PI;
    }
    written += due;
    child.stdin.write(buf);
  };
  tick();
  const timer = setInterval(tick, TICK_MS);
  timer.unref();
  return {
    child,
    stderr: () => stderr,
    setSilent: (s: boolean) => {
      quiet = s;
    },
    stop: async () => {
      clearInterval(timer);
      await killChild(child);
    },
  };
}

/** SIGKILL and wait for the exit (resolves at once when it already exited). */
export function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Splits an Ogg byte stream into whole pages (RFC 3533 §6: 27-byte header, segment table, body). */
function oggPager(onPage: (page: Buffer, granule: bigint) => void) {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk: Buffer): void => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    for (;;) {
      const at = pending.indexOf('OggS');
      if (at < 0) {
        pending = pending.subarray(Math.max(0, pending.length - 3));
        return;
      }
      if (at > 0) pending = pending.subarray(at);
      if (pending.length < 27) return;
      const segments = pending[26]!;
      if (pending.length < 27 + segments) return;
      let length = 27 + segments;
      for (let i = 0; i < segments; i++) length += pending[27 + i]!;
      if (pending.length < length) return;
      onPage(Buffer.from(pending.subarray(0, length)), pending.readBigInt64LE(6));
      pending = pending.subarray(length);
    }
  };
}

/** A listening socket that can be closed (every connection destroyed) and opened again on its port. */
function revivable(server: NetServer | HttpServer, sockets: Set<Socket>) {
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  let port = 0;
  let listening = false;
  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        port = (server.address() as { port: number }).port;
        listening = true;
        resolve();
      });
    });
  const close = (): Promise<void> => {
    if (!listening) return Promise.resolve();
    listening = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.destroy();
    return closed;
  };
  return { listen, close, port: () => port };
}

export async function startToneStream(t: Teardown, opts: { format: ToneFormat; frequencyHz?: number; silent?: boolean }): Promise<ToneStream> {
  const fmt = FORMATS[opts.format];
  const encoder = startEncoder([...fmt.args, '-flush_packets', '1', 'pipe:1'], opts.frequencyHz ?? 440, opts.silent ?? false);
  const listeners = new Set<Socket>();
  const sockets = new Set<Socket>();
  // Recent output for late joiners; for Ogg, whole pages only, and the header pages apart.
  const recent: Array<{ at: number; data: Buffer }> = [];
  const oggHeaders: Buffer[] = [];
  let oggHeadersDone = opts.format !== 'ogg';
  let gotOutput: () => void = () => {};
  const firstOutput = new Promise<void>((resolve) => (gotOutput = resolve));

  const send = (data: Buffer): void => {
    gotOutput();
    const now = Date.now();
    recent.push({ at: now, data });
    while (recent[0]!.at < now - BURST_MS) recent.shift();
    for (const s of listeners) {
      if (s.writableLength > MAX_CLIENT_BACKLOG) s.destroy();
      else s.write(data);
    }
  };
  encoder.child.stdout.on(
    'data',
    opts.format === 'ogg'
      ? oggPager((page, granule) => {
          // Header pages carry granule position 0 (RFC 7845 §3); the first audio page ends them.
          if (!oggHeadersDone && granule === 0n) oggHeaders.push(page);
          else {
            oggHeadersDone = true;
            send(page);
          }
        })
      : send,
  );

  const server = createNetServer((socket) => {
    socket.on('error', () => {});
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) {
        if (head.length > 8192) socket.destroy();
        return;
      }
      socket.off('data', onData);
      const [method, path] = head.split('\r\n')[0]!.split(' ');
      if ((method !== 'GET' && method !== 'HEAD') || path?.split('?')[0] !== `/live.${fmt.ext}`) {
        socket.end('HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n\r\nno such mount\n');
        return;
      }
      // Icecast 2.4 answers a listener like this: HTTP/1.0, no length, the stream until either side closes.
      socket.write(`HTTP/1.0 200 OK\r\nContent-Type: ${fmt.contentType}\r\nCache-Control: no-cache\r\nicy-name: loaxa test tone\r\nicy-pub: 0\r\n\r\n`);
      if (method === 'HEAD') {
        socket.end();
        return;
      }
      for (const h of oggHeaders) socket.write(h);
      for (const r of recent) socket.write(r.data);
      listeners.add(socket);
      socket.on('close', () => listeners.delete(socket));
    };
    socket.on('data', onData);
  });
  const srv = revivable(server, sockets);
  await srv.listen();
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await srv.close();
    await encoder.stop();
  };
  t.teardown(close);
  await Promise.race([
    firstOutput,
    new Promise((_, reject) => {
      encoder.child.once('exit', () => reject(new Error(`tone encoder (${opts.format}) exited: ${encoder.stderr()}`)));
    }),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`tone encoder (${opts.format}) gave no output in 10 s: ${encoder.stderr()}`)), 10_000).unref()),
  ]);
  return {
    url: `http://127.0.0.1:${srv.port()}/live.${fmt.ext}`,
    setSilent: encoder.setSilent,
    kill: srv.close,
    revive: srv.listen,
    clients: () => listeners.size,
    close,
  };
}

export async function startHlsStream(t: Teardown, opts: { frequencyHz?: number; segmentSeconds?: number } = {}): Promise<HlsStream> {
  const dir = await mkdtemp(join(tmpdir(), 'loaxa-hls-'));
  const segmentSeconds = opts.segmentSeconds ?? 1;
  // Two segments' worth written at once, so the playlist is ready for a player within a moment of start.
  const encoder = startEncoder(
    [
      '-c:a', 'aac', '-b:a', '64k',
      '-f', 'hls', '-hls_time', String(segmentSeconds), '-hls_list_size', '6',
      '-hls_flags', 'delete_segments+temp_file',
      '-hls_segment_filename', join(dir, 'seg%05d.ts'),
      join(dir, 'live.m3u8'),
    ],
    opts.frequencyHz ?? 440,
    false,
    segmentSeconds * 2000,
  );
  let broken = false;
  const sockets = new Set<Socket>();
  const server = createHttpServer((req, res) => {
    const name = (req.url ?? '').split('?')[0]!.slice(1);
    if (name === 'live.m3u8' && broken) {
      // What a misconfigured CDN or captive portal answers: 200 with an HTML page.
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Service temporarily unavailable</body></html>\n');
      return;
    }
    if (!/^(live\.m3u8|seg\d+\.ts)$/.test(name)) {
      res.writeHead(404).end();
      return;
    }
    readFile(join(dir, name)).then(
      (body) => res.writeHead(200, { 'content-type': name.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : 'video/mp2t', 'cache-control': 'no-cache' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  const srv = revivable(server, sockets);
  await srv.listen();
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await srv.close();
    await encoder.stop();
    await rm(dir, { recursive: true, force: true });
  };
  t.teardown(close);
  // Ready once the playlist names a segment.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const text = await readFile(join(dir, 'live.m3u8'), 'utf8').catch(() => '');
    if (/^seg\d+\.ts$/m.test(text)) break;
    if (encoder.child.exitCode !== null) throw new Error(`hls encoder exited: ${encoder.stderr()}`);
    if (Date.now() > deadline) throw new Error(`hls playlist not ready in 15 s: ${encoder.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `http://127.0.0.1:${srv.port()}/live.m3u8`,
    setSilent: encoder.setSilent,
    breakPlaylist: () => {
      broken = true;
    },
    fixPlaylist: () => {
      broken = false;
    },
    kill: srv.close,
    revive: srv.listen,
    close,
  };
}

export interface Heard {
  /** ffmpeg's exit code (0: decoded `seconds` of audio or the stream ended cleanly). */
  code: number | null;
  /** Decoded PCM, s16le mono 48 kHz. */
  samples: Int16Array;
  stderr: string;
}

/**
 * Tunes in to `url` like a listener and decodes up to `seconds` of it with ffmpeg (independent of the
 * code under test), bounded by `seconds` + 15 s of wall time.
 */
export function listen(url: string, seconds: number): Promise<Heard> {
  return new Promise((resolve) => {
    const child = spawn(
      ffmpegBin(),
      ['-hide_banner', '-nostdin', '-v', 'error', '-rw_timeout', '5000000', '-i', url, '-t', String(seconds), '-f', 's16le', '-ac', '1', '-ar', String(SAMPLE_RATE), 'pipe:1'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      stderr = (stderr + s).slice(-4000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 15) * 1000);
    child.once('close', (code) => {
      clearTimeout(timer);
      const pcm = Buffer.concat(out);
      const samples = new Int16Array(pcm.buffer, pcm.byteOffset, Math.floor(pcm.length / 2));
      resolve({ code, samples: Int16Array.from(samples), stderr });
    });
  });
}

// A crossing counts only from below -HYSTERESIS to above +HYSTERESIS, so the low-level noise a decoder makes
// at the start of a stream (an MP3 joined mid-frame) or in near-silence adds no crossings.
const HYSTERESIS = 200;

/**
 * Loudness (RMS, full scale 32768) and pitch (rising zero crossings per second) of `samples`, or of their
 * last `lastSeconds` — what a listener hears now rather than the burst they were sent on connecting.
 */
export function measureTone(samples: Int16Array, lastSeconds?: number): { seconds: number; rms: number; frequencyHz: number } {
  const from = lastSeconds === undefined ? 0 : Math.max(0, samples.length - Math.round(lastSeconds * SAMPLE_RATE));
  const part = samples.subarray(from);
  let sum = 0;
  let rising = 0;
  let first = -1;
  let last = -1;
  let below = false;
  for (let i = 0; i < part.length; i++) {
    const v = part[i]!;
    sum += v * v;
    if (v < -HYSTERESIS) below = true;
    else if (v > HYSTERESIS && below) {
      rising++;
      below = false;
      if (first < 0) first = i;
      last = i;
    }
  }
  // Periods between the first and the last crossing: a quiet start (a decoder's priming) does not dilute the pitch.
  const frequencyHz = rising > 1 ? ((rising - 1) * SAMPLE_RATE) / (last - first) : 0;
  return { seconds: part.length / SAMPLE_RATE, rms: part.length ? Math.sqrt(sum / part.length) : 0, frequencyHz };
}
