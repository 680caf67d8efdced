/**
 * Keeps each box's agenda — its items of the coming week — in step with the store (issue 4 § Delivery).
 * The box keeps the agenda on its own disk and plays from its own clock, so scheduled items air even while
 * it is disconnected, and a newer agenda without an item is how a cancellation reaches a box that was away.
 * An agenda is sent only when its items changed (hash), to boxes that are online; a box that reconnects
 * gets the current one.
 */
import type { Logger } from 'pino';
import { encodeMessage, topics, type Payload } from '@loaxa/shared';
import type { Db } from '../db/database.js';
import type { MessageBus } from '../broker/bus.js';
import type { Broadcast, BroadcastRepository } from '../repos/broadcasts.js';
import type { DeviceRepository } from '../repos/devices.js';
import { agendaHash, AGENDA_HORIZON_MS, MAX_AGENDA_ITEMS } from '../scheduling/agenda.js';
import type { DeliveryService } from './delivery-service.js';

type AgendaItem = Payload<'sync-agenda'>['items'][number];

export class AgendaService {
  private readonly dirty = new Set<string>();
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(
    private readonly deps: { db: Db; bus: MessageBus; broadcasts: BroadcastRepository; devices: DeviceRepository; delivery: DeliveryService; logger: Logger; now?: () => number },
  ) {
    this.log = deps.logger.child({ module: 'agenda' });
    this.now = deps.now ?? Date.now;
  }

  /** Notes that these devices' agendas may have changed; the next flush sends what did. */
  markDirty(deviceIds: Iterable<string>): void {
    for (const id of deviceIds) this.dirty.add(id);
  }

  /** The agenda a device should hold now. */
  build(deviceId: string): AgendaItem[] {
    const now = this.now();
    const cache = new Map<string, Broadcast | null>();
    const items: AgendaItem[] = [];
    for (const d of this.deps.broadcasts.upcomingForDevice(deviceId, now, now + AGENDA_HORIZON_MS)) {
      if (!cache.has(d.broadcastId)) cache.set(d.broadcastId, this.deps.broadcasts.get(d.broadcastId));
      const b = cache.get(d.broadcastId);
      const play = b ? this.deps.delivery.playPayload(b, d.occurrenceAt) : null;
      if (play) items.push({ ...play, commandId: d.commandId });
      if (items.length >= MAX_AGENDA_ITEMS) break;
    }
    return items;
  }

  /** Sends the device its agenda if it changed since the last one sent (or `force`). */
  async sync(deviceId: string, force = false): Promise<boolean> {
    const items = this.build(deviceId);
    const hash = agendaHash(items);
    const prev = this.deps.db.prepare('SELECT version, hash FROM device_agendas WHERE device_id = ?').get(deviceId) as { version: number; hash: string } | undefined;
    if (prev && prev.hash === hash && !force) return false;
    const version = prev ? (prev.hash === hash ? prev.version : prev.version + 1) : 1;
    const now = this.now();
    const msg = encodeMessage('sync-agenda', { version, generatedAt: now, items });
    await this.deps.bus.publish(topics.deviceCmd(deviceId), msg, { qos: 1, retain: false });
    this.deps.db
      .prepare(
        `INSERT INTO device_agendas (device_id, version, hash, items, sent_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(device_id) DO UPDATE SET version = excluded.version, hash = excluded.hash, items = excluded.items, sent_at = excluded.sent_at`,
      )
      .run(deviceId, version, hash, items.length, now);
    this.log.debug({ deviceId, version, items: items.length }, 'agenda sent');
    return true;
  }

  /** Sends changed agendas to the dirty devices that are online; offline ones get theirs on reconnect. */
  async flush(): Promise<number> {
    let sent = 0;
    const ids = [...this.dirty];
    this.dirty.clear();
    for (const id of ids) {
      if (!this.deps.devices.get(id)?.online) continue;
      try {
        if (await this.sync(id)) sent++;
      } catch (err) {
        this.dirty.add(id);
        this.log.warn({ err, deviceId: id }, 'agenda not sent; will retry');
      }
    }
    return sent;
  }
}
