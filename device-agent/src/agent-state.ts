/**
 * What the agent keeps on its own disk between restarts: the volume, the ids of recently executed
 * commands (so a QoS 1 redelivery after a reboot is still recognised [MQTT-4.3.2]) and the deliveries
 * that reached their final state (so the agenda, reloaded after a reboot, does not air them twice). Read through a zod
 * schema, written to a temp file and renamed, so a power cut leaves either the old or the new file.
 */
import { mkdir, readFile, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { deliveryStateSchema, faultKindSchema } from '@loaxa/shared';
import type { Logger } from 'pino';
import { ATOMIC_TEMP_SUFFIX, writeFileAtomic } from './atomic-file.js';

export const STATE_FILE = 'agent-state.json';

export const agentStateSchema = z.object({
  v: z.literal(1),
  volume: z.number().int().min(0).max(100),
  recentCommandIds: z.array(z.string().max(64)).max(10_000),
  /** Faults active at the last save, with when they started (so a restart reports their end, not a new start). */
  activeFaults: z.array(z.object({ fault: faultKindSchema, since: z.number().int().nonnegative(), detail: z.string().max(500).optional() })).max(20).default([]),
  /** Deliveries (`broadcastId@occurrenceAt`) that reached a final state, with the command that carried them. */
  finishedDeliveries: z.array(z.object({ key: z.string().max(200), commandId: z.string().max(64), state: deliveryStateSchema })).max(10_000).default([]),
});
export type AgentState = z.infer<typeof agentStateSchema>;
/** What a save may give (lists with defaults may be left out). */
export type AgentStateInput = z.input<typeof agentStateSchema>;

export const DEFAULT_VOLUME = 80;

function emptyState(): AgentState {
  return { v: 1, volume: DEFAULT_VOLUME, recentCommandIds: [], activeFaults: [], finishedDeliveries: [] };
}

export class AgentStateStore {
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;

  constructor(private readonly deps: { dir: string; logger: Logger }) {}

  get file(): string {
    return join(this.deps.dir, STATE_FILE);
  }

  /** The saved state, or defaults when there is none or it cannot be trusted. */
  async load(): Promise<AgentState> {
    await mkdir(this.deps.dir, { recursive: true });
    // Temp files of writes a power cut interrupted; the real file still holds the previous state.
    for (const name of await readdir(this.deps.dir)) {
      if (name.endsWith(ATOMIC_TEMP_SUFFIX)) await unlink(join(this.deps.dir, name)).catch(() => undefined);
    }
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch {
      return emptyState();
    }
    try {
      return agentStateSchema.parse(JSON.parse(text));
    } catch (err) {
      this.deps.logger.warn({ file: this.file, err: (err as Error).message }, 'ignoring an unreadable agent state file');
      return emptyState();
    }
  }

  /**
   * Saves `read()` soon; calls while a write runs are coalesced into one more write, so a burst of
   * commands costs two writes, not one per command.
   */
  save(read: () => AgentStateInput): Promise<void> {
    if (this.dirty) return this.writing;
    this.dirty = true;
    this.writing = this.writing.then(async () => {
      this.dirty = false;
      const state = agentStateSchema.parse(read());
      try {
        await writeFileAtomic(this.file, JSON.stringify(state), { mode: 0o600 });
      } catch (err) {
        this.deps.logger.error({ file: this.file, err: (err as Error).message }, 'cannot save the agent state');
      }
    });
    return this.writing;
  }

  /** Resolves when pending writes are on disk. */
  flush(): Promise<void> {
    return this.writing;
  }
}

/** Remembers the most recent ids (insertion order), forgetting the oldest beyond `capacity`. */
export class RecentIds<V> {
  private readonly map = new Map<string, V>();

  constructor(private readonly capacity: number) {}

  has(id: string): boolean {
    return this.map.has(id);
  }

  get(id: string): V | undefined {
    return this.map.get(id);
  }

  set(id: string, value: V): void {
    this.map.delete(id);
    this.map.set(id, value);
    while (this.map.size > this.capacity) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
    }
  }

  ids(): string[] {
    return [...this.map.keys()];
  }
}
