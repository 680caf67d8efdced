/**
 * Identifiers that appear inside MQTT topics. ARCHITECTURE.md fixes the shape so that an id can never
 * contain `/`, `+` or `#` — a device named `a/+` would otherwise widen its own ACL [MQTT-4.7.1].
 */
import { z } from 'zod';

export const ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;

export const idSchema = z.string().regex(ID_PATTERN, 'must match ^[a-z0-9][a-z0-9-]{0,63}$');

/** Official statistics-office codes: province 2 digits, commune 5 digits; villages may be longer. */
export const AREA_CODE_PATTERN = /^[0-9]{2,10}$/;
export const areaCodeSchema = z.string().regex(AREA_CODE_PATTERN, 'must be a numeric area code (2–10 digits)');

export function isId(value: string): boolean {
  return ID_PATTERN.test(value);
}

export const SHA256_PATTERN = /^[0-9a-f]{64}$/;
export const sha256Schema = z.string().regex(SHA256_PATTERN, 'must be a lowercase hex SHA-256');
