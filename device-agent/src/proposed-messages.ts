/**
 * Wire additions this agent needs and `shared/` does not have yet (issue 5): the health block of the
 * telemetry and the remote commands `test-tone`, `reboot`, `fetch-logs` and `update-config`. The schemas
 * here are the exact text proposed for `shared/src/messages.ts`.
 *
 * The gate is automatic: as soon as `shared/` knows a command type or the `health` field, the shared
 * schema is used and these are bypassed (the typed command table then fails to compile until the handlers
 * below move into the main table: delete this file at that point).
 */
import { z } from 'zod';
import {
  ErrorCode,
  FAULT_KINDS,
  envelopeSchema,
  faultKindSchema,
  messageCatalog,
  telemetryPayloadSchema,
  type DecodeError,
  type Decoded,
  type Payload,
} from '@loaxa/shared';

// ---- proposed for shared/src/messages.ts ------------------------------------------------------------

export const NETWORK_TYPES = ['ethernet', 'wifi', 'cellular', 'none', 'unknown'] as const;

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
      type: z.enum(NETWORK_TYPES),
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
  faults: z.array(faultKindSchema).max(FAULT_KINDS.length).optional(),
  /** Connection attempts that failed since the agent started, and modem recovery commands run. */
  linkFailures: z.number().int().nonnegative().optional(),
  modemRecoveries: z.number().int().nonnegative().optional(),
});
// and in telemetryPayloadSchema:  health: telemetryHealthSchema.optional(),

export const testTonePayloadSchema = z.object({
  durationMs: z.number().int().min(100).max(30_000).optional(), // default 3000
  frequencyHz: z.number().int().min(50).max(8_000).optional(), // default 1000
  /** 0–100; the box's current volume when absent. */
  volume: z.number().int().min(0).max(100).optional(),
});

export const rebootPayloadSchema = z.object({
  /** Only the agent for now (`system` would need a privileged helper). */
  target: z.literal('agent').optional(),
  delayMs: z.number().int().min(0).max(600_000).optional(), // default 1000
});

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export const fetchLogsPayloadSchema = z.object({
  lines: z.number().int().min(1).max(5_000).optional(), // default 200
  minLevel: z.enum(LOG_LEVELS).optional(),
});

export const updateConfigPayloadSchema = z.object({
  /** Agent settings by their config key (heartbeatMs, mixerControl…); the agent refuses keys it does not allow remotely. */
  set: z.record(z.string().max(64), z.unknown()).optional(),
  /** Keys returned to the installer's value. */
  unset: z.array(z.string().max(64)).max(64).optional(),
});

// catalog: 'test-tone': testTonePayloadSchema, reboot: rebootPayloadSchema, 'fetch-logs': fetchLogsPayloadSchema,
//          'update-config': updateConfigPayloadSchema; and the same four names appended to COMMAND_TYPES.
export const proposedResponseDataCatalog = {
  'test-tone': z.object({ played: z.boolean(), durationMs: z.number().int().nonnegative(), frequencyHz: z.number().int().positive() }),
  reboot: z.object({ restartingInMs: z.number().int().nonnegative() }),
  'fetch-logs': z.object({ lines: z.array(z.string().max(16_384)).max(5_000), truncated: z.boolean() }),
  'update-config': z.object({ changed: z.array(z.string().max(64)), restart: z.boolean() }),
} as const;

// ---- until then ------------------------------------------------------------------------------------

export const proposedCommandCatalog = {
  'test-tone': testTonePayloadSchema,
  reboot: rebootPayloadSchema,
  'fetch-logs': fetchLogsPayloadSchema,
  'update-config': updateConfigPayloadSchema,
} as const;

export type ProposedCommandType = keyof typeof proposedCommandCatalog;
export const PROPOSED_COMMAND_TYPES = Object.keys(proposedCommandCatalog) as ProposedCommandType[];

export interface ProposedEnvelope<K extends ProposedCommandType> {
  v: 1;
  id: string;
  type: K;
  ts: number;
  expiresAt?: number;
  payload: z.infer<(typeof proposedCommandCatalog)[K]>;
}

export type ProposedResult<K extends ProposedCommandType> =
  | { ok: true; data: z.infer<(typeof proposedResponseDataCatalog)[K]> }
  | { ok: false; error: { code: ErrorCode; message: string } };

export type ProposedCommandTable = { [K in ProposedCommandType]: (env: ProposedEnvelope<K>) => ProposedResult<K> | Promise<ProposedResult<K>> };

/** A proposed command type that `shared/` does not know yet (once it does, the shared path handles it). */
export function isPendingCommandType(type: string | undefined): type is ProposedCommandType {
  return type !== undefined && Object.hasOwn(proposedCommandCatalog, type) && !Object.hasOwn(messageCatalog, type);
}

/** Decodes a command of a proposed type, like `decodeMessage` does for the shared ones. */
export function decodeProposedCommand(raw: Buffer | string): Decoded<ProposedEnvelope<ProposedCommandType>> {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString());
  } catch {
    return { ok: false, error: { code: ErrorCode.BAD_MESSAGE, message: 'payload is not valid JSON' } };
  }
  const env = envelopeSchema.safeParse(json);
  if (!env.success || !isPendingCommandType(env.data.type)) return { ok: false, error: { code: ErrorCode.UNKNOWN_TYPE, message: 'not a proposed command' } };
  const { id, type } = env.data;
  const payload = proposedCommandCatalog[type].safeParse(env.data.payload);
  if (!payload.success) {
    const message = payload.error.issues.slice(0, 5).map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
    const error: DecodeError = { code: ErrorCode.BAD_MESSAGE, message: `bad ${type} payload: ${message}`, id, type };
    return { ok: false, error };
  }
  return { ok: true, value: { ...env.data, type, payload: payload.data } as ProposedEnvelope<ProposedCommandType> };
}

export type TelemetryHealth = z.infer<typeof telemetryHealthSchema>;
export type TelemetryWithHealth = Payload<'telemetry'> & { health?: TelemetryHealth };

/** Whether `shared/` already carries the health block (then it is validated and sent by the shared codec). */
export const SHARED_HAS_HEALTH = 'health' in telemetryPayloadSchema.shape;

/** The telemetry schema with the health block, used while `shared/` lacks it. */
export const telemetryWithHealthSchema = SHARED_HAS_HEALTH ? telemetryPayloadSchema : telemetryPayloadSchema.extend({ health: telemetryHealthSchema.optional() });
