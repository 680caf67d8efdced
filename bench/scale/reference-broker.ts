/**
 * The bare reference of the scale benchmarks (issue 8), run as its own process so that its CPU time and
 * memory are read from /proc exactly like the server's: a bare aedes broker (no authentication, no ACL,
 * sessions in memory, the same `drainTimeout` as the server) and, in the same process, a subscriber that
 * stores every heartbeat in SQLite (better-sqlite3, WAL, rows batched in one transaction every 250 ms).
 *
 * Driven by the benchmark over the IPC channel of `fork` (messages checked with zod):
 * - `start` → `listening {port}`;
 * - `publish` → `published {at}`: one message from the broker itself, e.g. a QoS 1 `play` on an area topic
 *   every box follows (the fan-out reference); `at` is the instant just before it was handed to aedes;
 * - `stats` → counts and the duration of every heartbeat batch since the previous `stats`, and the
 *   `playing` reports received (the instant each reached this process);
 * - `stop`, or the parent going away → exit.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Aedes, type PublishPacket } from 'aedes';
import Database from 'better-sqlite3';
import { z } from 'zod';

const BATCH_EVERY_MS = 250;

export const toReferenceSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start'), dbFile: z.string().min(1), drainTimeoutMs: z.number().int().positive() }),
  z.object({ type: z.literal('publish'), topic: z.string().min(1), payload: z.string(), qos: z.union([z.literal(0), z.literal(1)]) }),
  z.object({ type: z.literal('stats') }),
  z.object({ type: z.literal('stop') }),
]);
export type ToReference = z.infer<typeof toReferenceSchema>;

export const fromReferenceSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('listening'), port: z.number().int() }),
  z.object({ type: z.literal('published'), at: z.number() }),
  z.object({
    type: z.literal('stats'),
    heartbeatsStored: z.number().int(),
    batchMs: z.array(z.number()),
    /** `playing` delivery reports: device, broadcast and the instant the report reached this process. */
    playing: z.array(z.object({ deviceId: z.string(), broadcastId: z.string(), receivedAt: z.number() })),
  }),
  z.object({ type: z.literal('error'), message: z.string() }),
]);
export type FromReference = z.infer<typeof fromReferenceSchema>;

function main(): void {
  const send = (m: FromReference): void => {
    if (process.connected) process.send?.(m);
  };
  let broker: Aedes | null = null;
  let server: Server | null = null;
  let db: Database.Database | null = null;
  let timer: NodeJS.Timeout | null = null;
  let pending: Array<[string, number, string]> = [];
  let stored = 0;
  let batchMs: number[] = [];
  // Delivery reports are kept raw and read only when asked for: the reference's hot path stays bare.
  let events: Array<[string, number, Buffer]> = [];

  const flush = (tx: (rows: Array<[string, number, string]>) => void): void => {
    if (pending.length === 0) return;
    const rows = pending;
    pending = [];
    const t = performance.now();
    tx(rows);
    batchMs.push(performance.now() - t);
    stored += rows.length;
  };

  const start = async (dbFile: string, drainTimeoutMs: number): Promise<number> => {
    db = new Database(dbFile);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec('CREATE TABLE IF NOT EXISTS heartbeats (device_id TEXT NOT NULL, received_at INTEGER NOT NULL, stored_at INTEGER NOT NULL, body TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO heartbeats (device_id, received_at, stored_at, body) VALUES (?, ?, ?, ?)');
    const tx = db.transaction((rows: Array<[string, number, string]>) => {
      const at = Date.now();
      for (const [deviceId, receivedAt, body] of rows) insert.run(deviceId, receivedAt, at, body);
    });
    timer = setInterval(() => flush(tx), BATCH_EVERY_MS);
    broker = await Aedes.createBroker({ drainTimeout: drainTimeoutMs });
    // In-process subscribers, as the server subscribes to its embedded broker.
    broker.subscribe(
      'loaxa/v1/d/+/telemetry',
      (packet: PublishPacket, cb: () => void) => {
        pending.push([packet.topic.split('/')[3]!, Date.now(), packet.payload.toString()]);
        cb();
      },
      () => undefined,
    );
    broker.subscribe(
      'loaxa/v1/d/+/event',
      (packet: PublishPacket, cb: () => void) => {
        events.push([packet.topic.split('/')[3]!, Date.now(), Buffer.from(packet.payload)]);
        cb();
      },
      () => undefined,
    );
    const s = createServer(broker.handle);
    server = s;
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve());
    });
    return (s.address() as AddressInfo).port;
  };

  const playingReports = (): Array<{ deviceId: string; broadcastId: string; receivedAt: number }> => {
    const out: Array<{ deviceId: string; broadcastId: string; receivedAt: number }> = [];
    for (const [deviceId, receivedAt, raw] of events) {
      try {
        const body = JSON.parse(raw.toString('utf8')) as { payload?: { kind?: unknown; state?: unknown; broadcastId?: unknown } };
        if (body.payload?.kind === 'delivery' && body.payload.state === 'playing' && typeof body.payload.broadcastId === 'string') {
          out.push({ deviceId, broadcastId: body.payload.broadcastId, receivedAt });
        }
      } catch {
        // Not JSON: not a report this benchmark counts.
      }
    }
    events = [];
    return out;
  };

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    if (timer) clearInterval(timer);
    server?.close();
    const done = (): void => {
      db?.close();
      process.exit(0);
    };
    if (broker) broker.close(done);
    else done();
    setTimeout(() => process.exit(0), 3_000).unref();
  };

  process.on('message', (raw: unknown) => {
    const parsed = toReferenceSchema.safeParse(raw);
    if (!parsed.success) return send({ type: 'error', message: `bad message: ${parsed.error.issues[0]?.message ?? 'invalid'}` });
    const m = parsed.data;
    if (m.type === 'start') {
      start(m.dbFile, m.drainTimeoutMs).then(
        (port) => send({ type: 'listening', port }),
        (err: unknown) => send({ type: 'error', message: (err as Error).message }),
      );
    } else if (m.type === 'publish') {
      if (!broker) return send({ type: 'error', message: 'not started' });
      const at = Date.now();
      const packet = { cmd: 'publish', topic: m.topic, payload: Buffer.from(m.payload), qos: m.qos, retain: false, dup: false } as PublishPacket;
      broker.publish(packet, () => undefined);
      send({ type: 'published', at });
    } else if (m.type === 'stats') {
      const out = batchMs;
      batchMs = [];
      send({ type: 'stats', heartbeatsStored: stored, batchMs: out, playing: playingReports() });
    } else {
      stop();
    }
  });
  process.on('disconnect', stop);
  send({ type: 'ready' });
}

// Only as the forked process: the benchmark imports the schemas above.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
