/**
 * Hermetic fixtures for agent tests: an in-process aedes broker on an ephemeral port, a tiny media server
 * with Basic auth, and an agent wired to both. Everything is closed in t.teardown.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { Aedes, type AedesOptions, type Client } from 'aedes';
import { pino, type Logger } from 'pino';
import { decodeMessage, decodeResponse, encodeMessage, topics, type MessageType, type Payload, type Response } from '@loaxa/shared';
import { DeviceAgent, NullPlayer, SimBoard, parseAgentConfig, type AgentConfig, type AgentConfigInput, type Clock, type FetchLike, type LogRing, type PcmSink, type Player } from '@loaxa/device-agent';

type Tap = {
  teardown(fn: () => unknown): void;
};

/** A fresh temp folder removed at teardown (unique even when the same test file runs twice at once). */
export function tempDir(t: Tap): string {
  const dir = mkdtempSync(join(tmpdir(), 'loaxa-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface Published {
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
  clientId: string | null;
}

export interface TestBroker {
  url: string;
  broker: Aedes;
  published: Published[];
  /** Server-side client objects by client id (the last one that connected). */
  clients: Map<string, Client>;
  publish(topic: string, body: string | Buffer): Promise<void>;
  /** The broker dies: its clients' sockets close and nothing listens on its port any more. Safe to call twice. */
  stop(): Promise<void>;
}

export function silentLogger(): Logger {
  return pino({ level: process.env.LOAXA_TEST_LOG ?? 'silent' });
}

/** A loopback port nothing listens on (yet): a broker that is unreachable until started there. */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startBroker(t: Tap, opts: AedesOptions & { port?: number } = {}): Promise<TestBroker> {
  const { port: wanted = 0, ...aedesOpts } = opts;
  const broker = await Aedes.createBroker({ drainTimeout: 1_000, ...aedesOpts });
  const server = createNetServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(wanted, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const published: Published[] = [];
  const clients = new Map<string, Client>();
  broker.on('client', (c) => clients.set(c.id, c));
  broker.on('publish', (packet, client) => {
    if (!packet.topic.startsWith('loaxa/')) return;
    published.push({
      topic: packet.topic,
      payload: Buffer.from(packet.payload as Buffer),
      qos: packet.qos,
      retain: packet.retain,
      clientId: client?.id ?? null,
    });
  });
  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= new Promise<void>((resolve) => {
      for (const c of clients.values()) c.conn.destroy();
      server.close(() => broker.close(() => resolve()));
    }));
  t.teardown(stop);
  return {
    url: `mqtt://127.0.0.1:${port}`,
    broker,
    published,
    clients,
    stop,
    publish: (topic, body) =>
      new Promise<void>((resolve, reject) =>
        broker.publish({ cmd: 'publish', topic, payload: Buffer.from(body), qos: 1, retain: false, dup: false }, (err) => (err ? reject(err) : resolve())),
      ),
  };
}

export interface MediaServer {
  /** Registers bytes under their real SHA-256 (or under `as`, to serve the wrong content). */
  put(bytes: Buffer, as?: string): { sha256: string; url: string };
  requests: Array<{ url: string; authorization: string | undefined; range: string | undefined }>;
  /** Answer the next `n` media requests with this status instead. */
  failNext(n: number, status: number): void;
  /** The next media answer breaks off (the socket is destroyed) after `bytes` bytes of body. */
  cutNext(bytes: number): void;
  /** Range requests are answered with the whole file (a server or cache without Range support). */
  ignoreRange: boolean;
}

export async function startMediaServer(t: Tap, auth: { username: string; password: string }): Promise<MediaServer> {
  const files = new Map<string, Buffer>();
  const requests: MediaServer['requests'] = [];
  let failures = 0;
  let failStatus = 503;
  let cutAt: number | null = null;
  const expected = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  const server = createHttpServer((req: IncomingMessage, res) => {
    requests.push({ url: req.url ?? '', authorization: req.headers.authorization, range: req.headers.range });
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="media"' }).end();
      return;
    }
    if (failures > 0) {
      failures -= 1;
      res.writeHead(failStatus).end();
      return;
    }
    const sha = /^\/media\/([0-9a-f]{64})$/.exec(req.url ?? '')?.[1];
    const body = sha ? files.get(sha) : undefined;
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    let status = 200;
    let part = body;
    const headers: Record<string, string | number> = { 'content-type': 'audio/ogg', 'accept-ranges': 'bytes' };
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range && !api.ignoreRange) {
      const start = Number(range[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      status = 206;
      part = body.subarray(start);
      headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    }
    headers['content-length'] = part.length;
    if (cutAt !== null) {
      const n = cutAt;
      cutAt = null;
      res.writeHead(status, headers);
      res.write(part.subarray(0, n), () => setTimeout(() => res.socket?.destroy(), 200));
      return;
    }
    res.writeHead(status, headers).end(part);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  server.keepAliveTimeout = 100;
  const api: MediaServer = {
    ignoreRange: false,
    put(bytes, as) {
      const sha256 = as ?? sha256Of(bytes);
      files.set(sha256, bytes);
      return { sha256, url: `http://127.0.0.1:${port}/media/${sha256}` };
    },
    requests,
    failNext(n, status) {
      failures = n;
      failStatus = status;
    },
    cutNext(bytes) {
      cutAt = bytes;
    },
  };
  return api;
}

export function sha256Of(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function randomAudio(size = 2048): Buffer {
  return randomBytes(size);
}

export interface AgentFixture {
  agent: DeviceAgent;
  config: AgentConfig;
  player: NullPlayer;
  /** The simulated board the agent runs on. */
  board: SimBoard;
  dir: string;
}

export const CREDENTIALS = { username: 'dev-spk-01', password: 'secret-0123456789abcdef' };

export async function startAgent(
  t: Tap,
  /** The broker it connects to (any URL: nothing may listen there yet). */
  broker: Pick<TestBroker, 'url'>,
  overrides: Partial<AgentConfigInput> & {
    audio?: Player;
    dir?: string;
    board?: SimBoard;
    /** Real hardware from the config instead of a SimBoard, with this environment for its tools. */
    realHardware?: NodeJS.ProcessEnv;
    logs?: LogRing;
    logger?: Logger;
    fetch?: FetchLike;
    /** Where relays' PCM goes (a RecordingSink to count what the speaker got); a CountingSink for `null` otherwise. */
    sink?: PcmSink;
    clock?: Clock;
    clockSampleSettleMs?: number;
    waitConnected?: boolean;
  } = {},
): Promise<AgentFixture> {
  const { audio: customPlayer, dir: givenDir, board: givenBoard, realHardware, logs, logger, fetch, sink, clock, clockSampleSettleMs, waitConnected, ...configOverrides } = overrides;
  const dir = givenDir ?? tempDir(t);
  const config = parseAgentConfig({
    deviceId: 'spk-01',
    mqtt: { url: broker.url, ...CREDENTIALS },
    areaCode: '01001',
    areaAncestors: ['01'],
    cacheDir: `${dir}/cache`,
    stateDir: `${dir}/state`,
    heartbeatMs: 30_000,
    reconnectMs: 100,
    player: 'null',
    downloadRetryMs: 50,
    ...configOverrides,
  });
  const player = new NullPlayer();
  const board = givenBoard ?? new SimBoard();
  const agent = new DeviceAgent({
    config,
    player: customPlayer ?? player,
    logger: logger ?? silentLogger(),
    ...(realHardware ? { env: realHardware } : { hardware: board.hardware() }),
    ...(logs ? { logs } : {}),
    ...(fetch ? { fetch } : {}),
    ...(sink ? { sink } : {}),
    ...(clock ? { clock } : {}),
    ...(clockSampleSettleMs !== undefined ? { clockSampleSettleMs } : {}),
  });
  const connected = new Promise<void>((resolve) => agent.once('connect', resolve));
  await agent.start();
  t.teardown(() => agent.stop({ timeoutMs: 1_000 }));
  if (waitConnected !== false) await connected;
  return { agent, config, player, board, dir };
}

/** Polls until `fn` returns a value that is not undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(fn: () => T | undefined | false, timeoutMs = 5_000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Fault events the broker saw from spk-01 (or `deviceId`). */
export function faultEvents(b: TestBroker, deviceId = 'spk-01'): Array<Extract<Payload<'event'>, { kind: 'fault' }>> {
  return messagesOn(b, topics.deviceEvent(deviceId), 'event')
    .map((m) => m.payload)
    .filter((p): p is Extract<Payload<'event'>, { kind: 'fault' }> => p.kind === 'fault');
}

/** Telemetry payloads as sent (raw JSON, for loose matching). */
export function rawTelemetry(b: TestBroker, deviceId = 'spk-01'): Array<Record<string, any>> {
  return b.published.filter((p) => p.topic === topics.deviceTelemetry(deviceId)).map((p) => JSON.parse(p.payload.toString()).payload);
}

/** Decoded messages of one type published on `topic`. */
export function messagesOn<T extends MessageType>(b: TestBroker, topic: string, type: T): Array<{ payload: Payload<T>; retain: boolean; id: string }> {
  const out: Array<{ payload: Payload<T>; retain: boolean; id: string }> = [];
  for (const p of b.published) {
    if (p.topic !== topic) continue;
    const d = decodeMessage(p.payload, [type]);
    if (d.ok) out.push({ payload: d.value.payload, retain: p.retain, id: d.value.id });
  }
  return out;
}

export function answersOn(b: TestBroker, topic: string): Response[] {
  const out: Response[] = [];
  for (const p of b.published) {
    if (p.topic !== topic) continue;
    const d = decodeResponse(p.payload);
    if (d.ok) out.push(d.value);
  }
  return out;
}

export function command<T extends MessageType>(type: T, payload: Payload<T>, opts: { id?: string; expiresAt?: number } = {}): { id: string; body: string } {
  const id = opts.id ?? randomUUID();
  return { id, body: encodeMessage(type, payload, { id, ...(opts.expiresAt !== undefined ? { expiresAt: opts.expiresAt } : {}) }) };
}
