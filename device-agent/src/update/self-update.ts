/**
 * Wiring of self-update into the agent process (main.ts): at start, count the start of a pending release
 * and roll a crash-looping one back; once online, confirm it; for the `self-update` command, apply the
 * update and launch the rollback watchdog from this (the previous) release before exiting.
 */
import { readFileSync, realpathSync } from 'node:fs';
import type { Logger } from 'pino';
import { AGENT_VERSION } from '../version.js';
import { checkHealthAfterUpdate, confirmUpdateHealthy, currentRelease, applyUpdate, DEFAULT_HEALTH_TIMEOUT_MS, noteUpdateStart, readMarker, type UpdateRequest } from './release.js';
import { launchRollbackWatchdog } from './watchdog.js';

/** Margin past the health limit before the watchdog checks. */
const WATCHDOG_MARGIN_SEC = 15;

export interface SelfUpdateSetup {
  release: string;
  rolledBack: boolean;
  confirm(): Promise<boolean>;
  selfUpdate(req: UpdateRequest): Promise<{ to: string }>;
}

export async function setupSelfUpdate(opts: { env: NodeJS.ProcessEnv; logger: Logger; script?: string; node?: string }): Promise<SelfUpdateSetup | null> {
  const root = opts.env.LOAXA_AGENT_UPDATE_ROOT;
  if (!root) return null;
  const release = (await currentRelease(root)) ?? AGENT_VERSION;
  const healthTimeoutMs = Number(opts.env.LOAXA_AGENT_UPDATE_HEALTH_TIMEOUT_MS) || DEFAULT_HEALTH_TIMEOUT_MS;
  const keyFile = opts.env.LOAXA_AGENT_UPDATE_PUBLIC_KEY_FILE;
  const publicKey = keyFile ? readFileSync(keyFile, 'utf8') : undefined;
  await noteUpdateStart(root, release);
  let rolledBack = false;
  const marker = await readMarker(root);
  if (marker?.state === 'pending' && marker.to === release) {
    // Only the crash-loop case can decide here (the deadline is the watchdog's); restart is systemd's.
    const decision = await checkHealthAfterUpdate({ root });
    if (decision.action === 'rollback') {
      opts.logger.error({ reason: decision.reason }, 'rolled back to the previous release');
      rolledBack = true;
    }
  }
  return {
    release,
    rolledBack,
    confirm: async () => {
      const done = await confirmUpdateHealthy(root, release);
      if (done) opts.logger.info({ release }, 'update confirmed healthy');
      return done;
    },
    selfUpdate: async (req) => {
      const { to } = await applyUpdate(req, { root, healthTimeoutMs, ...(publicKey ? { publicKey } : {}) });
      const line = await launchRollbackWatchdog(
        {
          root,
          delaySec: healthTimeoutMs / 1000 + WATCHDOG_MARGIN_SEC,
          node: opts.node ?? process.execPath,
          script: opts.script ?? realpathSync(process.argv[1] ?? ''),
        },
        opts.env,
      );
      opts.logger.info({ to, watchdog: line.via }, 'rollback watchdog launched');
      return { to };
    },
  };
}
