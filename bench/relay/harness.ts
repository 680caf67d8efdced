/**
 * What bench:relay (issue 15) and bench:live (issue 16) share to run the server against Icecast2: the server
 * started as `npm start` starts it (its Node options), temp data dir, loopback ports, an admin to call the API
 * with; waiting for HTTP; what one box gets of a stream; and the request/answer exchange with the listener
 * processes (./listener.ts). Every process started here is registered with the caller's Cleanup.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { audioKind, mp3Frame } from './frames.js';
import type { FromListener, ToListener } from './listener.js';
import { Cleanup, freePort, sleep } from '../scale/proc.js';

/** The repository. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The Node options `npm start` gives the server (package.json), unless BENCH_SERVER_NODE_ARGS says otherwise. */
export function serverNodeArgs(): string[] {
  if (process.env.BENCH_SERVER_NODE_ARGS !== undefined) return process.env.BENCH_SERVER_NODE_ARGS.split(/\s+/).filter(Boolean);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const m = /^node((?:\s+--[\w-]+(?:=\S+)?)*)\s+--import tsx /.exec(pkg.scripts.start);
  if (!m) throw new Error(`package.json's start script is not "node <options> --import tsx <entry>": ${pkg.scripts.start}`);
  return m[1]!.split(/\s+/).filter(Boolean);
}

export async function waitHttp(url: string, what: string, timeoutMs: number, child: ChildProcess, logFile: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}: ${(await readFile(logFile, 'utf8').catch(() => '')).slice(-2000)}`);
    const ok = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.arrayBuffer().then(() => true),
      () => false,
    );
    if (ok) return;
    if (Date.now() > until) throw new Error(`${what} did not answer within ${timeoutMs} ms`);
    await sleep(150);
  }
}

/** The first bytes of a stream (a few KB or 5 s), its status and type — what one box would get. */
export async function peek(url: string, authorization?: string): Promise<{ status: number; type: string; bytes: Buffer }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 8_000);
  try {
    const res = await fetch(url, { headers: authorization ? { authorization } : {}, signal: ac.signal });
    const chunks: Buffer[] = [];
    let n = 0;
    if (res.body && res.status === 200) {
      for await (const c of res.body) {
        chunks.push(Buffer.from(c as Uint8Array));
        n += (c as Uint8Array).length;
        if (n >= 16_384) break;
      }
    }
    ac.abort();
    return { status: res.status, type: res.headers.get('content-type') ?? '', bytes: Buffer.concat(chunks) };
  } catch (err) {
    if (ac.signal.aborted) return { status: 0, type: '', bytes: Buffer.alloc(0) };
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** "MP3 64 kb/s, 48 kHz mono" from a stream's first bytes (two consecutive frame headers). */
export function describe(type: string, bytes: Buffer): string {
  const kind = audioKind(type, bytes);
  if (kind !== 'mp3') return `${kind ?? 'unknown'} (${type || 'no content-type'})`;
  for (let i = 0; i + 4 < bytes.length; i++) {
    const f = mp3Frame(bytes, i);
    if (f && mp3Frame(bytes, i + f.length)) return `MP3 ${f.kbps} kb/s, ${f.rate / 1000} kHz ${(bytes[i + 3]! >> 6) === 3 ? 'mono' : 'stereo'}`;
  }
  return `MP3 (no frame found in ${bytes.length} bytes)`;
}

/** Sends a listener process `msg` and waits for its answer of type `want`. */
export function ask(child: ChildProcess, msg: ToListener, want: FromListener['type'], timeoutMs: number): Promise<FromListener> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`listener ${child.pid}: no ${want} within ${timeoutMs} ms`)), timeoutMs);
    const on = (m: FromListener): void => {
      if (m.type !== want) return;
      clearTimeout(timer);
      child.off('message', on);
      resolve(m);
    };
    child.on('message', on);
    child.send(msg);
  });
}

/** `count` listener processes (./listener.ts), stopped by the cleanup. */
export function forkListeners(count: number, cleanup: Cleanup): ChildProcess[] {
  return Array.from({ length: count }, () => {
    const c = fork(fileURLToPath(new URL('listener.ts', import.meta.url)), ['--listener'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    cleanup.process(c, 'listener process', 2_000);
    return c;
  });
}

export interface BenchServer {
  child: ChildProcess;
  base: string;
  httpPort: number;
  logFile: string;
  nodeArgs: string[];
  /** The admin's bearer token. */
  token: string;
  /** A JSON call as the admin; throws on an error status. */
  api(method: string, path: string, body?: unknown): Promise<any>;
}

/**
 * The server as `npm start` runs it (its Node options), on loopback ports, data in `tempRoot`/data, log in
 * `tempRoot`/server.log, with `env` on top (no LOAXA_* of the caller's environment); logged in as the admin,
 * with the one-commune province 99 imported.
 */
export async function startServer(o: { tempRoot: string; password: string; env: Record<string, string>; cleanup: Cleanup; log: (s: string) => void; name: string }): Promise<BenchServer> {
  const [httpPort, mqttPort] = await Promise.all([freePort(), freePort()]);
  const dataDir = join(o.tempRoot, 'data');
  await mkdir(dataDir);
  const logFile = join(o.tempRoot, 'server.log');
  const fd = openSync(logFile, 'w');
  const nodeArgs = serverNodeArgs();
  o.log(`${o.name}: starting the server (node ${nodeArgs.join(' ')} --import tsx server/src/main.ts, data in ${dataDir})…`);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'server/src/main.ts'], {
    cwd: ROOT,
    stdio: ['ignore', fd, fd],
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LOAXA_'))),
      LOAXA_HTTP_HOST: '127.0.0.1',
      LOAXA_HTTP_PORT: String(httpPort),
      LOAXA_MQTT_HOST: '127.0.0.1',
      LOAXA_MQTT_PORT: String(mqttPort),
      LOAXA_DATA_DIR: dataDir,
      LOAXA_ADMIN_PASSWORD: o.password,
      LOAXA_LOG_LEVEL: 'info',
      ...o.env,
    },
  });
  closeSync(fd);
  o.cleanup.process(child, 'server', 10_000);
  const base = `http://127.0.0.1:${httpPort}`;
  await waitHttp(`${base}/healthz`, 'the server', 60_000, child, logFile);
  let token = '';
  const api = async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(base + path, { method, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const json = (await res.json()) as any;
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  token = (await api('POST', '/api/v1/auth/login', { username: 'admin', password: o.password })).token as string;
  await api('POST', '/api/v1/areas/import', { provinces: [{ code: '99', name: 'Tỉnh Mẫu', type: 'tỉnh', communes: [{ code: '99001', name: 'Xã Một', type: 'xã' }] }] });
  return { child, base, httpPort, logFile, nodeArgs, token, api };
}

/** Registers `count` boxes in commune 99001 (POST /api/v1/devices/bulk): each one's HTTP Basic `Authorization`. */
export async function registerBoxes(server: BenchServer, count: number): Promise<string[]> {
  const bulk = await server.api('POST', '/api/v1/devices/bulk', { devices: Array.from({ length: count }, (_, i) => ({ name: `loa ${i + 1}`, areaCode: '99001' })) });
  return (bulk.items as Array<{ id: string; mqtt: { password: string } }>).map((d) => `Basic ${Buffer.from(`${d.id}:${d.mqtt.password}`).toString('base64')}`);
}
