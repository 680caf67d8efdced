/** `/api/v1/devices`: speaker boxes, their registration, faults, revocation and maintenance commands. */
import { z } from 'zod';
import { areaCodeSchema } from '../ids.js';
import { pageQuerySchema } from './common.js';
import { DEVICE_STATE_FILTERS, DEVICE_STATES } from './enums.js';

export const deviceSchema = z.object({
  id: z.string(),
  name: z.string(),
  areaCode: z.string(),
  lat: z.number().nullable(),
  lon: z.number().nullable(),
  state: z.enum(DEVICE_STATES),
  lastSeenAt: z.string().nullable(),
  agentVersion: z.string().nullable(),
  volume: z.number().nullable(),
  createdAt: z.string(),
  /** Faults open now (power, amplifier, speaker-line, audio-device, disk, clock, network). */
  faults: z.array(z.string()),
  health: z.record(z.string(), z.unknown()).nullable(),
  /** Heartbeats stored since the box was registered (issue 8: sent vs stored). */
  heartbeats: z.number().int(),
  /** *CumLoaID* (issue 17): the IMEI the installer recorded, or null. */
  nationalId: z.string().nullable(),
});

/** What a box needs to connect; the password is shown only in the answer that creates it. */
export const mqttCredentialsSchema = z.object({ url: z.string(), username: z.string(), password: z.string() });

/**
 * A box's national id (*CumLoaID*, issue 17): in practice its modem's IMEI, recorded by the installer so the
 * province knows the box by it; absent, the national link names the box by our id.
 */
export const nationalIdSchema = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only (an IMEI is 15 digits)');

const newDevice = {
  name: z.string().trim().min(1).max(100),
  nationalId: nationalIdSchema.optional(),
  areaCode: areaCodeSchema,
  lat: z.number().min(-90).max(90).optional(),
  lon: z.number().min(-180).max(180).optional(),
};
export const deviceCreateBodySchema = z.object(newDevice);
export const deviceCreatedSchema = z.object({
  id: z.string(),
  name: z.string(),
  areaCode: z.string(),
  lat: z.number().nullable(),
  lon: z.number().nullable(),
  nationalId: z.string().nullable(),
  mqtt: mqttCredentialsSchema,
});
/** `PATCH /api/v1/devices/{id}`: what an installer may correct after registering a box (its IMEI; null clears it). */
export const deviceUpdateBodySchema = z.object({ nationalId: nationalIdSchema.nullable() });
export type DeviceUpdateBody = z.input<typeof deviceUpdateBodySchema>;
export const deviceListQuerySchema = pageQuerySchema.extend({
  area: areaCodeSchema.optional(),
  state: z.enum(DEVICE_STATE_FILTERS).optional(),
  q: z.string().trim().max(100).optional().describe('Part of a box’s name or id (issue 20: the device search found areas, not boxes)'),
});

export const deviceFaultsQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });
export const deviceFaultsSchema = z.object({ items: z.array(z.object({ kind: z.string(), startedAt: z.string(), endedAt: z.string().nullable(), detail: z.string().nullable() })) });
export const deviceRevokedSchema = z.object({ id: z.string(), revoked: z.literal(true) });

export const deviceBulkBodySchema = z.object({
  devices: z
    .array(z.object(newDevice))
    .min(1)
    .max(10_000),
});
export const deviceBulkCreatedSchema = z.object({ items: z.array(z.object({ id: z.string(), name: z.string(), areaCode: z.string(), mqtt: mqttCredentialsSchema })) });

/** `POST /api/v1/devices/{id}/commands`: a maintenance command and the box's answer. */
export const deviceCommandBodySchema = z.object({ type: z.string().max(32), payload: z.record(z.string(), z.unknown()).default({}), timeoutMs: z.number().int().min(500).max(60_000).default(10_000) });
export const deviceCommandResultSchema = z.object({ ok: z.boolean(), data: z.unknown().optional(), error: z.object({ code: z.string(), message: z.string() }).optional() });

export type Device = z.infer<typeof deviceSchema>;
export type DeviceCreateBody = z.input<typeof deviceCreateBodySchema>;
export type DeviceCreated = z.infer<typeof deviceCreatedSchema>;
export type DeviceListQuery = z.input<typeof deviceListQuerySchema>;
export type DeviceFaults = z.infer<typeof deviceFaultsSchema>;
export type DeviceCommandBody = z.input<typeof deviceCommandBodySchema>;
export type DeviceCommandResult = z.infer<typeof deviceCommandResultSchema>;
