import t from 'tap';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AGENT_ENV_VARS } from '@loaxa/device-agent';
import { fakeTools } from './fake-tools.js';
import { tempDir } from './helpers.js';

const run = promisify(execFile);
const DEPLOY = new URL('../../deploy/', import.meta.url).pathname;
const SCRIPT = join(DEPLOY, 'pi/install-agent.sh');
const has = async (cmd: string, args: string[]) => run(cmd, args).then(() => true, () => false);
const hasShellcheck = await has('shellcheck', ['--version']);
const hasSystemd = await has('systemd-analyze', ['--version']);

t.test('install-agent.sh parses (bash -n)', async (t) => {
  const { stderr } = await run('bash', ['-n', SCRIPT]);
  t.equal(stderr, '');
});

t.test('install-agent.sh passes shellcheck', { skip: !hasShellcheck && 'needs shellcheck (Debian package shellcheck)' }, async (t) => {
  const r = await run('shellcheck', ['--severity=style', SCRIPT]).then((x) => ({ code: 0, out: x.stdout }), (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }));
  t.equal(r.code, 0, r.out);
});

t.test('the agent unit passes systemd-analyze verify', { skip: !hasSystemd && 'needs systemd-analyze (Debian package systemd)' }, async (t) => {
  const { stderr } = await run('systemd-analyze', ['verify', join(DEPLOY, 'loaxa-agent.service')]);
  t.equal(stderr.trim(), '');
});

t.test('every variable in agent.env.example is one the agent reads', async (t) => {
  const names = [...readFileSync(join(DEPLOY, 'agent.env.example'), 'utf8').matchAll(/^#?\s*(LOAXA_[A-Z_]+)=/gm)].map((m) => m[1]!);
  t.ok(names.length >= 10);
  for (const n of names) t.ok(AGENT_ENV_VARS.includes(n), `${n} is an agent setting`);
});

/** A release tarball laid out as `npm run release:agent` makes it (deploy/release-agent.ts): one top folder, the version. */
async function releaseTarball(dir: string, version: string): Promise<{ file: string; sha256: string }> {
  const stage = join(dir, `stage-${version}`);
  const root = join(stage, version);
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'deploy'), { recursive: true });
  writeFileSync(join(root, 'VERSION'), `${version}\n`);
  writeFileSync(join(root, 'bin/loaxa-agent.mjs'), '// the bundled agent\n');
  copyFileSync(join(DEPLOY, 'loaxa-agent.service'), join(root, 'deploy/loaxa-agent.service'));
  const file = join(dir, `loaxa-agent-${version}.tar.gz`);
  await run('tar', ['-czf', file, '-C', stage, version]);
  return { file, sha256: createHash('sha256').update(readFileSync(file)).digest('hex') };
}

const IDENTITY = ['--device-id', 'spk-0a1b', '--mqtt-url', 'mqtt://loa.example.gov.vn:1883', '--mqtt-username', 'spk-0a1b', '--mqtt-password', 's3cr=t', '--area', '99003', '--area-ancestors', '99'];

t.test('install-agent.sh installs a release, the user, the env file and the service', async (t) => {
  const dir = tempDir(t);
  const dest = join(dir, 'root');
  const tools = fakeTools(t, {
    // Nothing exists yet: no gpio group, no user (getent answers 2 for "not found").
    getent: '[ "$1 $2" = "group audio" ] && exit 0; exit 2',
    groupadd: 'true',
    useradd: 'true',
    usermod: 'true',
    chown: 'true',
    systemctl: 'true',
  });
  const rel = await releaseTarball(dir, '0.2.0');
  const { stdout } = await run('bash', [SCRIPT, '--destdir', dest, '--tarball', rel.file, '--sha256', rel.sha256, ...IDENTITY, '--set', 'LOAXA_AGENT_MIXER=amixer', '--no-start'], { env: tools.env });
  t.match(stdout, /installed loaxa-agent 0\.2\.0 \(enabled, not started\)/);

  const prefix = join(dest, 'opt/loaxa/agent');
  t.ok(lstatSync(join(prefix, 'current')).isSymbolicLink());
  t.equal(readlinkSync(join(prefix, 'current')), 'releases/0.2.0');
  t.ok(existsSync(join(prefix, 'current/bin/loaxa-agent.mjs')), 'unpacked from inside its top folder');
  t.match(readFileSync(join(dest, 'etc/systemd/system/loaxa-agent.service'), 'utf8'), /^ExecStart=\/usr\/bin\/node \/opt\/loaxa\/agent\/current\/bin\/loaxa-agent\.mjs run$/m, 'plain node, no tsx');

  const envFile = join(dest, 'etc/loaxa/agent.env');
  const env = readFileSync(envFile, 'utf8');
  for (const line of ['LOAXA_AGENT_DEVICE_ID=spk-0a1b', 'LOAXA_AGENT_MQTT_PASSWORD=s3cr=t', 'LOAXA_AGENT_AREA_ANCESTORS=99', 'LOAXA_AGENT_MIXER=amixer', 'LOAXA_AGENT_CACHE_DIR=/var/cache/loaxa-agent', 'LOAXA_AGENT_STATE_DIR=/var/lib/loaxa-agent']) {
    t.match(env, new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  }
  t.equal(statSync(envFile).mode & 0o777, 0o640, 'the password is not world-readable');
  t.ok(existsSync(join(dest, 'etc/systemd/system/loaxa-agent.service')));
  t.ok(existsSync(join(dest, 'etc/udev/rules.d/60-loaxa-gpio.rules')), 'a gpio group made here gets its udev rule');

  const calls = tools.calls();
  t.ok(calls.includes('groupadd --system gpio'));
  t.notOk(calls.includes('groupadd --system audio'), 'existing groups are kept');
  t.ok(calls.includes('useradd --system --user-group --home-dir /var/lib/loaxa-agent --no-create-home --shell /usr/sbin/nologin loaxa-agent'));
  t.ok(calls.includes('usermod --append --groups audio,gpio loaxa-agent'));
  t.ok(calls.includes(`chown root:loaxa-agent ${envFile}.new`));
  t.ok(calls.includes(`chown loaxa-agent:loaxa-agent ${prefix} ${prefix}/releases`), 'the agent may unpack its own updates');
  t.notOk(calls.some((c) => c.startsWith('runuser')), 'no claim without a claim code');
  t.same(calls.filter((c) => c.startsWith('systemctl')), ['systemctl daemon-reload', 'systemctl enable loaxa-agent.service']);

  // An upgrade keeps the settings, switches the link and starts the service.
  const next = await releaseTarball(dir, '0.3.0');
  await run('bash', [SCRIPT, '--destdir', dest, '--tarball', next.file], { env: tools.env });
  t.equal(readlinkSync(join(prefix, 'current')), 'releases/0.3.0');
  t.ok(existsSync(join(prefix, 'releases/0.2.0')), 'the previous release stays for going back');
  t.equal(readFileSync(envFile, 'utf8'), env, 'settings kept');
  t.equal(tools.calls().at(-1), 'systemctl restart loaxa-agent.service');

  // Changing one value keeps the others.
  await run('bash', [SCRIPT, '--destdir', dest, '--tarball', next.file, '--set', 'LOAXA_AGENT_GPIO=gpiod', '--no-start'], { env: tools.env });
  const changed = readFileSync(envFile, 'utf8');
  t.match(changed, /^LOAXA_AGENT_GPIO=gpiod$/m);
  t.match(changed, /^LOAXA_AGENT_MQTT_PASSWORD=s3cr=t$/m);
  t.match(changed, /^LOAXA_AGENT_MIXER=amixer$/m);
});

t.test('install-agent.sh refuses a tarball with the wrong hash, and a first install without identity', async (t) => {
  const dir = tempDir(t);
  const dest = join(dir, 'root');
  const tools = fakeTools(t, { getent: 'exit 0', groupadd: 'true', useradd: 'true', usermod: 'true', chown: 'true', systemctl: 'true' });
  const rel = await releaseTarball(dir, '0.2.0');
  const bad = await run('bash', [SCRIPT, '--destdir', dest, '--tarball', rel.file, '--sha256', '0'.repeat(64), ...IDENTITY], { env: tools.env }).then(
    () => null,
    (e: { code: number; stderr: string }) => e,
  );
  t.equal(bad?.code, 1);
  t.match(bad?.stderr, /SHA-256 mismatch: expected 0{64}, got [0-9a-f]{64}; not installing/);
  t.notOk(existsSync(join(dest, 'opt')), 'nothing installed');

  const noId = await run('bash', [SCRIPT, '--destdir', dest, '--tarball', rel.file], { env: tools.env }).then(() => null, (e: { stderr: string }) => e);
  t.match(noId?.stderr, /LOAXA_AGENT_DEVICE_ID is not set/);
  t.notOk(existsSync(join(dest, 'opt')), 'checked before anything changes');
  t.equal(tools.calls().filter((c) => /^(useradd|groupadd|usermod|systemctl)/.test(c)).length, 0);
  const usage = await run('bash', [SCRIPT, '--tarbal', 'x'], { env: tools.env }).then(() => null, (e: { stderr: string }) => e);
  t.match(usage?.stderr, /unknown option '--tarbal'/);
  const help = await run('bash', [SCRIPT, '--help']);
  t.match(help.stdout, /--tarball FILE\|URL/);
});

t.test('install-agent.sh --claim-code runs the bundled claim as the service user', async (t) => {
  const dir = tempDir(t);
  const dest = join(dir, 'root');
  const tools = fakeTools(t, { getent: 'exit 0', groupadd: 'true', useradd: 'true', usermod: 'true', chown: 'true', systemctl: 'true', runuser: 'true' });
  const rel = await releaseTarball(dir, '0.4.0');
  const missing = await run('bash', [SCRIPT, '--destdir', dest, '--tarball', rel.file, '--claim-code', 'ABCD-EFGH-JKMN'], { env: tools.env }).then(() => null, (e: { stderr: string }) => e);
  t.match(missing?.stderr, /--claim-code needs --server URL/);

  const { stdout } = await run('bash', [SCRIPT, '--destdir', dest, '--tarball', rel.file, '--sha256', rel.sha256, '--claim-code', 'ABCD-EFGH-JKMN', '--server', 'https://loa.example.gov.vn/', '--no-start'], { env: tools.env });
  t.match(stdout, /claiming this box at https:\/\/loa\.example\.gov\.vn\n/);
  const claimDir = join(dest, 'etc/loaxa/agent');
  const release = join(dest, 'opt/loaxa/agent/releases/0.4.0');
  const calls = tools.calls();
  t.ok(calls.includes(`chown loaxa-agent:loaxa-agent ${claimDir}`));
  t.equal(statSync(claimDir).mode & 0o777, 0o700);
  t.ok(
    calls.includes(`runuser -u loaxa-agent -- node ${release}/bin/loaxa-agent.mjs claim --server https://loa.example.gov.vn --code ABCD-EFGH-JKMN --config ${claimDir}/agent.json --state-dir /var/lib/loaxa-agent --cache-dir /var/cache/loaxa-agent`),
    calls.join('\n'),
  );
  t.ok(calls.indexOf('systemctl daemon-reload') > calls.findIndex((c) => c.startsWith('runuser')), 'claimed before the service is enabled');
  const env = readFileSync(join(dest, 'etc/loaxa/agent.env'), 'utf8');
  t.match(env, /^LOAXA_AGENT_CONFIG=\/etc\/loaxa\/agent\/agent\.json$/m, 'the agent reads the claimed config');
  t.notMatch(env, /LOAXA_AGENT_DEVICE_ID/, 'no identity needed in the env file');

  // A failed claim stops the install with a hint.
  tools.add('runuser', 'echo "claim: the code was already used" >&2; exit 1');
  const failed = await run('bash', [SCRIPT, '--destdir', dest, '--tarball', rel.file, '--claim-code', 'ABCD-EFGH-JKMN', '--server', 'https://loa.example.gov.vn'], { env: tools.env }).then(() => null, (e: { stderr: string }) => e);
  t.match(failed?.stderr, /the claim failed/);
});
