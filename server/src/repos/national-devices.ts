/**
 * Boxes named the national way (issue 17): a device control that came down lists *CumLoaID*s, our
 * `devices.national_id` (the modem's IMEI), or our own device id when the installer left that empty.
 */
import type { Db } from '../db/database.js';

export class NationalDeviceRepository {
  constructor(private readonly db: Db) {}

  /** Our device id for a national box id: by national_id first, then as our own id (only for boxes without one). */
  resolve(nationalId: string): string | null {
    const byNational = this.db.prepare('SELECT id FROM devices WHERE national_id = ?').get(nationalId) as { id: string } | undefined;
    if (byNational) return byNational.id;
    const own = this.db.prepare('SELECT id FROM devices WHERE id = ? AND national_id IS NULL').get(nationalId) as { id: string } | undefined;
    return own?.id ?? null;
  }

  setNationalId(deviceId: string, nationalId: string | null): void {
    this.db.prepare('UPDATE devices SET national_id = ? WHERE id = ?').run(nationalId, deviceId);
  }
}
