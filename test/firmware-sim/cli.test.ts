import t from 'tap';
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { SCENARIOS, runCli, type CliIo } from '@loaxa/firmware-sim';
import { silentLogger, tempDir, waitFor } from '../device-agent/helpers.js';
import { ADMIN_PASSWORD, startStandIn } from './stand-in-server.js';

function io(env: NodeJS.ProcessEnv = {}): CliIo & { out: () => string; err: () => string; signals: EventEmitter } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env,
    signals: new EventEmitter(),
    out: () => out,
    err: () => err,
  };
}

const FLAGS = ['--server', '--count', '--area', '--state', '--scenario', '--heartbeat-ms', '--log-level', '--agent-log-level', '--help'];

t.test('--help lists every flag and scenario', async (t) => {
  const x = io();
  t.equal(await runCli(['--help'], x), 0);
  for (const flag of FLAGS) t.match(x.out(), flag);
  for (const name of Object.keys(SCENARIOS)) t.match(x.out(), new RegExp(`^  ${name} `, 'm'));
  t.match(x.out(), /LOAXA_ADMIN_PASSWORD/);
});

t.test('npm run sim -- --help works as a program', async (t) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'firmware-sim/src/cli.ts', '--help'], { encoding: 'utf8', timeout: 20_000 });
  t.equal(r.status, 0, r.stderr);
  for (const flag of FLAGS) t.match(r.stdout, flag);
  const bad = spawnSync(process.execPath, ['--import', 'tsx', 'firmware-sim/src/cli.ts', '--server', 'http://x', '--area', '00004', '--scenario', 'meteor'], { encoding: 'utf8', timeout: 20_000 });
  t.equal(bad.status, 2);
  t.match(bad.stderr, /unknown scenario "meteor"; known scenarios: steady/);
});

t.test('usage errors exit 2 with a clear message', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--area', '00004'], /--server is required/],
    [['--server', 'http://localhost:8080'], /--area is required/],
    [['--server', 'localhost', '--area', '00004'], /--server must be an http/],
    [['--server', 'http://x', '--area', '00004', '--count', 'many'], /--count must be a whole number/],
    [['--server', 'http://x', '--area', '00004', '--scenario', 'steady,meteor'], /unknown scenario "meteor"/],
    [['--server', 'http://x', '--area', '00004', '--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [argv, message] of cases) {
    const x = io();
    t.equal(await runCli(argv, x), 2, argv.join(' '));
    t.match(x.err(), message);
    t.match(x.err(), /--help/);
  }
});

t.test('a wrong password exits 1 mentioning LOAXA_ADMIN_PASSWORD', async (t) => {
  const server = await startStandIn(t);
  const x = io({ LOAXA_ADMIN_PASSWORD: 'nope' });
  const code = await runCli(['--server', server.url, '--area', '00004', '--state', `${tempDir(t)}/s.json`, '--log-level', 'silent'], x);
  t.equal(code, 1);
  t.match(x.err(), /LOAXA_ADMIN_PASSWORD/);
});

t.test('runs boxes until a signal, then stops them', async (t) => {
  const server = await startStandIn(t);
  const x = io({ LOAXA_ADMIN_PASSWORD: ADMIN_PASSWORD });
  x.simulationOverrides = { logger: silentLogger(), startSpreadMs: 50 };
  const state = `${tempDir(t)}/s.json`;
  const done = runCli(['--server', server.url, '--count', '2', '--area', '00004', '--state', state, '--scenario', 'steady'], x);
  await waitFor(() => /2 boxes running/.test(x.out()), 8_000, 'summary line');
  t.match(x.out(), /2 newly provisioned, 2 connected/);
  x.signals.emit('SIGINT');
  t.equal(await done, 0);
  t.match(x.out(), /SIGINT: stopping 2 boxes/);
});
