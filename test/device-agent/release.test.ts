import t from 'tap';
import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './helpers.js';

const run = promisify(execFile);
const SCRIPT = new URL('../../deploy/release-agent.ts', import.meta.url).pathname;

t.test('npm run release:agent builds a tarball a Pi runs with plain node', async (t) => {
  const dir = tempDir(t);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const keyFile = join(dir, 'release.key');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const out = join(dir, 'dist');
  const { stdout } = await run(process.execPath, ['--import', 'tsx', SCRIPT, '--out', out, '--version', '9.8.7', '--key', keyFile]);
  const file = join(out, 'loaxa-agent-9.8.7.tar.gz');
  const digest = createHash('sha256').update(readFileSync(file)).digest();
  t.match(stdout, new RegExp(`^sha256 ${digest.toString('hex')}$`, 'm'), 'prints the SHA-256');
  const signature = readFileSync(`${file}.sig`, 'utf8').trim();
  t.ok(verify(null, digest, publicKey, Buffer.from(signature, 'base64')), 'signed over the raw digest, as self-update checks');

  const { stdout: list } = await run('tar', ['-tzf', file]);
  for (const entry of ['9.8.7/bin/loaxa-agent.mjs', '9.8.7/VERSION', '9.8.7/deploy/loaxa-agent.service']) t.ok(list.split('\n').includes(entry), entry);
  const unpacked = join(dir, 'unpacked');
  mkdirSync(unpacked);
  await run('tar', ['-xzf', file, '-C', unpacked]);
  t.equal(readFileSync(join(unpacked, '9.8.7/VERSION'), 'utf8'), '9.8.7\n');
  const bin = join(unpacked, '9.8.7/bin/loaxa-agent.mjs');
  t.ok(statSync(bin).mode & 0o100, 'executable');
  // No node_modules and no tsx beside it: run from a folder outside the repository with a bare environment.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  const help = await run(process.execPath, [bin, '--help'], { cwd: unpacked, env });
  t.match(help.stdout, /claim/);
  const claimHelp = await run(process.execPath, [bin, 'claim', '--help'], { cwd: unpacked, env });
  t.match(claimHelp.stdout, /--server URL/);
  // The bundle loads pino, mqtt and zod: a run without settings stops at the config check, not at an import.
  const noConfig = await run(process.execPath, [bin, 'run'], { cwd: unpacked, env }).then(() => null, (e: { code: number; stderr: string }) => e);
  t.equal(noConfig?.code, 2);
  t.match(noConfig?.stderr, /invalid device-agent configuration/);
});
