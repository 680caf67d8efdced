// Starts a worker whose entry is a .ts file. Under `node --import tsx` the parent thread can load .ts, but
// on Node 20 a worker started with the same execArgv cannot (measured: "Unknown file extension .ts"), so
// the worker registers tsx's loader itself before importing its real entry (workerData.entry, a file URL).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
