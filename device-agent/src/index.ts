/** Public API of the device agent (used by main.ts, the firmware simulator and tests). */
export { DeviceAgent, type DeviceAgentDeps, type DeviceAgentEvents } from './agent.js';
export {
  agentConfigSchema,
  loadAgentConfig,
  parseAgentConfig,
  redactConfig,
  ConfigError,
  CONFIG_FILE_VAR,
  PLAYER_KINDS,
  type AgentConfig,
  type AgentConfigInput,
  type PlayerKind,
} from './config.js';
export { NullPlayer, FfmpegAlsaPlayer, AplayPlayer, createPlayer, type Player, type PlayOptions } from './player.js';
export { MediaCache, HashMismatchError, DownloadError, basicAuth, hashFile, type FetchLike } from './media-cache.js';
export { deliveryKey, type DeliveryReport } from './playout.js';
export { interrupts, pickNext, priorityRank, compareContenders, type Contender } from './priority.js';
export { CommandDispatcher, type CommandTable, type CommandHandler, type CommandResult } from './commands.js';
export { AgentStateStore, RecentIds, agentStateSchema, STATE_FILE, DEFAULT_VOLUME, type AgentState } from './agent-state.js';
export { systemClock, jitter, type Clock } from './timing.js';
export { AGENT_VERSION } from './version.js';
