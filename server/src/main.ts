/**
 * The server process: configuration, logging, signals and exit codes. Everything else is in app.ts.
 */
import { loadConfig, ConfigError } from './config.js';
import { buildApp } from './app.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`loaxa-server: ${err.message}\nSee README.md § Configuration.\n`);
      process.exit(2);
    }
    throw err;
  }
  const server = await buildApp(config);
  let signalled = false;
  const shutdown = (signal: string) => {
    if (signalled) {
      server.logger.warn('second signal; exiting now');
      process.exit(1);
    }
    signalled = true;
    server.logger.info({ signal }, 'shutting down');
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        server.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  try {
    await server.start();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      server.logger.fatal(`a port is already in use (${e.message}); set LOAXA_HTTP_PORT / LOAXA_MQTT_PORT to free ones`);
    } else {
      server.logger.fatal({ err }, 'failed to start');
    }
    await server.stop().catch(() => undefined);
    process.exit(1);
  }
}

void main();
