/**
 * The agenda on the box's own disk (`<stateDir>/agenda.json`): the last `sync-agenda` payload taken, read
 * back through the shared schema (STYLE.md habit 3) and written atomically (temp file + fsync + rename +
 * folder fsync, atomic-file.ts), so a power cut leaves the previous or the new agenda, never a torn one.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { syncAgendaPayloadSchema, type Payload } from '@loaxa/shared';
import type { Logger } from 'pino';
import { writeFileAtomic } from './atomic-file.js';

export const AGENDA_FILE = 'agenda.json';

export type SyncAgenda = Payload<'sync-agenda'>;
export type AgendaItem = SyncAgenda['items'][number];

export class AgendaStore {
  constructor(private readonly deps: { dir: string; logger: Logger }) {}

  get file(): string {
    return join(this.deps.dir, AGENDA_FILE);
  }

  /** The stored agenda; null when there is none or it cannot be trusted (the server sends it again). */
  async load(): Promise<SyncAgenda | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch {
      return null;
    }
    try {
      return syncAgendaPayloadSchema.parse(JSON.parse(text));
    } catch (err) {
      this.deps.logger.warn({ file: this.file, err: (err as Error).message.slice(0, 500) }, 'ignoring an unreadable agenda file');
      return null;
    }
  }

  async save(agenda: SyncAgenda): Promise<void> {
    await mkdir(this.deps.dir, { recursive: true });
    await writeFileAtomic(this.file, JSON.stringify(syncAgendaPayloadSchema.parse(agenda)), { mode: 0o600 });
  }
}
