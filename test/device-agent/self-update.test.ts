import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { applyUpdate, checkHealthAfterUpdate, confirmUpdateHealthy, decideAfterUpdate, noteUpdateStart, readMarker, switchCurrent } from '../../device-agent/src/update/index.js';
import { tempDir } from '../helpers/server.js';

async function makeRelease(dir: string, version: string): Promise<{ tarball: Buffer; sha256: string }> {
  const src = join(dir, `src-${version}`, `loaxa-agent-${version}`, 'device-agent');
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'package.json'), JSON.stringify({ name: '@loaxa/device-agent', version }));
  const out = join(dir, `${version}.tar.gz`);
  execFileSync('tar', ['-czf', out, '-C', join(dir, `src-${version}`), `loaxa-agent-${version}`]);
  const tarball = await readFile(out);
  return { tarball, sha256: createHash('sha256').update(tarball).digest('hex') };
}

async function setup(t: { teardown(fn: () => unknown): void }) {
  const dir = await tempDir(t, 'loaxa-update-');
  const root = join(dir, 'agent');
  await mkdir(join(root, 'releases/0.1.0/device-agent'), { recursive: true });
  await switchCurrent(root, '0.1.0');
  const files = new Map<string, Buffer>();
  const http = createServer((req, res) => {
    const body = files.get(req.url ?? '');
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => http.close(() => r())));
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  async function publish(version: string) {
    const rel = await makeRelease(dir, version);
    files.set(`/${version}.tar.gz`, rel.tarball);
    return { url: `${base}/${version}.tar.gz`, sha256: rel.sha256 };
  }
  return { root, publish };
}

t.test('decisions', async (t) => {
  const m = { state: 'pending' as const, from: 'a', to: 'b', switchedAt: 0, deadline: 1000, starts: 1 };
  t.same(decideAfterUpdate(m, 500), { action: 'wait', untilMs: 500 });
  t.match(decideAfterUpdate(m, 1000), { action: 'rollback', reason: /did not report healthy within 1 s/ });
  t.match(decideAfterUpdate({ ...m, starts: 6 }, 10), { action: 'rollback', reason: /started 6 times/ });
  t.same(decideAfterUpdate({ ...m, state: 'healthy' }, 5000), { action: 'keep' });
  t.same(decideAfterUpdate(null, 5000), { action: 'none' });
});

t.test('a release that never reports healthy is rolled back', async (t) => {
  const { root, publish } = await setup(t);
  let clock = 1_000_000;
  const rel = await publish('0.2.0');
  t.same(await applyUpdate(rel, { root, healthTimeoutMs: 60_000, now: () => clock }), { from: '0.1.0', to: '0.2.0' });
  t.equal(await readlink(join(root, 'current')), 'releases/0.2.0', 'switched');
  t.ok(JSON.parse(await readFile(join(root, 'releases/0.2.0/device-agent/package.json'), 'utf8')), 'unpacked beside the old one');
  await noteUpdateStart(root, '0.2.0');
  let restarts = 0;
  const restart = async () => void restarts++;
  clock += 30_000;
  t.match(await checkHealthAfterUpdate({ root, now: () => clock, restart }), { action: 'wait' });
  t.equal(await readlink(join(root, 'current')), 'releases/0.2.0');
  clock += 30_000;
  t.match(await checkHealthAfterUpdate({ root, now: () => clock, restart }), { action: 'rollback' });
  t.equal(await readlink(join(root, 'current')), 'releases/0.1.0', 'the symlink points back');
  const marker = await readMarker(root);
  t.equal(marker?.state, 'rolled-back');
  t.match(marker?.reason, /release 0\.2\.0 did not report healthy within 60 s/, 'the marker says why');
  t.equal(restarts, 1, 'the agent is restarted on the old release');
  t.equal(await confirmUpdateHealthy(root, '0.2.0'), false, 'a late report does not undo the rollback');
});

t.test('a crash-looping release is rolled back before the deadline', async (t) => {
  const { root, publish } = await setup(t);
  await applyUpdate(await publish('0.3.0'), { root, healthTimeoutMs: 600_000 });
  for (let i = 0; i < 6; i++) await noteUpdateStart(root, '0.3.0');
  t.match(await checkHealthAfterUpdate({ root }), { action: 'rollback', reason: /started 6 times/ });
  t.equal(await readlink(join(root, 'current')), 'releases/0.1.0');
});

t.test('a good release stays', async (t) => {
  const { root, publish } = await setup(t);
  let clock = 5_000;
  await applyUpdate(await publish('0.2.0'), { root, healthTimeoutMs: 60_000, now: () => clock });
  await noteUpdateStart(root, '0.2.0');
  clock += 10_000;
  t.equal(await confirmUpdateHealthy(root, '0.2.0', () => clock), true);
  clock += 3_600_000;
  t.same(await checkHealthAfterUpdate({ root, now: () => clock }), { action: 'keep' });
  t.equal(await readlink(join(root, 'current')), 'releases/0.2.0');
  t.equal((await readMarker(root))?.state, 'healthy');
});

t.test('a bad hash or signature never switches', async (t) => {
  const { root, publish } = await setup(t);
  const rel = await publish('0.4.0');
  await t.rejects(applyUpdate({ ...rel, sha256: 'ab'.repeat(32) }, { root }), { name: 'UpdateError', kind: 'hash', message: /SHA-256 mismatch/ });
  t.equal(await readlink(join(root, 'current')), 'releases/0.1.0');

  const keys = generateKeyPairSync('ed25519');
  const other = generateKeyPairSync('ed25519');
  const publicKey = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const digest = Buffer.from(rel.sha256, 'hex');
  await t.rejects(applyUpdate(rel, { root, publicKey }), /must be signed/, 'unsigned refused when a key is configured');
  await t.rejects(applyUpdate({ ...rel, signature: sign(null, digest, other.privateKey).toString('base64') }, { root, publicKey }), /signature does not match/);
  await t.rejects(applyUpdate({ ...rel, signature: 'garbage' }, { root, publicKey }), /signature does not match/);
  t.equal(await readlink(join(root, 'current')), 'releases/0.1.0', 'never switched');
  t.equal(await readMarker(root), null, 'no marker written');

  t.same(await applyUpdate({ ...rel, signature: sign(null, digest, keys.privateKey).toString('base64') }, { root, publicKey }), { from: '0.1.0', to: '0.4.0' }, 'a good signature is accepted');
  await t.rejects(applyUpdate(await publish('0.5.0'), { root }), /has not been confirmed/, 'one update at a time');
});
