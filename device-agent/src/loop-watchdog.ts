/**
 * A watchdog without sd_notify: systemd's WatchdogSec needs `WATCHDOG=1` datagrams on a unix socket,
 * which Node cannot send without a native module (dgram has no unix sockets, and `systemd-notify` run
 * as a child is attributed to the wrong process). Instead a worker thread watches the main thread's
 * event loop: the main thread stamps a shared clock every second; when the stamp is older than `stallMs`
 * (a busy loop, a deadlock in a native call), the worker kills the process with SIGKILL and systemd's
 * `Restart=always` starts a fresh one.
 */
import { Worker } from 'node:worker_threads';

const WORKER = `
const { workerData } = require('node:worker_threads');
const stamp = new Float64Array(workerData.buffer);
setInterval(() => {
  if (Date.now() - stamp[0] > workerData.stallMs) {
    process._rawDebug('loaxa-agent watchdog: event loop stalled for ' + (Date.now() - stamp[0]) + ' ms; killing the process');
    process.kill(process.pid, 'SIGKILL');
  }
}, Math.max(10, Math.floor(workerData.stallMs / 4)));
`;

export interface LoopWatchdog {
  stop(): Promise<void>;
}

export function startLoopWatchdog(stallMs: number): LoopWatchdog {
  const buffer = new SharedArrayBuffer(8);
  const stamp = new Float64Array(buffer);
  stamp[0] = Date.now();
  const tick = setInterval(() => (stamp[0] = Date.now()), Math.max(5, Math.floor(stallMs / 10)));
  tick.unref();
  const worker = new Worker(WORKER, { eval: true, workerData: { buffer, stallMs } });
  worker.unref();
  return {
    stop: async () => {
      clearInterval(tick);
      await worker.terminate();
    },
  };
}
