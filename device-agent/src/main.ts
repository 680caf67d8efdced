/**
 * The device-agent process: read the config once, run one agent, stop it on SIGINT/SIGTERM within a
 * hard deadline (STYLE.md habit 8). Process concerns live here, not in agent.ts.
 */
import { pino } from 'pino';
import { DeviceAgent } from './agent.js';
import { ConfigError, loadAgentConfig, redactConfig } from './config.js';
import { LogRing } from './log-ring.js';
import { startLoopWatchdog } from './loop-watchdog.js';
import { setupSelfUpdate } from './update/self-update.js';

const STOP_TIMEOUT_MS = 8_000;
const HARD_EXIT_MS = 10_000;

async function main(): Promise<void> {
  const level = process.env.LOAXA_AGENT_LOG_LEVEL ?? 'info';
  // Recent lines stay in memory too, for the fetch-logs command (sized once the config is read).
  const ring = { current: new LogRing(2_000) };
  const logger = pino(
    { name: 'loaxa-agent', level },
    pino.multistream([
      { level: level as pino.Level, stream: process.stdout },
      { level: level as pino.Level, stream: { write: (line: string) => ring.current.write(line) } },
    ]),
  );
  let config;
  try {
    config = loadAgentConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  ring.current = new LogRing(config.logRingLines);
  if (config.watchdogMs > 0) startLoopWatchdog(config.watchdogMs);
  logger.info({ config: redactConfig(config) }, 'configuration');
  // Self-update (LOAXA_AGENT_UPDATE_ROOT, set by the systemd unit): counts this start, rolls a crash-looping
  // new release back, and confirms it once the agent has published online.
  const update = await setupSelfUpdate({ env: process.env, logger: logger.child({ module: 'update' }) });
  if (update?.rolledBack) process.exit(0); // systemd starts the previous release
  const agent = new DeviceAgent({ config, logger, logs: ring.current, ...(update ? { selfUpdate: update.selfUpdate } : {}) });
  if (update) agent.once('connect', () => void update.confirm());
  await agent.start();

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    // The hard deadline holds even if something in stop() hangs.
    setTimeout(() => {
      logger.error('stop took too long; exiting');
      process.exit(1);
    }, HARD_EXIT_MS).unref();
    agent.stop({ timeoutMs: STOP_TIMEOUT_MS }).then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  // A restart asked for remotely is a clean exit: systemd (Restart=always) starts a fresh process.
  agent.on('restart-requested', (reason) => shutdown(`restart: ${reason}`));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`device-agent failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
