import t from 'tap';
import { execFile } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { configSchema } from '../../server/src/config.js';
import { tempDir } from '../helpers/server.js';

const run = promisify(execFile);
const DEPLOY = new URL('../../deploy/', import.meta.url).pathname;
const hasSystemd = await run('systemd-analyze', ['--version']).then(() => true, () => false);

t.test('systemd units pass systemd-analyze verify', { skip: !hasSystemd && 'needs systemd-analyze (Debian package systemd)' }, async (t) => {
  const units = (await readdir(DEPLOY)).filter((f) => f.endsWith('.service'));
  t.ok(units.length >= 2);
  for (const u of units) {
    const { stderr } = await run('systemd-analyze', ['verify', join(DEPLOY, u)]);
    t.equal(stderr.trim(), '', `${u} verifies cleanly`);
  }
});

t.test('the verifier does catch a broken unit (so the check above can fail)', { skip: !hasSystemd && 'needs systemd-analyze' }, async (t) => {
  const dir = await tempDir(t);
  const bad = join(dir, 'broken.service');
  await writeFile(bad, '[Service]\nExecStart=relative/path/node\n');
  const res = await run('systemd-analyze', ['verify', bad]).then((r) => r.stderr, (e: { stderr: string }) => e.stderr);
  t.match(res, /ExecStart|absolute|executable/i);
});

t.test('every variable in server.env.example is one the server reads', async (t) => {
  const text = await readFile(join(DEPLOY, 'server.env.example'), 'utf8');
  const names = [...text.matchAll(/^#?\s*(LOAXA_[A-Z_]+)=/gm)].map((m) => m[1]!);
  t.ok(names.length >= 5);
  for (const n of names) t.ok(n in configSchema.shape, `${n} is a server setting`);
});

t.test('the systemd unit starts the server as `npm start` does, Node options included', async (t) => {
  const unit = await readFile(join(DEPLOY, 'loaxa-server.service'), 'utf8');
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };
  const exec = /^ExecStart=\/usr\/bin\/(node .*)$/m.exec(unit)?.[1];
  t.equal(exec, pkg.scripts.start, 'the same command line');
  t.match(pkg.scripts.start, /--max-semi-space-size=\d+/, 'with the young-generation size the heartbeat benchmark was measured with');
});
