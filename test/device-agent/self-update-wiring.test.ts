import t from 'tap';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { rollbackCheckCli, rollbackWatchdogCommand, launchRollbackWatchdog, switchCurrent, readMarker } from '../../device-agent/src/update/index.js';
import { remoteCommandTable } from '../../device-agent/src/remote-commands.js';
import { fakeTools } from './fake-tools.js';
import { tempDir } from './helpers.js';

const base = { root: '/opt/loaxa/agent', delaySec: 315, node: '/usr/bin/node', script: '/opt/loaxa/agent/releases/0.1.0/bin/loaxa-agent.mjs', now: () => 42 };

t.test('the watchdog runs as a systemd-run timer unit when systemd-run exists', async (t) => {
  const tools = fakeTools(t, { 'systemd-run': 'true', setsid: 'true' });
  const line = await launchRollbackWatchdog(base, tools.env);
  t.equal(line.via, 'systemd-run');
  t.same(tools.calls(), [
    'systemd-run --unit=loaxa-agent-rollback-42 --collect --on-active=315s --description=Loa Xã agent update rollback check /usr/bin/node /opt/loaxa/agent/releases/0.1.0/bin/loaxa-agent.mjs rollback-check --root /opt/loaxa/agent --restart-unit loaxa-agent.service',
  ]);
});

t.test('without systemd-run it is a detached setsid child that waits', async (t) => {
  const tools = fakeTools(t, { setsid: 'true' });
  const env = { ...tools.env, PATH: tools.dir };
  t.same(rollbackWatchdogCommand(base, env), { cmd: 'setsid', args: ['/usr/bin/node', base.script, 'rollback-check', '--root', '/opt/loaxa/agent', '--restart-unit', 'loaxa-agent.service', '--wait'], via: 'setsid' });
  await launchRollbackWatchdog(base, env);
  for (let i = 0; i < 50 && tools.calls().length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  t.same(tools.calls(), [`setsid /usr/bin/node ${base.script} rollback-check --root /opt/loaxa/agent --restart-unit loaxa-agent.service --wait`]);
});

t.test('rollback-check waits, then rolls back and restarts the service through systemctl', async (t) => {
  const dir = tempDir(t);
  const root = join(dir, 'agent');
  await mkdir(join(root, 'releases/0.1.0'), { recursive: true });
  await mkdir(join(root, 'releases/0.2.0'), { recursive: true });
  await switchCurrent(root, '0.2.0');
  await writeFile(join(root, 'update.json'), JSON.stringify({ state: 'pending', from: '0.1.0', to: '0.2.0', switchedAt: 0, deadline: 1_000, starts: 1 }));
  const tools = fakeTools(t, { systemctl: 'true' });
  let clock = 400;
  const slept: number[] = [];
  const out: string[] = [];
  const code = await rollbackCheckCli(['--root', root, '--restart-unit', 'loaxa-agent.service', '--wait'], {
    out: (s) => out.push(s),
    err: (s) => out.push(s),
    env: tools.env,
    now: () => clock,
    sleep: async (ms) => void (slept.push(ms), (clock += ms)),
  });
  t.equal(code, 0);
  t.same(slept, [1_600], 'slept past the deadline');
  t.match(out.join(''), /rollback: release 0\.2\.0 did not report healthy/);
  t.equal((await readMarker(root))?.state, 'rolled-back');
  t.same(tools.calls(), ['systemctl restart loaxa-agent.service']);
});

t.test('the self-update command switches, answers, then asks for a restart', async (t) => {
  const restarts: Array<[string, number]> = [];
  const ctx = {
    logger: pino({ level: 'silent' }),
    requestRestart: (reason: string, delayMs: number) => void restarts.push([reason, delayMs]),
    selfUpdate: async (req: { version: string }) => ({ to: req.version }),
  } as unknown as Parameters<typeof remoteCommandTable>[0];
  const env = { payload: { url: 'https://x/loaxa-agent-0.2.0.tar.gz', sha256: 'a'.repeat(64), version: '0.2.0' } } as never;
  t.same(await remoteCommandTable(ctx)['self-update'](env), { ok: true, data: { switchingTo: '0.2.0', restartingInMs: 1_000 } });
  t.same(restarts, [['self-update to 0.2.0', 1_000]]);
  const failing = { ...ctx, selfUpdate: async () => Promise.reject(Object.assign(new Error('SHA-256 mismatch'), { kind: 'hash' })) } as typeof ctx;
  t.match(await remoteCommandTable(failing)['self-update'](env), { ok: false, error: { code: 'LOAXA_BAD_REQUEST', message: /SHA-256/ } });
  t.match(await remoteCommandTable({ ...ctx, selfUpdate: undefined })['self-update'](env), { ok: false, error: { code: 'LOAXA_UNAVAILABLE' } });
  t.equal(restarts.length, 1, 'no restart when refused');
});
