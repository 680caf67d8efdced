/**
 * The HTTP contract (CONTRACTS.md), one zod schema per request and response body, query and shared enum.
 * The server's routes validate with these; the web app takes its types from them (`z.infer`/`z.input`).
 * Browser-safe: nothing here imports a Node module (the web app imports `@loaxa/shared/api`).
 */
export * from './enums.js';
export * from './limits.js';
export * from './permissions.js';
export * from './common.js';
export * from './schedule.js';
export * from './auth.js';
export * from './users.js';
export * from './areas.js';
export * from './devices.js';
export * from './bulletins.js';
export * from './broadcasts.js';
export * from './offers.js';
export * from './reports.js';
export * from './coverage.js';
export * from './events.js';
export * from './audit.js';
export * from './tts.js';
export * from './claims.js';
export * from './device-page.js';
export * from './sources.js';
export * from './programmes.js';
export * from './live.js';
export * from './national.js';
export * from './national-link.js';
export * from './warnings.js';
export * from './notifications.js';
export * from './labels-vi.js';
export * from './search.js';
export { idSchema, areaCodeSchema, sha256Schema, ID_PATTERN, AREA_CODE_PATTERN } from '../ids.js';
export * from './calendar.js';
