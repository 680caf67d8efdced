/**
 * Handlers of the maintenance commands: test tone, agent restart, recent logs, settings update. Each is
 * answered on `res` with the request id (through the dispatcher), and none lets an error escape.
 */
import { ErrorCode, type Payload } from '@loaxa/shared';
import type { Logger } from 'pino';
import { planConfigChange, writeOverrides, type ConfigChange } from './config-overrides.js';
import type { LogRing } from './log-ring.js';
import { SpeakerBusyError } from './playout.js';
import type { CommandTable } from './commands.js';
import type { SettingsView } from './runtime-settings.js';
import { testToneFile } from './test-tone.js';

const PINO_LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;

export interface RemoteCommandContext {
  /** The installer's and the effective configuration, the overrides and the volume (read at each command). */
  settings: Pick<SettingsView, 'base' | 'config' | 'overrides' | 'volume'>;
  /** Plays a local file holding the speaker; rejects with SpeakerBusyError or an AbortError. */
  playTone(file: string, durationMs: number, volume: number): Promise<void>;
  logs: LogRing | undefined;
  requestRestart(reason: string, delayMs: number): void;
  applyConfig(change: ConfigChange): void;
  /** Downloads, checks and switches to a release (update/release.ts applyUpdate); absent when self-update is off. */
  selfUpdate?: ((req: Payload<'self-update'>) => Promise<{ to: string }>) | undefined;
  logger: Logger;
}

/** After a switch: long enough for the answer to leave before the process exits for systemd. */
const SELF_UPDATE_RESTART_MS = 1_000;

export type MaintenanceCommand = 'test-tone' | 'reboot' | 'fetch-logs' | 'update-config' | 'self-update';

export function remoteCommandTable(ctx: RemoteCommandContext): Pick<CommandTable, MaintenanceCommand> {
  return {
    'test-tone': async (env) => {
      const durationMs = env.payload.durationMs ?? 3_000;
      const frequencyHz = env.payload.frequencyHz ?? 1_000;
      const file = await testToneFile(ctx.settings.config.stateDir, frequencyHz, durationMs);
      ctx.logger.info({ durationMs, frequencyHz }, 'playing the test tone');
      try {
        await ctx.playTone(file, durationMs, env.payload.volume ?? ctx.settings.volume);
        return { ok: true, data: { played: true, durationMs, frequencyHz } };
      } catch (err) {
        if (err instanceof SpeakerBusyError) return { ok: false, error: { code: ErrorCode.CONFLICT, message: err.message } };
        // Interrupted by a higher-priority item, or the agent is stopping.
        if ((err as Error).name === 'AbortError' || (err as Error).message === 'interrupted') return { ok: true, data: { played: false, durationMs, frequencyHz } };
        return { ok: false, error: { code: ErrorCode.PLAYBACK_FAILED, message: (err as Error).message } };
      }
    },
    reboot: (env) => {
      const delayMs = env.payload.delayMs ?? 1_000;
      ctx.requestRestart('restart requested by the server', delayMs);
      return { ok: true, data: { restartingInMs: delayMs } };
    },
    'fetch-logs': (env) => {
      if (!ctx.logs) return { ok: false, error: { code: ErrorCode.UNAVAILABLE, message: 'this agent keeps no log lines in memory' } };
      const minLevel = env.payload.minLevel ? PINO_LEVELS[env.payload.minLevel] : undefined;
      return { ok: true, data: ctx.logs.recent({ max: env.payload.lines ?? 200, ...(minLevel !== undefined ? { minLevel } : {}) }) };
    },
    'update-config': async (env) => {
      let change: ConfigChange;
      try {
        change = planConfigChange(ctx.settings.base, ctx.settings.overrides, env.payload);
      } catch (err) {
        return { ok: false, error: { code: ErrorCode.BAD_REQUEST, message: (err as Error).message } };
      }
      await writeOverrides(ctx.settings.config.stateDir, change.overrides);
      ctx.logger.info({ changed: change.changed, restart: change.restart }, 'settings changed by the server');
      ctx.applyConfig(change);
      return { ok: true, data: { changed: change.changed, restart: change.restart } };
    },
    'self-update': async (env) => {
      if (!ctx.selfUpdate) return { ok: false, error: { code: ErrorCode.UNAVAILABLE, message: 'self-update is off on this box (no LOAXA_AGENT_UPDATE_ROOT)' } };
      let to: string;
      try {
        ({ to } = await ctx.selfUpdate(env.payload));
      } catch (err) {
        const kind = (err as { kind?: string }).kind;
        const code = kind === 'busy' ? ErrorCode.CONFLICT : kind === 'download' || kind === undefined ? ErrorCode.UNAVAILABLE : ErrorCode.BAD_REQUEST;
        ctx.logger.error({ err: (err as Error).message, url: env.payload.url }, 'self-update refused');
        return { ok: false, error: { code, message: (err as Error).message } };
      }
      ctx.logger.warn({ to }, 'switched to a new release; restarting into it');
      ctx.requestRestart(`self-update to ${to}`, SELF_UPDATE_RESTART_MS);
      return { ok: true, data: { switchingTo: to, restartingInMs: SELF_UPDATE_RESTART_MS } };
    },
  };
}
