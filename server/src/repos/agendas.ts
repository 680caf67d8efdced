import type { Db } from '../db/database.js';

/** The agenda last sent to a box: its version, items' hash, and when it was generated (`sent_at`). */
export interface SentAgenda {
  deviceId: string;
  version: number;
  hash: string;
  sentAt: number;
}

/** What was sent to each box as its agenda (`device_agendas`), read and written many boxes at a time by AgendaService. */
export class DeviceAgendaRepository {
  private readonly heldStmt;
  private readonly sentStmt;

  constructor(private readonly db: Db) {
    this.heldStmt = db.prepare<[string], { device_id: string; version: number; hash: string; sent_at: number }>(
      'SELECT device_id, version, hash, sent_at FROM device_agendas WHERE device_id IN (SELECT value FROM json_each(?))',
    );
    this.sentStmt = db.prepare(
      `INSERT INTO device_agendas (device_id, version, hash, items, sent_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(device_id) DO UPDATE SET version = excluded.version, hash = excluded.hash, items = excluded.items, sent_at = excluded.sent_at`,
    );
  }

  /** The agendas last sent to these boxes, by device id (boxes never sent one are missing). */
  lastSent(deviceIds: readonly string[]): Map<string, SentAgenda> {
    return new Map(this.heldStmt.all(JSON.stringify(deviceIds)).map((r) => [r.device_id, { deviceId: r.device_id, version: r.version, hash: r.hash, sentAt: r.sent_at }]));
  }

  /**
   * Records agendas as sent, in one transaction. A row that cannot be written (its device removed
   * meanwhile) is handed to `failed` and must not take the others' records with it.
   */
  recordSent(sent: ReadonlyArray<{ deviceId: string; version: number; hash: string; items: number }>, at: number, failed: (deviceId: string, err: unknown) => void): void {
    this.db.transaction(() => {
      for (const o of sent) {
        try {
          this.sentStmt.run(o.deviceId, o.version, o.hash, o.items, at);
        } catch (err) {
          failed(o.deviceId, err);
        }
      }
    })();
  }
}
