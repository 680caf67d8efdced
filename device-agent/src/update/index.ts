/**
 * Agent self-update with rollback: the module's public face.
 *
 *   decide.ts     when to keep, wait for or roll back an update (pure)
 *   release.ts    download, verify, unpack, switch `current`, the update.json marker, the health check
 *   watchdog.ts   the rollback watchdog started by the running release before it exits into the new one
 *   self-update.ts  wiring into the agent (the update command, confirm on connect, start counting)
 *
 * The files import each other in that order only (watchdog → release → decide), never back.
 */
export { decideAfterUpdate, UPDATE_MARKER, type UpdateDecision, type UpdateMarker } from './decide.js';
export {
  applyUpdate,
  checkHealthAfterUpdate,
  confirmUpdateHealthy,
  currentRelease,
  DEFAULT_HEALTH_TIMEOUT_MS,
  noteUpdateStart,
  readMarker,
  switchCurrent,
  UpdateError,
  type UpdateOptions,
  type UpdateRequest,
} from './release.js';
export { findOnPath, launchRollbackWatchdog, rollbackCheckCli, rollbackWatchdogCommand, ROLLBACK_UNIT_PREFIX, type WatchdogLaunch } from './watchdog.js';
