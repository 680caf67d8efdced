/**
 * Keeps each box's agenda — its items of the coming week — in step with the store (issue 4 § Delivery).
 * The box keeps the agenda on its own disk and plays from its own clock, so scheduled items air even while
 * it is disconnected, and a newer agenda without an item is how a cancellation reaches a box that was away.
 * An agenda is sent only when its items changed (hash), to boxes that are online; a box that reconnects
 * gets the current one unless it says (in its `online` status) that it holds exactly the one last sent to
 * it and that one is still current, or that it holds none and there is nothing for it (`syncReconnected`).
 *
 * Agendas are built for many boxes at once (one query for their items, one for the versions they hold,
 * one transaction for what was sent): a broadcast to 10,000 boxes, or 10,000 boxes reconnecting, changes
 * 10,000 agendas at a time (issue 8 § Make it fast).
 */
import type { Logger } from 'pino';
import { encodeAgenda, topics, type CheckedPayload, type Payload } from '@loaxa/shared';
import type { Db } from '../db/database.js';
import { DeviceAgendaRepository } from '../repos/agendas.js';
import type { MessageBus } from '../broker/bus.js';
import type { BroadcastRepository } from '../repos/broadcasts.js';
import type { DeviceRepository } from '../repos/devices.js';
import { assembleAgenda, agendaHash, AGENDA_HORIZON_MS, MAX_AGENDA_ITEMS } from '../scheduling/agenda.js';
import type { DeliveryService, HeldAgendas } from './delivery-service.js';

type AgendaItem = Payload<'sync-agenda'>['items'][number];
/** An item with its play payload as checked once for every box that holds it. */
type Entry = { item: AgendaItem; play: CheckedPayload<'play'>; commandId: string; bytes: number };

/**
 * An agenda item's bytes: its play payload's JSON, serialized once per occurrence for every box (CheckedPayload),
 * plus the command id. Measured once per payload, not once per box and item (10,000 boxes share an occurrence).
 */
const payloadBytes = new WeakMap<CheckedPayload<'play'>, number>();
function itemBytes(play: CheckedPayload<'play'>): number {
  let n = payloadBytes.get(play);
  if (n === undefined) payloadBytes.set(play, (n = Buffer.byteLength(play.json)));
  return n + ',"commandId":"00000000-0000-0000-0000-000000000000"'.length + 1;
}

/** Agendas built, sent and recorded this many boxes at a time. */
const CHUNK = 1_000;
const EMPTY_HASH = agendaHash([]);

/**
 * Which boxes get their agenda: those whose agenda changed since the last one sent (`changed`), all of them
 * (`force`), or reconnecting boxes by what they say they hold (`reconnect`, see `syncReconnected`).
 */
type SyncMode = { kind: 'changed' } | { kind: 'force' } | { kind: 'reconnect'; held: HeldAgendas };

export class AgendaService {
  private readonly dirty = new Set<string>();
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly agendas: DeviceAgendaRepository;

  constructor(
    private readonly deps: {
      /** What was sent to each box; built from `db` when not given (callers that only have the database). */
      agendas?: DeviceAgendaRepository;
      db?: Db;
      bus: MessageBus;
      broadcasts: BroadcastRepository;
      devices: DeviceRepository;
      delivery: DeliveryService;
      logger: Logger;
      now?: () => number;
    },
  ) {
    this.log = deps.logger.child({ module: 'agenda' });
    this.now = deps.now ?? Date.now;
    if (deps.agendas) this.agendas = deps.agendas;
    else if (deps.db) this.agendas = new DeviceAgendaRepository(deps.db);
    else throw new Error('AgendaService needs its agendas repository');
  }

  /** Notes that these devices' agendas may have changed; the next flush sends what did. */
  markDirty(deviceIds: Iterable<string>): void {
    for (const id of deviceIds) this.dirty.add(id);
  }

  /** The agenda a device should hold now. */
  build(deviceId: string): AgendaItem[] {
    const now = this.now();
    return assembleAgenda(this.buildMany([deviceId], now).get(deviceId) ?? [], now).entries.map((e) => e.item);
  }

  /**
   * The occurrences of many devices, from one query of their written deliveries (services/scheduler.ts writes
   * them ahead), each with its play payload; broadcasts and payloads are read once. `assembleAgenda` orders,
   * caps, hashes and versions them.
   */
  private buildMany(deviceIds: readonly string[], now: number): Map<string, Entry[]> {
    const book = this.deps.delivery.playBook();
    const agendas = new Map<string, Entry[]>(deviceIds.map((id) => [id, []]));
    for (const d of this.deps.broadcasts.upcomingForDevices(deviceIds, now, now + AGENDA_HORIZON_MS)) {
      const entries = agendas.get(d.deviceId)!;
      // Rows come by start time, so the soonest are kept; no payload is built for what cannot be sent.
      if (entries.length >= MAX_AGENDA_ITEMS) continue;
      const b = book.broadcast(d.broadcastId);
      const play = b ? book.payload(b, d.occurrenceAt) : null;
      if (play) entries.push({ item: { ...play.value, commandId: d.commandId }, play, commandId: d.commandId, bytes: itemBytes(play) });
    }
    return agendas;
  }

  /** Sends the device its agenda if it changed since the last one sent (or `force`). */
  async sync(deviceId: string, force = false): Promise<boolean> {
    const r = await this.syncChunk([deviceId], { kind: force ? 'force' : 'changed' });
    if (r.errors.length) throw r.errors[0];
    return r.sent > 0;
  }

  /**
   * `sync` for many devices. Those whose agenda could not be published are answered in `failed` (and
   * logged); the others are recorded as sent.
   */
  async syncMany(deviceIds: readonly string[], force = false): Promise<{ sent: number; failed: string[] }> {
    return this.syncAll(deviceIds, { kind: force ? 'force' : 'changed' });
  }

  /**
   * Agendas for boxes that just said they are online, each by what its status said it holds (`held`): a box
   * holding exactly the agenda last sent to it (same version and `generatedAt`) while that agenda is still
   * current, or holding none while there is nothing for it, is left alone; any other box gets the current
   * agenda — one that holds an older or another agenda (a wiped or restored disk, a newer agenda sent while
   * it was away, a cancellation it missed), and one that did not say (an older agent), as before. A box
   * holding an agenda of the same or a higher version that is not ours (a restored server database) gets
   * ours under a version above its own, since the agent ignores versions it does not exceed.
   */
  async syncReconnected(deviceIds: readonly string[], held: HeldAgendas): Promise<{ sent: number; failed: string[] }> {
    return this.syncAll(deviceIds, { kind: 'reconnect', held });
  }

  private async syncAll(deviceIds: readonly string[], mode: SyncMode): Promise<{ sent: number; failed: string[] }> {
    let sent = 0;
    const failed: string[] = [];
    for (let i = 0; i < deviceIds.length; i += CHUNK) {
      const r = await this.syncChunk(deviceIds.slice(i, i + CHUNK), mode);
      sent += r.sent;
      failed.push(...r.failed);
      for (const [j, err] of r.errors.entries()) this.log.warn({ err, deviceId: r.failed[j] }, 'agenda not sent; will retry');
    }
    return { sent, failed };
  }

  private async syncChunk(deviceIds: readonly string[], mode: SyncMode): Promise<{ sent: number; failed: string[]; errors: unknown[] }> {
    const agendas = this.buildMany(deviceIds, this.now());
    const recorded = this.agendas.lastSent(deviceIds);
    const now = this.now();
    const out: Array<{ deviceId: string; version: number; hash: string; items: number; publish: Promise<unknown> }> = [];
    for (const [deviceId, entries] of agendas) {
      const prev = recorded.get(deviceId);
      // undefined: not a reconnect, or the box did not say what it holds.
      const reported = mode.kind === 'reconnect' ? mode.held.get(deviceId) : undefined;
      const agenda = assembleAgenda(entries, now, { previous: prev, held: reported });
      const { hash, version } = agenda;
      if (mode.kind === 'changed' && prev && prev.hash === hash) continue;
      if (mode.kind === 'reconnect') {
        if (reported === null && entries.length === 0 && (!prev || prev.hash === EMPTY_HASH)) continue;
        if (reported && prev && prev.hash === hash && reported.version === prev.version && reported.generatedAt === prev.sentAt) continue;
      }
      const msg = encodeAgenda({ version, generatedAt: now, items: agenda.entries });
      out.push({ deviceId, version, hash, items: agenda.entries.length, publish: this.deps.bus.publish(topics.deviceCmd(deviceId), msg, { qos: 1, retain: false }) });
    }
    if (out.length === 0) return { sent: 0, failed: [], errors: [] };
    const results = await Promise.allSettled(out.map((o) => o.publish));
    const sent = out.filter((_, i) => results[i]!.status === 'fulfilled');
    // One device's row (removed meanwhile) must not take the others' records with it.
    this.agendas.recordSent(sent, now, (deviceId, err) => this.log.warn({ err, deviceId }, 'agenda sent but not recorded'));
    for (const o of sent) this.log.debug({ deviceId: o.deviceId, version: o.version, items: o.items }, 'agenda sent');
    const failed = out.flatMap((o, i) => (results[i]!.status === 'rejected' ? [o.deviceId] : []));
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    return { sent: sent.length, failed, errors };
  }

  /** Sends changed agendas to the dirty devices that are online; offline ones get theirs on reconnect. */
  async flush(): Promise<number> {
    const ids = [...this.dirty];
    this.dirty.clear();
    if (ids.length === 0) return 0;
    const online = this.deps.devices.onlineAmong(ids);
    const { sent, failed } = await this.syncMany(ids.filter((id) => online.has(id)));
    this.markDirty(failed);
    return sent;
  }
}
