/**
 * Delivery and fault reports arrive late rather than never (issue 4 § Delivery on the devices): every
 * report is first written to `<stateDir>/outbox/` — one small file per event, named by a sequence number,
 * written atomically — and removed only once the broker has acknowledged it (PUBACK [MQTT-4.3.2]). While
 * the link is down they wait there, across restarts and power cuts, and are sent in order when it returns.
 * The folder is bounded: beyond `maxBytes` the oldest reports are dropped, with a warning.
 *
 * Delivery is at least once: a report in flight when the link drops is sent again after the reconnect.
 * The server ignores repeats (a delivery never moves backwards; a repeated fault start is the same fault).
 */
import { mkdir, readFile, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeMessage } from '@loaxa/shared';
import type { Logger } from 'pino';
import { ATOMIC_TEMP_SUFFIX, writeFileAtomic } from './atomic-file.js';

export const OUTBOX_DIR = 'outbox';

const FILE_RE = /^(\d{16})\.json$/;

interface Entry {
  seq: number;
  file: string;
  body: string;
  bytes: number;
  /** The link generation it was last published on (0: not sent on the current link). */
  sentOn: number;
}

export interface ReportOutboxDeps {
  /** The agent's state folder; reports go to its `outbox/`. */
  stateDir: string;
  maxBytes: () => number;
  logger: Logger;
  /** Whether the link is up now. */
  connected: () => boolean;
  /** Publishes one encoded `event` envelope at QoS 1; resolves on the broker's acknowledgement. */
  publish: (body: string) => Promise<void>;
}

export class ReportOutbox {
  private entries: Entry[] = [];
  private nextSeq = 1;
  private link = 1;
  private writing: Promise<void> = Promise.resolve();
  private readonly inflight = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly deps: ReportOutboxDeps) {}

  get dir(): string {
    return join(this.deps.stateDir, OUTBOX_DIR);
  }

  /** Reports waiting for the broker's acknowledgement. */
  get pending(): number {
    return this.entries.length;
  }

  /** Reads the reports left by earlier runs, oldest first; unreadable ones are dropped. */
  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const names = (await readdir(this.dir)).sort();
    for (const name of names) {
      const file = join(this.dir, name);
      if (name.endsWith(ATOMIC_TEMP_SUFFIX)) {
        await unlink(file).catch(() => undefined);
        continue;
      }
      const m = FILE_RE.exec(name);
      if (!m) continue;
      const body = await readFile(file, 'utf8').catch(() => '');
      // Read back through the shared schema: a damaged file is never sent.
      if (!decodeMessage(body, ['event']).ok) {
        this.deps.logger.warn({ file }, 'dropping an unreadable queued report');
        await unlink(file).catch(() => undefined);
        continue;
      }
      const seq = Number(m[1]);
      this.entries.push({ seq, file, body, bytes: Buffer.byteLength(body), sentOn: 0 });
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
    }
    if (this.entries.length > 0) this.deps.logger.info({ reports: this.entries.length }, 'reports queued on disk from before the restart');
  }

  /** Queues one encoded event; it is on disk before it is sent. */
  add(body: string): void {
    if (this.closed) return;
    const seq = this.nextSeq++;
    const file = join(this.dir, `${String(seq).padStart(16, '0')}.json`);
    this.writing = this.writing
      .then(async () => {
        await writeFileAtomic(file, body);
        this.entries.push({ seq, file, body, bytes: Buffer.byteLength(body), sentOn: 0 });
        await this.bound();
      })
      .catch((err: unknown) => {
        // The disk refused it (full, read-only): send it from memory rather than not at all.
        this.deps.logger.error({ err: (err as Error).message }, 'cannot queue a report on disk; sending it from memory');
        this.entries.push({ seq, file, body, bytes: Buffer.byteLength(body), sentOn: 0 });
      })
      .then(() => this.pump());
  }

  /** The link is (back) up: what waits is sent, in order. */
  connected(): void {
    void this.writing.then(() => this.pump());
  }

  /** The link is lost: what was in flight on it is sent again on the next one. */
  disconnected(): void {
    this.link += 1;
  }

  /** Resolves when every report added so far is on disk. */
  flush(): Promise<void> {
    return this.writing;
  }

  /**
   * Stops taking reports and waits for those in flight to be acknowledged (bound this wait: offline, it
   * may never end). What is not acknowledged stays on disk for the next run.
   */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    await Promise.allSettled([...this.inflight]);
  }

  private pump(): void {
    if (this.closed || !this.deps.connected()) return;
    const link = this.link;
    for (const entry of this.entries) {
      if (entry.sentOn === link) continue;
      entry.sentOn = link;
      const sent = this.deps.publish(entry.body).then(
        () => this.remove(entry),
        () => {
          if (entry.sentOn === link) entry.sentOn = 0;
        },
      );
      this.inflight.add(sent);
      void sent.finally(() => this.inflight.delete(sent));
    }
  }

  private async remove(entry: Entry): Promise<void> {
    const i = this.entries.indexOf(entry);
    if (i < 0) return;
    this.entries.splice(i, 1);
    await unlink(entry.file).catch(() => undefined);
  }

  /** Drops the oldest reports beyond the size cap. */
  private async bound(): Promise<void> {
    const max = this.deps.maxBytes();
    let total = this.entries.reduce((sum, e) => sum + e.bytes, 0);
    let dropped = 0;
    while (total > max && this.entries.length > 1) {
      const oldest = this.entries.shift()!;
      total -= oldest.bytes;
      dropped += 1;
      await unlink(oldest.file).catch(() => undefined);
    }
    if (dropped > 0) this.deps.logger.warn({ dropped, keptBytes: total, maxBytes: max }, 'report queue full: oldest reports dropped');
  }
}
