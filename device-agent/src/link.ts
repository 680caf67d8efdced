/**
 * Reconnect policy of the MQTT link on a weak 4G uplink. After a drop the first retry comes after the
 * base period ± 50 %; each further failure doubles the wait up to a ceiling, with the wait drawn from its
 * upper half at random, so hundreds of boxes that lost the broker together (a server restart, a cell
 * outage, a reboot storm) spread their reconnects instead of arriving in waves. After several failures in
 * a row the modem may be wedged: a configured recovery command is run (at most once per interval).
 */
import type { Logger } from 'pino';
import { tail, type CommandRunner } from './hardware/command.js';
import { jitter } from './timing.js';

/** A refused CONNECT (bad credentials, not authorized) waits at least this many base periods. */
const REFUSED_FACTOR = 12;

export class ReconnectPolicy {
  private failures = 0;
  private floorMs = 0;

  constructor(private readonly opts: { baseMs: number; maxMs: number; random?: () => number }) {}

  /** Connection attempts that failed since the last successful one. */
  get consecutiveFailures(): number {
    return this.failures;
  }

  connected(): void {
    this.failures = 0;
    this.floorMs = 0;
  }

  /** The broker refused us: retrying soon will not help. */
  refused(): void {
    this.floorMs = Math.min(this.opts.baseMs * REFUSED_FACTOR, this.opts.maxMs);
  }

  /** Records a lost or failed connection and returns how long to wait before the next attempt. */
  nextDelay(): number {
    const random = this.opts.random ?? Math.random;
    const n = this.failures++;
    const ceiling = Math.min(this.opts.maxMs, this.opts.baseMs * 2 ** Math.min(n, 30));
    const delay = n === 0 ? jitter(this.opts.baseMs, 0.5, random) : Math.round(ceiling * (0.5 + 0.5 * random()));
    const floor = this.floorMs;
    this.floorMs = 0;
    return Math.max(1, floor ? Math.max(delay, jitter(floor, 0.5, random)) : delay);
  }
}

export class ModemRecovery {
  private lastRunAt = -Infinity;
  private running = false;
  runs = 0;

  constructor(
    private readonly deps: {
      command: string | undefined;
      afterFailures: number;
      intervalMs: number;
      runner: CommandRunner;
      logger: Logger;
      now?: () => number;
    },
  ) {}

  /** Called after each failed attempt; runs the command when due. Resolves when it has finished. */
  async onFailure(consecutiveFailures: number): Promise<boolean> {
    const { command } = this.deps;
    if (!command || this.running || consecutiveFailures < this.deps.afterFailures) return false;
    const now = (this.deps.now ?? Date.now)();
    if (now - this.lastRunAt < this.deps.intervalMs) return false;
    this.lastRunAt = now;
    this.running = true;
    this.runs += 1;
    this.deps.logger.warn({ command, consecutiveFailures }, 'broker unreachable; running the modem recovery command');
    try {
      // The installer's command line, run by /bin/sh (it may be a pipeline or call a script).
      const r = await this.deps.runner.run('/bin/sh', ['-c', command], { timeoutMs: 120_000 });
      if (r.code === 0) this.deps.logger.info('modem recovery command finished');
      else this.deps.logger.error({ code: r.code, stderr: tail(r.stderr) }, 'modem recovery command failed');
    } catch (err) {
      this.deps.logger.error({ err: (err as Error).message }, 'cannot run the modem recovery command');
    } finally {
      this.running = false;
    }
    return true;
  }
}
