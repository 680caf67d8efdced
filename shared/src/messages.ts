/**
 * The MQTT message catalog (CONTRACTS.md § MQTT): one zod schema per `type`, inside a versioned envelope
 * `{v:1, id, type, ts, payload, expiresAt?}`. Answers on `res` are `{v:1, re, ts, ok, data | error}`.
 * Every message is checked against these both when sent and when received (STYLE.md habit 3).
 * Additive fields since CONTRACTS.md (optional; older peers leave them out): `status.agenda`, the agenda a
 * box holds (README.md § MQTT protocol); relays (issue 15): `play.stream`, `airedMs`, `relay` events;
 * programmes (issue 15): `play.programme`, `programme-item` events; live voice (issue 16): `play.stream.live`.
 * Over 300 lines because the whole wire protocol is one catalog, read in one place by both ends.
 */
import { z } from 'zod';
import { idSchema, areaCodeSchema, sha256Schema } from './ids.js';
import { deliveryStateSchema } from './delivery.js';
import { errorCodeSchemaValues } from './errors.js';

import { PRIORITIES, PROGRAMME_ITEM_KINDS, PROGRAMME_ITEM_STATES, type Priority } from './api/enums.js';

/** Circular 39's three priorities, listed with the other enumerations of the contract (api/enums.ts). */
export { PRIORITIES, type Priority };
export const prioritySchema = z.enum(PRIORITIES);

/** Faults a device reports; the first four block working coverage (ARCHITECTURE.md § Coverage). */
export const FAULT_KINDS = ['power', 'amplifier', 'speaker-line', 'audio-device', 'disk', 'clock', 'network'] as const;
export const faultKindSchema = z.enum(FAULT_KINDS);

const epochMs = z.number().int().nonnegative();

// ---- device → server -------------------------------------------------------------------------------

/** Which agenda a box holds: the `version` and `generatedAt` of the last `sync-agenda` it took. */
export const heldAgendaSchema = z.object({
  version: z.number().int().nonnegative(),
  generatedAt: epochMs,
});
export type HeldAgenda = z.infer<typeof heldAgendaSchema>;

export const statusPayloadSchema = z.object({
  state: z.enum(['online', 'offline']),
  agentVersion: z.string().max(64).optional(),
  areaCode: areaCodeSchema.optional(),
  /**
   * In an `online` status (additive, optional): the agenda the box holds, or null for none. The server
   * then sends the agenda on reconnect only when the box's differs from the one last sent to it (or holds
   * none and it has items). A box that says nothing (an older agent) gets its agenda on every reconnect.
   */
  agenda: heldAgendaSchema.nullable().optional(),
});

export const NETWORK_TYPES = ['ethernet', 'wifi', 'cellular', 'none', 'unknown'] as const;
export const networkTypeSchema = z.enum(NETWORK_TYPES);

/** Readings of the box's hardware in every heartbeat (issue 5 § Agent on real hardware); each may be absent. */
export const telemetryHealthSchema = z.object({
  systemUptimeS: z.number().int().nonnegative().optional(),
  cpuTempC: z.number().min(-100).max(200).optional(),
  load1: z.number().nonnegative().optional(),
  load5: z.number().nonnegative().optional(),
  load15: z.number().nonnegative().optional(),
  memTotalBytes: z.number().int().nonnegative().optional(),
  memAvailableBytes: z.number().int().nonnegative().optional(),
  diskFreeBytes: z.number().int().nonnegative().optional(),
  diskTotalBytes: z.number().int().nonnegative().optional(),
  network: z
    .object({
      type: networkTypeSchema,
      interface: z.string().max(32).optional(),
      accessTech: z.string().max(32).optional(),
      signalPct: z.number().int().min(0).max(100).optional(),
      operator: z.string().max(64).optional(),
      modemState: z.string().max(32).optional(),
    })
    .optional(),
  /** null: the box cannot tell (no timedatectl). */
  clockSynced: z.boolean().nullable().optional(),
  /** null: no amplifier power control. */
  amplifierOn: z.boolean().nullable().optional(),
  /** Faults active right now. */
  faults: z.array(faultKindSchema).max(FAULT_KINDS.length).optional(),
  /** Connection attempts that failed since the agent started, and modem recovery commands run. */
  linkFailures: z.number().int().nonnegative().optional(),
  modemRecoveries: z.number().int().nonnegative().optional(),
});
export type TelemetryHealth = z.infer<typeof telemetryHealthSchema>;

export const telemetryPayloadSchema = z.object({
  uptimeS: z.number().nonnegative(),
  volume: z.number().int().min(0).max(100),
  cacheBytes: z.number().int().nonnegative(),
  cacheItems: z.number().int().nonnegative(),
  playing: z.object({ broadcastId: idSchema, occurrenceAt: epochMs }).nullable().optional(),
  clockOffsetMs: z.number().optional(),
  agentVersion: z.string().max(64).optional(),
  health: telemetryHealthSchema.optional(),
});

export const deliveryEventSchema = z.object({
  kind: z.literal('delivery'),
  commandId: z.string().uuid().optional(),
  broadcastId: idSchema,
  /** The occurrence's scheduled start, epoch ms; together with broadcastId it names the delivery. */
  occurrenceAt: epochMs,
  state: deliveryStateSchema,
  /** When the transition happened on the device's clock. */
  at: epochMs,
  reason: z.string().max(500).optional(),
  sha256: sha256Schema.optional(),
  /**
   * A relay's `played` (issue 15): milliseconds of the stream the box actually decoded and sent to its
   * speaker in the window, gaps and fallback excluded — the as-run's "minutes actually relayed".
   */
  airedMs: z.number().int().nonnegative().max(24 * 3600_000).optional(),
});

/** Why a relay changed what it plays (issue 15): reported on `event` as `kind: 'relay'`. */
export const RELAY_CAUSES = [
  /** The relay began on `url`. */
  'started',
  /** The stream on the previous URL failed: connection refused or cut, HTTP error, bad playlist, decoder error. */
  'error',
  /** The previous URL sent only silence for 10 s. */
  'silence',
  /** The previous URL sent nothing for the stall limit. */
  'stalled',
  /** A URL that had failed serves again inside the window (`url` names it). */
  'returned',
  /** Every URL failed: the fallback file plays (`url` null), or nothing does. */
  'fallback',
  /** A higher-priority item interrupted the relay; it continues live afterwards (Circular 39). */
  'interrupted',
  /** The window ended (or the relay was stopped). */
  'ended',
] as const;
export type RelayCause = (typeof RELAY_CAUSES)[number];

export const relayEventSchema = z.object({
  kind: z.literal('relay'),
  broadcastId: idSchema,
  occurrenceAt: epochMs,
  /** The URL now serving the relay; null while none does (fallback, gap, ended). */
  url: z.string().max(2_000).nullable(),
  cause: z.enum(RELAY_CAUSES),
  /** When it happened on the device's clock. */
  at: epochMs,
  detail: z.string().max(500).optional(),
});

/**
 * How one item of a programme went on the box (issue 15: "reports per item"): `playing` when it starts (again,
 * after an interruption), then one of `played`, `skipped` (a relay segment whose end had passed, a pause cut by
 * the window), `failed` (its file could not be had, its player failed). The delivery of the whole programme is
 * reported as a delivery; these say what happened inside it.
 */
export const programmeItemEventSchema = z.object({
  kind: z.literal('programme-item'),
  broadcastId: idSchema,
  occurrenceAt: epochMs,
  /** The programme version the box played (`play.programme.version`). */
  version: z.number().int().positive(),
  index: z.number().int().nonnegative().max(199),
  state: z.enum(PROGRAMME_ITEM_STATES),
  /** When it happened on the device's clock. */
  at: epochMs,
  /** With `played` (and `failed` after it began): milliseconds of the item that actually reached the speaker. */
  airedMs: z.number().int().nonnegative().max(24 * 3600_000).optional(),
  reason: z.string().max(500).optional(),
});

export const faultEventSchema = z.object({
  kind: z.literal('fault'),
  fault: faultKindSchema,
  active: z.boolean(),
  at: epochMs,
  detail: z.string().max(500).optional(),
});

export const eventPayloadSchema = z.discriminatedUnion('kind', [deliveryEventSchema, faultEventSchema, relayEventSchema, programmeItemEventSchema]);

// ---- server → device (commands) ----------------------------------------------------------------------

export const mediaRefSchema = z.object({
  sha256: sha256Schema,
  /** Absolute URL of `/media/{sha256}`; fetched with the device's own credentials. */
  url: z.string().url(),
  durationMs: z.number().int().positive(),
  bytes: z.number().int().positive().optional(),
});

/**
 * A live source the box pulls itself (issue 15; ARCHITECTURE.md § Streams): HTTP streams (Icecast/Shoutcast
 * MP3, AAC, Ogg/Opus) or HLS playlists, in order of preference. The box moves to the next URL when one fails
 * or is silent for 10 s, and back when an earlier one serves again.
 */
export const streamRefSchema = z.object({
  sourceId: idSchema,
  urls: z.array(z.string().url().max(2_000)).min(1).max(8),
  /** How long the relay airs from `startAt`. */
  durationMs: z.number().int().positive().max(24 * 3600_000),
  /** The URLs are the server's own restream: the box sends its own credentials (HTTP Basic), as for `/media`. */
  deviceAuth: z.boolean().optional(),
  /**
   * A live voice (issue 16), not a station: one URL, no failover, no fallback, no retries. The box plays it
   * with a short jitter buffer, and when the stream ends (the operator stopped, or the link dropped) it plays
   * what it holds and reports `played` with the ms aired.
   */
  live: z.boolean().optional(),
});

/**
 * A relay segment inside a programme (issue 15): a source for `durationMs` from when the segment begins, or
 * until the instant `endsAt` (a time of day, made an instant for the occurrence by the server). Exactly one
 * of the two. After an interruption it continues live to the same end, not from where it stopped.
 */
export const programmeStreamSchema = z
  .object({
    sourceId: idSchema,
    urls: z.array(z.string().url().max(2_000)).min(1).max(8),
    durationMs: z.number().int().positive().max(24 * 3600_000).optional(),
    endsAt: epochMs.optional(),
    deviceAuth: z.boolean().optional(),
  })
  .refine((s) => (s.durationMs === undefined) !== (s.endsAt === undefined), { message: 'a relay segment needs durationMs or endsAt, not both', path: ['durationMs'] });

/**
 * One item of a programme as the box plays it: a file (`media`: a bulletin, a chime, music under speech as
 * the server mixed it), a relay segment (`stream`; `media` is then the source's fallback), or a pause
 * (`pauseMs` of silence, the speaker kept).
 */
export const programmeItemRefSchema = z
  .object({
    /** Position in the programme from 0; the item's reports name it. */
    index: z.number().int().nonnegative().max(199),
    kind: z.enum(PROGRAMME_ITEM_KINDS),
    title: z.string().max(300).optional(),
    media: mediaRefSchema.optional(),
    stream: programmeStreamSchema.optional(),
    pauseMs: z.number().int().positive().max(3600_000).optional(),
  })
  .refine((i) => (i.kind === 'pause' ? i.pauseMs !== undefined && !i.media && !i.stream : i.kind === 'relay' ? i.stream !== undefined && i.pauseMs === undefined : i.media !== undefined && !i.stream && i.pauseMs === undefined), {
    message: 'a pause has pauseMs only; a relay segment has stream (and perhaps a fallback media); any other item has media only',
    path: ['kind'],
  });

/**
 * A programme (issue 15): its items in order, all fetched before `startAt` and played one after another without
 * audible gaps. An edit makes a new `version`, sent with the agenda; an interruption (Circular 39) stops the item
 * playing, and the programme continues at that item (`resume` decides: where it stopped, or its start).
 */
export const programmeRefSchema = z.object({
  programmeId: idSchema,
  version: z.number().int().positive(),
  items: z.array(programmeItemRefSchema).min(1).max(200),
});

export type ProgrammeRef = z.infer<typeof programmeRefSchema>;
export type ProgrammeItemRef = z.infer<typeof programmeItemRefSchema>;

const playFields = z.object({
  broadcastId: idSchema,
  occurrenceAt: epochMs,
  priority: prioritySchema,
  /**
   * The file to play; for a relay (`stream`), the source's fallback file, played when every URL fails
   * (absent: the relay stops cleanly instead).
   */
  media: mediaRefSchema.optional(),
  /** A relay instead of a file (issue 15). */
  stream: streamRefSchema.optional(),
  /** A programme of several items instead of one file (issue 15); `media` and `stream` are then absent. */
  programme: programmeRefSchema.optional(),
  /** Instant the device starts playing (all devices of a broadcast start together). */
  startAt: epochMs,
  /** How long after `startAt` the item may still start before it counts as missed. */
  windowMs: z.number().int().positive().max(24 * 3600_000),
  title: z.string().max(300).optional(),
  /**
   * When a higher-priority item interrupts this one (Circular 39/2020/TT-BTTTT), it plays again once the
   * interrupter has finished: from where it stopped (`resume`) or from the start (`restart`, the default).
   */
  resume: z.enum(['resume', 'restart']).optional(),
});

/** A play names a file (`media`), a relay (`stream`, with an optional fallback `media`) or a programme (alone). */
const playsSomething = (p: { media?: unknown; stream?: unknown; programme?: unknown }): boolean =>
  p.programme !== undefined ? p.media === undefined && p.stream === undefined : p.media !== undefined || p.stream !== undefined;
const PLAYS_SOMETHING = { message: 'a play needs media, stream or programme (a programme alone)', path: ['media'] };

export const playPayloadSchema = playFields.refine(playsSomething, PLAYS_SOMETHING);

export const stopPayloadSchema = z.object({
  broadcastId: idSchema.optional(),
  occurrenceAt: epochMs.optional(),
});

export const setVolumePayloadSchema = z.object({ volume: z.number().int().min(0).max(100) });

export const testTonePayloadSchema = z.object({
  /** Default 3000. */
  durationMs: z.number().int().min(100).max(30_000).optional(),
  /** Default 1000. */
  frequencyHz: z.number().int().min(50).max(8_000).optional(),
  /** 0–100; the box's current volume when absent. */
  volume: z.number().int().min(0).max(100).optional(),
});

export const rebootPayloadSchema = z.object({
  /** Only the agent for now (`system` would need a privileged helper). */
  target: z.literal('agent').optional(),
  /** Default 1000, so the answer leaves before the connection closes. */
  delayMs: z.number().int().min(0).max(600_000).optional(),
});

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export const fetchLogsPayloadSchema = z.object({
  /** Default 200. */
  lines: z.number().int().min(1).max(5_000).optional(),
  minLevel: z.enum(LOG_LEVELS).optional(),
});

export const updateConfigPayloadSchema = z.object({
  /** Agent settings by their config key (heartbeatMs, mixerControl…); the agent refuses keys it does not allow remotely. */
  set: z.record(z.string().max(64), z.unknown()).optional(),
  /** Keys returned to the installer's value. */
  unset: z.array(z.string().max(64)).max(64).optional(),
});

export const selfUpdatePayloadSchema = z.object({
  /** The release tarball (npm run release:agent), fetched by the box. */
  url: z.string().url().max(2_000),
  /** Hex SHA-256 of the tarball. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/i),
  /** The release's VERSION; the box refuses a tarball holding another one. */
  version: z.string().regex(/^[0-9A-Za-z.+-]{1,64}$/),
  /** Base64 Ed25519 signature of the raw SHA-256 digest; required when the box has a public key. */
  signature: z.string().max(200).optional(),
});

export const agendaItemSchema = playFields.extend({ commandId: z.string().uuid() }).refine(playsSomething, PLAYS_SOMETHING);

export const syncAgendaPayloadSchema = z.object({
  version: z.number().int().nonnegative(),
  generatedAt: epochMs,
  items: z.array(agendaItemSchema).max(10_000),
});

// ---- catalog --------------------------------------------------------------------------------------

export const messageCatalog = {
  status: statusPayloadSchema,
  telemetry: telemetryPayloadSchema,
  event: eventPayloadSchema,
  play: playPayloadSchema,
  stop: stopPayloadSchema,
  'set-volume': setVolumePayloadSchema,
  'sync-agenda': syncAgendaPayloadSchema,
  'test-tone': testTonePayloadSchema,
  reboot: rebootPayloadSchema,
  'fetch-logs': fetchLogsPayloadSchema,
  'update-config': updateConfigPayloadSchema,
  'self-update': selfUpdatePayloadSchema,
} as const;

export type MessageType = keyof typeof messageCatalog;
export type Payload<T extends MessageType> = z.infer<(typeof messageCatalog)[T]>;
export const COMMAND_TYPES = ['play', 'stop', 'set-volume', 'sync-agenda', 'test-tone', 'reboot', 'fetch-logs', 'update-config', 'self-update'] as const satisfies readonly MessageType[];
export type CommandType = (typeof COMMAND_TYPES)[number];

/** What a successful answer carries, per command type. */
export const responseDataCatalog = {
  play: z.object({ accepted: z.boolean(), state: deliveryStateSchema.optional() }),
  stop: z.object({ stopped: z.number().int().nonnegative() }),
  'set-volume': z.object({ volume: z.number().int().min(0).max(100) }),
  /** The agenda version the device holds after the command (the stored one when the sent one was older), and its item count. */
  'sync-agenda': z.object({ version: z.number().int().nonnegative(), items: z.number().int().nonnegative() }),
  /** `played: false` when a higher-priority item cut the tone off. */
  'test-tone': z.object({ played: z.boolean(), durationMs: z.number().int().nonnegative(), frequencyHz: z.number().int().positive() }),
  reboot: z.object({ restartingInMs: z.number().int().nonnegative() }),
  /** pino JSON lines, oldest first. */
  'fetch-logs': z.object({ lines: z.array(z.string().max(16_384)).max(5_000), truncated: z.boolean() }),
  /** Keys whose effective value changed, and whether the agent restarts to apply them. */
  'update-config': z.object({ changed: z.array(z.string().max(64)), restart: z.boolean() }),
  /** The release the box switched to; it restarts into it, and rolls back unless it reports healthy in time. */
  'self-update': z.object({ switchingTo: z.string().max(64), restartingInMs: z.number().int().nonnegative() }),
} as const satisfies Record<CommandType, z.ZodType>;

export type ResponseData<T extends CommandType> = z.infer<(typeof responseDataCatalog)[T]>;

export const envelopeSchema = z.object({
  v: z.literal(1),
  id: z.string().uuid(),
  type: z.string().min(1).max(64),
  ts: epochMs,
  expiresAt: epochMs.optional(),
  payload: z.unknown(),
});

export interface Envelope<T extends MessageType = MessageType> {
  v: 1;
  id: string;
  type: T;
  ts: number;
  expiresAt?: number;
  payload: Payload<T>;
}

export const responseErrorSchema = z.object({
  code: z.enum(errorCodeSchemaValues),
  message: z.string().max(2000),
});

export const responseSchema = z.discriminatedUnion('ok', [
  z.object({ v: z.literal(1), re: z.string().uuid(), ts: epochMs, ok: z.literal(true), data: z.unknown() }),
  z.object({ v: z.literal(1), re: z.string().uuid(), ts: epochMs, ok: z.literal(false), error: responseErrorSchema }),
]);
export type Response = z.infer<typeof responseSchema>;
