/**
 * A device's agenda (issue 4 § Delivery): the next 7 days of occurrences of the broadcasts that reach it,
 * as `sync-agenda` items (shared/src/messages.ts: play payload + commandId). Pure: `now` is passed in.
 * The version only moves when the items change, so a re-sync of an unchanged agenda is a no-op on the device.
 *
 * Two ways in, one rule: the server writes occurrences out as deliveries ahead of time (services/scheduler.ts)
 * and AgendaService hands what a box has to `assembleAgenda`; `buildAgenda` expands broadcasts straight
 * from their schedules (no store) and assembles them the same way.
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { MAX_MESSAGE_BYTES, priorityRank, type Priority, type agendaItemSchema, type mediaRefSchema } from '@loaxa/shared';
import { expandOccurrences } from './recurrence.js';
import type { OccurrenceException, Schedule } from './schedule.js';

export type AgendaItem = z.infer<typeof agendaItemSchema>;
export type MediaRef = z.infer<typeof mediaRefSchema>;

export const AGENDA_HORIZON_MS = 7 * 86_400_000;
/** CONTRACTS.md § Schedules: an item is missed if not started within its window, 5 minutes by default. */
export const DEFAULT_WINDOW_MS = 5 * 60_000;
/** syncAgendaPayloadSchema allows at most this many items. */
export const MAX_AGENDA_ITEMS = 10_000;
/**
 * Bytes of items one `sync-agenda` may carry: the 4 MiB a message may have (shared/src/codec.ts
 * MAX_MESSAGE_BYTES) less room for the envelope. Issue 15 review (3): a programme carries all its items in
 * every occurrence, and 100 chimes aired 48 times a day made a 9.4 MB agenda no box could decode — after which
 * the box learnt of nothing new. Past this the latest occurrences wait for a later sync, as past MAX_AGENDA_ITEMS
 * (which long media URLs alone could push past 4 MiB: ~480 bytes an item).
 */
export const MAX_AGENDA_BYTES = MAX_MESSAGE_BYTES - 16 * 1024;

/** An item's bytes in the agenda's JSON (and a comma); a programme's items measured once per object. */
const programmeBytes = new WeakMap<object, number>();
export function agendaItemBytes(item: AgendaItem): number {
  if (!item.programme) return Buffer.byteLength(JSON.stringify(item)) + 1;
  let p = programmeBytes.get(item.programme);
  if (p === undefined) programmeBytes.set(item.programme, (p = Buffer.byteLength(JSON.stringify(item.programme))));
  return Buffer.byteLength(JSON.stringify({ ...item, programme: 0 })) + p + 1;
}

export interface AgendaBroadcast {
  broadcastId: string;
  priority: Priority;
  schedule: Schedule;
  /** The audio, named by its SHA-256 (the content hash of the item). */
  media: MediaRef;
  windowMs?: number;
  title?: string;
  exceptions?: OccurrenceException[];
}

export interface AgendaInput {
  deviceId: string;
  /** The broadcasts whose targets include the device, already approved and not cancelled. */
  broadcasts: readonly AgendaBroadcast[];
  now: number;
  horizonMs?: number;
  /** The agenda last built for this device, to keep its version when nothing changed. */
  previous?: { version: number; hash: string };
}

export interface Agenda {
  version: number;
  generatedAt: number;
  items: AgendaItem[];
  /** sha256 (hex) of the items; equal hashes mean equal agendas whatever `generatedAt` says. */
  hash: string;
  /** True when more than MAX_AGENDA_ITEMS occurrences were due; the latest ones wait for the next sync. */
  truncated: boolean;
}

/**
 * Deterministic command id of one occurrence on one device, so a rebuilt agenda names the same airing the
 * same way and the agent plays a command id once. Layout of an RFC 4122 name-based version-5 UUID, but
 * hashed with SHA-256 instead of SHA-1 (first 16 bytes; version nibble 5, variant 10xx) — RFC 9562 would
 * call it v8; the v5 nibble keeps it acceptable to validators that know only versions 1–5.
 */
export function agendaCommandId(broadcastId: string, occurrenceAt: number, deviceId: string): string {
  const b = createHash('sha256').update(`loaxa/agenda/v1\0${broadcastId}\0${occurrenceAt}\0${deviceId}`).digest().subarray(0, 16);
  b[6] = ((b[6] as number) & 0x0f) | 0x50;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Hash of the items in a canonical form (fixed key order), independent of generatedAt. A relay (issue 15)
 * adds its stream (an edited source's URLs make a new agenda) and may have no file; a file item hashes as it
 * did before relays existed, so upgrading the server does not change every box's agenda.
 */
export function agendaHash(items: readonly AgendaItem[]): string {
  const canonical = items.map((i) => [
    i.commandId, i.broadcastId, i.occurrenceAt, i.priority, i.startAt, i.windowMs, i.title ?? null,
    i.media?.sha256 ?? null, i.media?.url ?? null, i.media?.durationMs ?? null, i.media?.bytes ?? null, i.resume ?? null,
    ...(i.stream ? [[i.stream.sourceId, i.stream.urls, i.stream.durationMs, i.stream.deviceAuth ?? null]] : []),
    // A programme (issue 15): its version and every item, so a new version (or an edited source of one of its
    // relay segments) makes a new agenda and the boxes get it.
    ...(i.programme ? [[i.programme.programmeId, i.programme.version, i.programme.items.map(programmeItemCanonical)]] : []),
  ]);
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

type ProgrammeItem = NonNullable<AgendaItem['programme']>['items'][number];
const programmeItemCanonical = (p: ProgrammeItem) => [
  p.index, p.kind, p.title ?? null, p.media?.sha256 ?? null, p.media?.url ?? null, p.media?.durationMs ?? null, p.pauseMs ?? null,
  p.stream ? [p.stream.sourceId, p.stream.urls, p.stream.durationMs ?? null, p.stream.endsAt ?? null, p.stream.deviceAuth ?? null] : null,
];

/** What decides an agenda's version besides its items. */
export interface AgendaVersioning {
  /** The agenda last built or sent for this device, to keep its version when nothing changed. */
  previous?: { version: number; hash: string } | undefined;
  /**
   * The version the box says it holds, when it said (its `online` status). A box holding the same or a higher
   * version than ours holds one that is not ours (a restored server database): the agent ignores versions it
   * does not exceed, so ours goes above it.
   */
  held?: { version: number } | null | undefined;
}

/** Previous version if the hash is unchanged, otherwise previous + 1 (1 for a first agenda): versions only grow. */
export function agendaVersion(hash: string, { previous, held }: AgendaVersioning): number {
  const version = previous ? (previous.hash === hash ? previous.version : previous.version + 1) : 1;
  return held && held.version >= version ? held.version + 1 : version;
}

/**
 * The agenda's order: by start, then priority (highest first: at the same instant the box takes the
 * emergency first and nothing is interrupted, Circular 39), then broadcast id.
 */
export function agendaOrder(a: AgendaItem, b: AgendaItem): number {
  return a.startAt - b.startAt || priorityRank(b.priority) - priorityRank(a.priority) || (a.broadcastId < b.broadcastId ? -1 : a.broadcastId > b.broadcastId ? 1 : 0);
}

/** An agenda item with what its builder carries along (AgendaService: the play payload, checked once). */
export interface AgendaEntry {
  item: AgendaItem;
  /** Its bytes in the agenda's JSON when the builder knows them already (else measured: `agendaItemBytes`). */
  bytes?: number;
}

/**
 * A device's agenda from its occurrences, however found: ordered (`agendaOrder`), cut to MAX_AGENDA_ITEMS and
 * MAX_AGENDA_BYTES (the soonest stay; `truncated` says some waited for the next sync), hashed and versioned
 * (`agendaVersion`). `entries` come back in agenda order.
 */
export function assembleAgenda<E extends AgendaEntry>(
  entries: readonly E[],
  now: number,
  versioning: AgendaVersioning = {},
): { version: number; generatedAt: number; entries: E[]; hash: string; truncated: boolean } {
  const sorted = [...entries].sort((a, b) => agendaOrder(a.item, b.item));
  let kept = sorted.length > MAX_AGENDA_ITEMS ? sorted.slice(0, MAX_AGENDA_ITEMS) : sorted;
  let bytes = 0;
  const fits = kept.findIndex((e) => (bytes += e.bytes ?? agendaItemBytes(e.item)) > MAX_AGENDA_BYTES);
  if (fits >= 0) kept = kept.slice(0, fits);
  const hash = agendaHash(kept.map((e) => e.item));
  return { version: agendaVersion(hash, versioning), generatedAt: now, entries: kept, hash, truncated: sorted.length > kept.length };
}

/**
 * The device's agenda straight from the broadcasts' schedules: occurrences from `now` to `now + horizon`,
 * plus those already due whose window is still open (a device that reconnects late can still start them),
 * assembled by `assembleAgenda`.
 */
export function buildAgenda(input: AgendaInput): Agenda {
  const { deviceId, now } = input;
  const horizon = input.horizonMs ?? AGENDA_HORIZON_MS;
  const all: AgendaEntry[] = [];
  for (const b of input.broadcasts) {
    const windowMs = b.windowMs ?? DEFAULT_WINDOW_MS;
    const occurrences = expandOccurrences(
      b.schedule,
      { from: now - windowMs + 1, to: now + horizon },
      { durationMs: b.media.durationMs, ...(b.exceptions ? { exceptions: b.exceptions } : {}) },
    );
    for (const at of occurrences) {
      const item: AgendaItem = {
        broadcastId: b.broadcastId, occurrenceAt: at, priority: b.priority, media: { ...b.media },
        startAt: at, windowMs, commandId: agendaCommandId(b.broadcastId, at, deviceId),
      };
      if (b.title !== undefined) item.title = b.title;
      all.push({ item });
    }
  }
  const a = assembleAgenda(all, now, { previous: input.previous });
  return { version: a.version, generatedAt: a.generatedAt, items: a.entries.map((e) => e.item), hash: a.hash, truncated: a.truncated };
}
