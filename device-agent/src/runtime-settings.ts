/**
 * The agent's settings in force while it runs, in one object: the installer's configuration, the effective
 * one (with remote overrides applied), the overrides themselves, the volume and the ids of recently executed
 * commands (the at-most-once check, kept in the state file). The agent owns it and is the only writer
 * (start, set-volume, update-config); its parts and the command handlers read it when they need a value, so
 * a new volume or a remote settings change reaches them without a getter callback per field.
 */
import { DEFAULT_VOLUME, RecentIds } from './agent-state.js';
import type { AgentConfig } from './config.js';
import type { ConfigOverrides } from './config-overrides.js';

export class RuntimeSettings {
  /** The configuration in force: `base` plus the remote overrides. */
  config: AgentConfig;
  /** Settings the server changed (config-overrides.json). */
  overrides: ConfigOverrides = {};
  /** Mixer volume, 0–100. */
  volume = DEFAULT_VOLUME;
  /** Command ids taken (at most once), shared with the state file. */
  readonly recent: RecentIds<string | null>;

  constructor(
    /** The installer's configuration (file and variables), before remote overrides. */
    readonly base: AgentConfig,
    recentCapacity: number,
  ) {
    this.config = base;
    this.recent = new RecentIds(recentCapacity);
  }
}

/** What the parts of a run see: every field, none reassignable. */
export type SettingsView = Readonly<RuntimeSettings>;
