import t from 'tap';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers.js';

const MODULE = new URL('../../device-agent/src/loop-watchdog.ts', import.meta.url).pathname;

function runChild(t: Parameters<typeof tempDir>[0], body: string) {
  const file = join(tempDir(t), 'child.mts');
  writeFileSync(file, `import { startLoopWatchdog } from ${JSON.stringify(MODULE)};\n${body}\n`);
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 15_000 });
  return { ...r, ms: Date.now() - started };
}

t.test('a stalled event loop is killed by the watchdog (systemd restarts the agent)', async (t) => {
  const r = runChild(t, 'startLoopWatchdog(300);\nconst until = Date.now() + 10_000;\nwhile (Date.now() < until) {}\nconsole.log("survived");');
  t.equal(r.signal, 'SIGKILL');
  t.notMatch(r.stdout, /survived/);
  t.match(r.stderr, /event loop stalled for \d+ ms; killing the process/);
  t.ok(r.ms < 8_000, `killed after ${r.ms} ms`);
});

t.test('a healthy loop is left alone and the process can still exit', async (t) => {
  // The child sleeps for real on purpose: the watchdog watches the real event loop (a worker thread's timer).
  const r = runChild(t, 'const w = startLoopWatchdog(300);\nawait new Promise((r) => setTimeout(r, 800));\nawait w.stop();\nconsole.log("done");');
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /done/);
});
