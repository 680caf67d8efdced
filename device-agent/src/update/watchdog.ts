/**
 * The self-update rollback watchdog, started by the *running* release just before it exits into the new
 * one. It must outlive the service's processes (systemd kills the whole cgroup on restart), so it runs
 *
 *   - as a transient unit: `systemd-run --unit=loaxa-agent-rollback-<ts> --collect --on-active=<limit>s
 *     node <this release>/bin/loaxa-agent.mjs rollback-check --root ROOT --restart-unit loaxa-agent.service`
 *     (a timer: one check at the deadline; the installer's polkit rule allows exactly these units), or
 *   - where systemd-run is missing (development, other init systems): a detached `setsid` child running
 *     `rollback-check --wait`, which sleeps until the deadline.
 *
 * `rollback-check` then calls checkHealthAfterUpdate: a release that has not confirmed is rolled back and
 * the service restarted on the previous one.
 */
import { spawn, execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkHealthAfterUpdate } from './release.js';
import type { UpdateDecision } from './decide.js';

export const ROLLBACK_UNIT_PREFIX = 'loaxa-agent-rollback-';

/** The first executable `name` on PATH, or null. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return null;
}

export interface WatchdogLaunch {
  /** Seconds from now until the check (the update's health limit plus a margin). */
  delaySec: number;
  root: string;
  /** The node binary and the bundled agent of the release that launches it (the one to go back to). */
  node: string;
  script: string;
  /** The service systemd restarts after a rollback. */
  serviceUnit?: string;
  now?: () => number;
}

/** The command line that starts the watchdog: systemd-run when present, else setsid. */
export function rollbackWatchdogCommand(opts: WatchdogLaunch, env: NodeJS.ProcessEnv = process.env): { cmd: string; args: string[]; via: 'systemd-run' | 'setsid' } {
  const unit = opts.serviceUnit ?? 'loaxa-agent.service';
  const check = [opts.node, opts.script, 'rollback-check', '--root', opts.root, '--restart-unit', unit];
  const delay = Math.max(1, Math.ceil(opts.delaySec));
  if (findOnPath('systemd-run', env)) {
    const name = `${ROLLBACK_UNIT_PREFIX}${(opts.now ?? Date.now)()}`;
    return { cmd: 'systemd-run', args: [`--unit=${name}`, '--collect', `--on-active=${delay}s`, `--description=Loa Xã agent update rollback check`, ...check], via: 'systemd-run' };
  }
  return { cmd: 'setsid', args: [...check, '--wait'], via: 'setsid' };
}

/** Starts the watchdog outside the service's process group; resolves once it is launched. */
export async function launchRollbackWatchdog(opts: WatchdogLaunch, env: NodeJS.ProcessEnv = process.env): Promise<{ cmd: string; args: string[]; via: 'systemd-run' | 'setsid' }> {
  const line = rollbackWatchdogCommand(opts, env);
  if (line.via === 'systemd-run') {
    await new Promise<void>((resolve, reject) =>
      execFile(line.cmd, line.args, { env }, (err, _out, stderr) => (err ? reject(new Error(`systemd-run failed: ${stderr.trim() || err.message}`)) : resolve())),
    );
  } else {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(line.cmd, line.args, { env, detached: true, stdio: 'ignore' });
      child.once('error', reject);
      child.once('spawn', () => {
        child.unref();
        resolve();
      });
    });
  }
  return line;
}

/** `loaxa-agent rollback-check --root DIR [--restart-unit UNIT] [--wait]`: the watchdog's body. */
export async function rollbackCheckCli(
  argv: string[],
  io: { out: (s: string) => void; err: (s: string) => void; env?: NodeJS.ProcessEnv; sleep?: (ms: number) => Promise<void>; now?: () => number },
): Promise<number> {
  let values: { root?: string; 'restart-unit'?: string; wait?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { root: { type: 'string' }, 'restart-unit': { type: 'string' }, wait: { type: 'boolean' } } }));
  } catch (err) {
    io.err(`rollback-check: ${(err as Error).message}\n`);
    return 2;
  }
  if (!values.root) {
    io.err('rollback-check: --root DIR is required\n');
    return 2;
  }
  const unit = values['restart-unit'];
  const env = io.env ?? process.env;
  const restart = unit
    ? () => new Promise<void>((resolve, reject) => execFile('systemctl', ['restart', unit], { env }, (err, _o, stderr) => (err ? reject(new Error(stderr.trim() || err.message)) : resolve())))
    : undefined;
  const sleep = io.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (;;) {
    let decision: UpdateDecision;
    try {
      decision = await checkHealthAfterUpdate({ root: values.root, ...(io.now ? { now: io.now } : {}), ...(restart ? { restart } : {}) });
    } catch (err) {
      io.err(`rollback-check: ${(err as Error).message}\n`);
      return 1;
    }
    if (decision.action === 'wait' && values.wait) {
      await sleep(decision.untilMs + 1_000);
      continue;
    }
    io.out(`rollback-check: ${decision.action}${decision.action === 'rollback' ? `: ${decision.reason}` : ''}\n`);
    return 0;
  }
}
