/**
 * What a DeviceAgent is built from. Its own module so that agent.ts and agent-parts.ts (which builds the
 * parts of one run from these) both import it and neither imports the other.
 */
import type { Payload } from '@loaxa/shared';
import type { Logger } from 'pino';
import type { AgentConfig } from './config.js';
import type { Hardware } from './hardware/index.js';
import type { PcmSink } from './hardware/sink.js';
import type { LogRing } from './log-ring.js';
import type { FetchLike } from './media-cache.js';
import type { Player } from './player.js';
import type { RelayTuning } from './relay/stream-relay.js';
import type { Clock } from './timing.js';

export interface DeviceAgentDeps {
  config: AgentConfig;
  logger: Logger;
  /** Audio output; by default the one the config names (ffmpeg, aplay or null). */
  player?: Player;
  /** Where relays' PCM goes (issue 15); by default the one matching the player (ALSA, or a CountingSink for null). */
  sink?: PcmSink;
  /** Tuning of the stream player (tests shorten its back-off). */
  relayTuning?: Partial<RelayTuning>;
  /** The board; by default the real one the config describes (a SimBoard's in the simulator). */
  hardware?: Hardware;
  /** The device's clock (epoch ms); defaults to the system clock. */
  clock?: Clock;
  /** Used to download media; defaults to the global fetch. */
  fetch?: FetchLike;
  /** Where recent log lines are kept for `fetch-logs`. */
  logs?: LogRing;
  /** Environment of the hardware tools (their PATH); defaults to the process's. */
  env?: NodeJS.ProcessEnv;
  /** Switches to a new release for the `self-update` command (main.ts wires applyUpdate); absent: refused. */
  selfUpdate?: (req: Payload<'self-update'>) => Promise<{ to: string }>;
  /** Commands arriving this soon after a connect are not clock samples (they may have waited in the broker). */
  clockSampleSettleMs?: number;
}
