/**
 * The agent's one typed command table (STYLE.md habit 5): every command type of the shared catalog has
 * its handler here, so a type added to `COMMAND_TYPES` without one is a compile error. Broadcast commands
 * (play, stop, sync-agenda, set-volume) are below; the maintenance ones are in remote-commands.ts.
 */
import { ErrorCode } from '@loaxa/shared';
import type { Logger } from 'pino';
import type { Agenda } from './agenda.js';
import type { CommandTable } from './commands.js';
import type { Playout } from './playout.js';
import { remoteCommandTable, type RemoteCommandContext } from './remote-commands.js';

export interface CommandContext extends RemoteCommandContext {
  playout: Playout;
  agenda: Agenda;
  /** Sets the mixer and records the volume; rejects when the mixer refuses. */
  setVolume(volume: number): Promise<void>;
  logger: Logger;
}

export function buildCommandTable(ctx: CommandContext): CommandTable {
  return {
    play: (env) => ({ ok: true, data: ctx.playout.submit(env.id, env.payload) }),
    // Items in hand stop now; agenda items not yet in hand are cancelled so they are never taken.
    stop: (env) => ({ ok: true, data: { stopped: ctx.playout.stop(env.payload) + ctx.agenda.cancel(env.payload, 'stopped by the server') } }),
    'set-volume': async (env) => {
      try {
        await ctx.setVolume(env.payload.volume);
      } catch (err) {
        ctx.logger.error({ err: (err as Error).message }, 'cannot set the mixer volume');
        return { ok: false, error: { code: ErrorCode.UNAVAILABLE, message: (err as Error).message } };
      }
      ctx.logger.info({ volume: env.payload.volume }, 'volume set');
      return { ok: true, data: { volume: ctx.settings.volume } };
    },
    'sync-agenda': async (env) => {
      try {
        return { ok: true, data: await ctx.agenda.sync(env.payload) };
      } catch (err) {
        // Not on disk, not taken: the server sends it again.
        ctx.logger.error({ err: (err as Error).message, version: env.payload.version }, 'cannot store the agenda');
        return { ok: false, error: { code: ErrorCode.UNAVAILABLE, message: `cannot store the agenda: ${(err as Error).message}` } };
      }
    },
    ...remoteCommandTable(ctx),
  };
}
