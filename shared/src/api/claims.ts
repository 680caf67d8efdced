/** Claim codes: a box installed in the field exchanges a one-time code for its MQTT credentials. */
import { z } from 'zod';
import { mqttCredentialsSchema } from './devices.js';

export const claimCodeSchema = z.object({ code: z.string(), expiresAt: z.string(), claimUrl: z.string() });
export const claimBodySchema = z.object({ code: z.string().min(1).max(64) });
export const claimedSchema = z.object({
  deviceId: z.string(),
  areaCode: z.string(),
  areaAncestors: z.array(z.string()),
  mqtt: mqttCredentialsSchema,
});

export type ClaimCode = z.infer<typeof claimCodeSchema>;
export type Claimed = z.infer<typeof claimedSchema>;
