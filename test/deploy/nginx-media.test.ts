/**
 * deploy/nginx/loaxa-media.conf as shipped (only the addresses and the cache dir changed), in front of a real
 * server: nginx serves /media from its cache, but every request is authorised by the server first — a
 * revoked box or an expired link is refused even when the file is cached. Needs the Debian package nginx.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, importSampleAreas, tempDir } from '../helpers/server.js';
import { freePort, waitFor } from '../helpers/wait.js';

const NGINX = '/usr/sbin/nginx';
const hasNginx = spawnSync(NGINX, ['-v']).status === 0;
const CONF = new URL('../../deploy/nginx/loaxa-media.conf', import.meta.url);

t.test('nginx in front of /media: cached bytes, authorisation by the server on every request', { skip: !hasNginx && 'needs nginx (Debian package nginx)' }, async (t) => {
  const { base, api, token, server, urls } = await startTestServer(t);
  await importSampleAreas(api, token);
  const bytes = randomBytes(200_000);
  const file = await server.ctx.media.put(bytes, 'ogg');
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa', areaCode: '99003' }, token)).body;
  const basic = `Basic ${Buffer.from(`${dev.id}:${dev.mqtt.password}`).toString('base64')}`;

  const dir = await tempDir(t, 'loaxa-nginx-');
  await chmod(dir, 0o711); // workers run as nobody when the test runs as root
  await mkdir(join(dir, 'tmp'));
  const port = await freePort();
  const site = (await readFile(CONF, 'utf8'))
    .replace('server 127.0.0.1:8080;', `server 127.0.0.1:${urls.httpPort};`)
    .replace('listen 80;', `listen 127.0.0.1:${port};`)
    .replace('/var/cache/nginx/loaxa-media', join(dir, 'cache'));
  t.ok(site.includes(`127.0.0.1:${port}`) && site.includes(`127.0.0.1:${urls.httpPort}`), 'the shipped file has the expected shape');
  await writeFile(join(dir, 'site.conf'), site);
  await writeFile(
    join(dir, 'nginx.conf'),
    `${process.getuid?.() === 0 ? 'user nobody nogroup;\n' : ''}daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body; proxy_temp_path ${dir}/tmp/proxy; fastcgi_temp_path ${dir}/tmp/fastcgi; uwsgi_temp_path ${dir}/tmp/uwsgi; scgi_temp_path ${dir}/tmp/scgi;
  include ${dir}/site.conf;
}
`,
  );
  const args = ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')];
  const check = spawnSync(NGINX, ['-t', ...args], { encoding: 'utf8' });
  t.equal(check.status, 0, 'nginx -t accepts it');
  if (check.status !== 0) t.comment(check.stderr);
  const nginx = spawn(NGINX, args, { stdio: 'ignore' });
  t.teardown(async () => {
    if (nginx.exitCode !== null) return;
    const exited = new Promise((r) => nginx.once('exit', r));
    nginx.kill('SIGTERM');
    await exited;
  });
  const proxy = `http://127.0.0.1:${port}`;
  await waitFor('nginx', () => fetch(`${proxy}/healthz`).then((r) => (r.ok ? true : null), () => null), 10_000);
  t.same(await (await fetch(`${proxy}/healthz`)).json(), { status: 'ok' }, 'the rest goes straight to the server');

  const url = `${proxy}/media/${file.sha256}`;
  t.equal((await fetch(url)).status, 401, 'no credentials: refused');
  const first = await fetch(url, { headers: { authorization: basic } });
  t.equal(first.status, 200);
  t.equal(first.headers.get('x-cache-status'), 'MISS');
  t.equal(createHash('sha256').update(Buffer.from(await first.arrayBuffer())).digest('hex'), file.sha256, 'the right bytes');
  const second = await fetch(url, { headers: { authorization: basic } });
  t.equal(second.headers.get('x-cache-status'), 'HIT', 'then from the cache');
  await second.arrayBuffer();
  const part = await fetch(url, { headers: { authorization: basic, range: 'bytes=1000-1999' } });
  t.equal(part.status, 206, 'ranges from the cache');
  t.ok(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(1000, 2000)));
  t.equal((await fetch(url, { headers: { authorization: `Basic ${Buffer.from(`${dev.id}:wrong`).toString('base64')}` } })).status, 401, 'a wrong secret, although cached');

  const admin = (server.ctx.db.prepare("SELECT id FROM users WHERE username = 'admin'").get() as { id: string }).id;
  const link = server.app.mediaLinks.sign(file.sha256, admin);
  t.equal((await fetch(proxy + link.url)).status, 200, 'a signed link');
  t.equal((await fetch(proxy + server.app.mediaLinks.sign(file.sha256, admin, Date.now() - 3 * 3600_000).url)).status, 403, 'an expired one');
  const sig = new URL(link.url, proxy).searchParams.get('sig')!;
  t.equal((await fetch(proxy + link.url.replace(sig, `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`))).status, 403, 'an altered one');

  t.equal((await api('POST', `/api/v1/devices/${dev.id}/revoke`, {}, token)).status, 200);
  t.equal((await fetch(url, { headers: { authorization: basic } })).status, 401, 'revoked: refused at once, although the file is cached');
  t.equal((await fetch(`${proxy}/media/${'0'.repeat(64)}`, { headers: { authorization: `Bearer ${token}` } })).status, 404, 'an unknown hash');
  t.equal((await fetch(`${base}/media/${file.sha256}`, { headers: { authorization: `Bearer ${token}`, 'x-loaxa-auth-only': '1' } })).status, 204, 'what nginx asks the server');
});
