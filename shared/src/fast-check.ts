/**
 * Plain-code checks for the messages a province's boxes send most: the envelope, `telemetry` (10,000 boxes
 * × 2 heartbeats a minute) and delivery `event`s (4 per box per broadcast). zod checks each such message
 * in ~30–50 µs, 12–17 % of the server's main thread during a heartbeat minute on the issue 8 bench; these
 * take a few µs.
 *
 * They never decide alone that a message is bad: each answers `true` only for a value its zod schema in
 * messages.ts accepts unchanged — the same rules, and no key the schema does not know (zod would strip
 * it) — and `false` for everything else, which then goes through zod as before, for zod's answer and its
 * error message. So a mistake here can only cost speed, never let through what zod refuses:
 * test/shared/fast-check.test.ts compares both on generated and mutated messages.
 */
import { z } from 'zod';
import { ID_PATTERN, SHA256_PATTERN } from './ids.js';
import { DELIVERY_STATES } from './delivery.js';
import { FAULT_KINDS, NETWORK_TYPES } from './messages.js';

type Obj = Record<string, unknown>;

// zod 4's own pattern behind z.string().uuid(), so both accept exactly the same ids.
const UUID = z.core.regexes.uuid();

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** z.number(): finite. */
const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
/** z.number().int(): zod 4 takes safe integers only. */
const int = (v: unknown): v is number => Number.isSafeInteger(v);
const nonNegInt = (v: unknown): boolean => int(v) && (v) >= 0;
const nonNegNum = (v: unknown): boolean => num(v) && v >= 0;
const str = (v: unknown, max: number): boolean => typeof v === 'string' && v.length <= max;
const opt = (v: unknown, check: (v: unknown) => boolean): boolean => v === undefined || check(v);
const nullableBool = (v: unknown): boolean => v === null || typeof v === 'boolean';
// Checks passed to `opt` are made once here, not as arrow functions in each call: ~20,000 heartbeats a
// minute would otherwise allocate a dozen closures each for the garbage collector.
const str32 = (v: unknown): boolean => str(v, 32);
const str64 = (v: unknown): boolean => str(v, 64);
const str500 = (v: unknown): boolean => str(v, 500);
const percent = (v: unknown): boolean => int(v) && v >= 0 && v <= 100;
const celsius = (v: unknown): boolean => num(v) && v >= -100 && v <= 200;
const uuid = (v: unknown): boolean => typeof v === 'string' && UUID.test(v);
const sha256 = (v: unknown): boolean => typeof v === 'string' && SHA256_PATTERN.test(v);

/** Every own key of `o` is one of `keys` (a key zod does not know would be stripped: not "unchanged"). */
function onlyKeys(o: Obj, keys: ReadonlySet<string>): boolean {
  for (const k in o) if (!keys.has(k)) return false;
  return true;
}

const ENVELOPE_KEYS = new Set(['v', 'id', 'type', 'ts', 'expiresAt', 'payload']);

/** envelopeSchema, with `payload` present. */
export function fastEnvelope(v: unknown): v is { v: 1; id: string; type: string; ts: number; expiresAt?: number; payload: unknown } {
  if (!isObj(v) || !onlyKeys(v, ENVELOPE_KEYS)) return false;
  if (v.v !== 1 || typeof v.id !== 'string' || !UUID.test(v.id)) return false;
  if (typeof v.type !== 'string' || v.type.length < 1 || v.type.length > 64) return false;
  return nonNegInt(v.ts) && opt(v.expiresAt, nonNegInt) && v.payload !== undefined;
}

const NETWORK_KEYS = new Set(['type', 'interface', 'accessTech', 'signalPct', 'operator', 'modemState']);
const NETWORK_TYPE_SET: ReadonlySet<unknown> = new Set(NETWORK_TYPES);
const FAULT_SET: ReadonlySet<unknown> = new Set(FAULT_KINDS);

function network(v: unknown): boolean {
  return (
    isObj(v) &&
    onlyKeys(v, NETWORK_KEYS) &&
    NETWORK_TYPE_SET.has(v.type) &&
    opt(v.interface, str32) &&
    opt(v.accessTech, str32) &&
    opt(v.signalPct, percent) &&
    opt(v.operator, str64) &&
    opt(v.modemState, str32)
  );
}

function faults(v: unknown): boolean {
  if (!Array.isArray(v) || v.length > FAULT_KINDS.length) return false;
  for (const f of v) if (!FAULT_SET.has(f)) return false;
  return true;
}

const HEALTH_KEYS = new Set([
  'systemUptimeS', 'cpuTempC', 'load1', 'load5', 'load15', 'memTotalBytes', 'memAvailableBytes', 'diskFreeBytes', 'diskTotalBytes',
  'network', 'clockSynced', 'amplifierOn', 'faults', 'linkFailures', 'modemRecoveries',
]);

/** telemetryHealthSchema. */
function health(v: unknown): boolean {
  return (
    isObj(v) &&
    onlyKeys(v, HEALTH_KEYS) &&
    opt(v.systemUptimeS, nonNegInt) &&
    opt(v.cpuTempC, celsius) &&
    opt(v.load1, nonNegNum) &&
    opt(v.load5, nonNegNum) &&
    opt(v.load15, nonNegNum) &&
    opt(v.memTotalBytes, nonNegInt) &&
    opt(v.memAvailableBytes, nonNegInt) &&
    opt(v.diskFreeBytes, nonNegInt) &&
    opt(v.diskTotalBytes, nonNegInt) &&
    opt(v.network, network) &&
    opt(v.clockSynced, nullableBool) &&
    opt(v.amplifierOn, nullableBool) &&
    opt(v.faults, faults) &&
    opt(v.linkFailures, nonNegInt) &&
    opt(v.modemRecoveries, nonNegInt)
  );
}

const PLAYING_KEYS = new Set(['broadcastId', 'occurrenceAt']);
const TELEMETRY_KEYS = new Set(['uptimeS', 'volume', 'cacheBytes', 'cacheItems', 'playing', 'clockOffsetMs', 'agentVersion', 'health']);
const id = (v: unknown): boolean => typeof v === 'string' && ID_PATTERN.test(v);
const playing = (p: unknown): boolean => p === null || (isObj(p) && onlyKeys(p, PLAYING_KEYS) && id(p.broadcastId) && nonNegInt(p.occurrenceAt));

/** telemetryPayloadSchema. */
export function fastTelemetry(v: unknown): boolean {
  return (
    isObj(v) &&
    onlyKeys(v, TELEMETRY_KEYS) &&
    nonNegNum(v.uptimeS) &&
    int(v.volume) &&
    (v.volume) >= 0 &&
    (v.volume) <= 100 &&
    nonNegInt(v.cacheBytes) &&
    nonNegInt(v.cacheItems) &&
    opt(v.playing, playing) &&
    opt(v.clockOffsetMs, num) &&
    opt(v.agentVersion, str64) &&
    opt(v.health, health)
  );
}

const DELIVERY_KEYS = new Set(['kind', 'commandId', 'broadcastId', 'occurrenceAt', 'state', 'at', 'reason', 'sha256', 'airedMs']);
const STATE_SET: ReadonlySet<unknown> = new Set(DELIVERY_STATES);

/** eventPayloadSchema for `kind: 'delivery'` (faults are rare and go through zod). */
export function fastDeliveryEvent(v: unknown): boolean {
  return (
    isObj(v) &&
    v.kind === 'delivery' &&
    onlyKeys(v, DELIVERY_KEYS) &&
    opt(v.commandId, uuid) &&
    id(v.broadcastId) &&
    nonNegInt(v.occurrenceAt) &&
    STATE_SET.has(v.state) &&
    nonNegInt(v.at) &&
    opt(v.reason, str500) &&
    opt(v.sha256, sha256) &&
    opt(v.airedMs, (n) => nonNegInt(n) && (n as number) <= 24 * 3600_000)
  );
}

/** The fast checks by message type; a type without one always goes through zod. */
export const FAST_PAYLOAD_CHECKS: ReadonlyMap<string, (v: unknown) => boolean> = new Map([
  ['telemetry', fastTelemetry],
  ['event', fastDeliveryEvent],
]);
