/** server/src/routes/web.ts on its own Fastify, over a temp build: cache headers, fallback, exclusions. */
import t from 'tap';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { configWith } from '../../server/src/config.js';
import { installErrorHandlers } from '../../server/src/http/errors.js';
import { isServerPath, webRoutes } from '../../server/src/routes/web.js';
import { tempDir } from '../helpers/server.js';

async function appWith(t: Parameters<typeof tempDir>[0], distDir: string, config = configWith({}), logLines?: string[]) {
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines?.push(String(chunk));
      done();
    },
  });
  // Silent unless the test reads the log, as before.
  const logger: FastifyBaseLogger = pino({ level: logLines ? 'info' : 'silent' }, sink);
  const app = Fastify({ loggerInstance: logger });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandlers(app);
  app.get('/api/v1/ping', async () => ({ pong: true }));
  await app.register(webRoutes, { config, distDir });
  t.teardown(() => app.close());
  return app;
}

t.test('built files: hashed assets immutable, index.html revalidated, client routes fall back to it', async (t) => {
  const dist = await tempDir(t, 'loaxa-web-');
  await mkdir(join(dist, 'assets'));
  const js = 'console.log("xin chào");'.repeat(100);
  await writeFile(join(dist, 'index.html'), '<!doctype html><html lang="vi"><head><meta name="loaxa-map-tiles" content="" /></head><body>Loa Xã</body></html>');
  await writeFile(join(dist, 'assets', 'index-AbC123.js'), js);
  await writeFile(join(dist, 'assets', 'index-AbC123.js.gz'), gzipSync(js));
  await writeFile(join(dist, 'favicon.svg'), '<svg/>');
  const app = await appWith(t, dist);

  const index = await app.inject({ url: '/' });
  t.equal(index.statusCode, 200);
  t.match(index.headers['content-type'], /^text\/html/);
  t.equal(index.headers['cache-control'], 'no-cache');
  t.match(index.headers['content-security-policy'], /default-src 'self'/);
  t.match(index.body, /Loa Xã/);
  const again = await app.inject({ url: '/', headers: { 'if-none-match': String(index.headers.etag) } });
  t.equal(again.statusCode, 304, 'revalidation is cheap');

  const asset = await app.inject({ url: '/assets/index-AbC123.js' });
  t.equal(asset.statusCode, 200);
  t.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
  t.match(asset.headers['content-type'], /^text\/javascript/);
  t.equal(asset.body, js);
  const gz = await app.inject({ url: '/assets/index-AbC123.js', headers: { 'accept-encoding': 'gzip, deflate' } });
  t.equal(gz.headers['content-encoding'], 'gzip', 'the pre-compressed twin is sent to browsers that take it');
  t.equal(gz.headers.vary, 'accept-encoding');
  t.match((await app.inject({ url: '/favicon.svg' })).headers['cache-control'], /max-age=3600/);

  for (const page of ['/tong-quan', '/luot-phat/bc-1', '/soan-tin?x=1']) {
    const r = await app.inject({ url: page });
    t.equal(r.statusCode, 200, `${page} is a page of the app`);
    t.match(r.body, /Loa Xã/);
    t.equal(r.headers['cache-control'], 'no-cache');
  }
  t.equal((await app.inject({ url: '/assets/index-OLD999.js' })).statusCode, 404, 'a stale asset is a 404, not HTML');
  for (const url of ['/assets/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2f..%2f..%2fetc%2fpasswd', '/assets/..%2f..%2f..%2fpackage.json']) {
    const r = await app.inject({ url });
    t.notMatch(r.body, /root:|"workspaces"/, `${url}: no file outside the build`);
    t.ok(r.statusCode === 404 || String(r.headers['content-type']).startsWith('text/html'), `${url}: a 404 or the app`);
  }
});

t.test('server paths never fall back to the app', async (t) => {
  const dist = await tempDir(t, 'loaxa-web-');
  await writeFile(join(dist, 'index.html'), '<html></html>');
  const app = await appWith(t, dist);
  t.same((await app.inject({ url: '/api/v1/ping' })).json(), { pong: true });
  for (const path of ['/api/v1/nope', '/api', '/media/a/b', '/healthz/x']) {
    const r = await app.inject({ url: path });
    t.equal(r.statusCode, 404, path);
    t.equal(r.json().error.code, 'LOAXA_NOT_FOUND', `${path} answers the API's JSON error`);
  }
  t.ok(isServerPath('/openapi.json'));
  t.notOk(isServerPath('/apiary'));
  t.notOk(isServerPath('/mediahub'));
});

t.test('without a build, / says how to make one', async (t) => {
  const dist = await tempDir(t, 'loaxa-web-');
  const app = await appWith(t, join(dist, 'missing'));
  const r = await app.inject({ url: '/' });
  t.equal(r.statusCode, 503);
  t.match(r.headers['content-type'], /^text\/html/);
  t.match(r.body, /npm run build -w web/);
  t.equal((await app.inject({ url: '/api/v1/nope' })).statusCode, 404);
});

t.test('a configured tile URL reaches the page and its content security policy', async (t) => {
  const dist = await tempDir(t, 'loaxa-web-');
  await writeFile(join(dist, 'index.html'), '<html><head><meta name="loaxa-map-tiles" content="" /></head></html>');
  const config = { ...configWith({}), mapTileUrl: 'https://tiles.example.vn/{z}/{x}/{y}.png' };
  const app = await appWith(t, dist, config);
  const r = await app.inject({ url: '/' });
  t.match(r.body, /content="https:\/\/tiles\.example\.vn\/\{z\}\/\{x\}\/\{y\}\.png"/);
  t.match(r.headers['content-security-policy'], /img-src 'self' data: blob: https:\/\/tiles\.example\.vn/);
});

t.test('serving the app’s files logs no "Reply was already sent" (issue 20, broken 11: every file logged it)', async (t) => {
  const dist = await tempDir(t, 'loaxa-web-');
  await mkdir(join(dist, 'assets'));
  const js = 'console.log("xin chào");'.repeat(100);
  await writeFile(join(dist, 'index.html'), '<!doctype html><html lang="vi"><body>Loa Xã</body></html>');
  await writeFile(join(dist, 'assets', 'index-AbC123.js'), js);
  await writeFile(join(dist, 'assets', 'index-AbC123.js.gz'), gzipSync(js));
  await writeFile(join(dist, 'favicon.svg'), '<svg/>');
  const lines: string[] = [];
  const app = await appWith(t, dist, configWith({}), lines);
  const asset = await app.inject({ url: '/assets/index-AbC123.js' });
  t.equal(asset.statusCode, 200);
  t.equal(asset.body, js, 'the file itself, not an error after it');
  const gz = await app.inject({ url: '/assets/index-AbC123.js', headers: { 'accept-encoding': 'gzip' } });
  t.equal(gz.headers['content-encoding'], 'gzip');
  t.equal((await app.inject({ url: '/assets/index-AbC123.js', headers: { 'if-none-match': String(asset.headers.etag) } })).statusCode, 304);
  t.equal((await app.inject({ url: '/favicon.svg' })).statusCode, 200);
  t.equal((await app.inject({ url: '/index.html' })).statusCode, 200);
  t.equal((await app.inject({ url: '/' })).statusCode, 200);
  t.equal((await app.inject({ url: '/tong-quan' })).statusCode, 200);
  t.equal((await app.inject({ url: '/assets/index-OLD999.js' })).statusCode, 404);
  t.ok(lines.some((l) => /request completed/.test(l)), 'the server’s log is captured');
  const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level >= 40);
  t.same(warnings.map((w) => w.msg), [], 'no warning or error logged while serving the files');
});
