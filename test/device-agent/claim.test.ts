import t from 'tap';
import { execFile } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { buildApp } from '../../server/src/app.js';
import { configWith } from '../../server/src/config.js';
import { loadAgentConfig } from '../../device-agent/src/config.js';
import { ADMIN_PASSWORD, importSampleAreas, tempDir } from '../helpers/server.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'device-agent/src/cli.ts');

function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, env: { ...process.env, LOAXA_AGENT_CONFIG: '', ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function startClaimServer(t: { teardown(fn: () => unknown): void }) {
  const dataDir = await tempDir(t, 'loaxa-server-');
  const server = await buildApp(configWith({ httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', mqttHost: '127.0.0.1', dataDir, adminPassword: ADMIN_PASSWORD }), {
    logger: pino({ level: 'silent' }),
  });
  const urls = await server.start();
  t.teardown(() => server.stop());
  async function api(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
    const res = await fetch(urls.httpUrl + path, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: await res.json() };
  }
  const token = (await api('POST', '/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD })).body.token as string;
  await importSampleAreas(api as never, token);
  return { urls, api, token };
}

t.test('--help', async (t) => {
  const r = await runCli(['claim', '--help']);
  t.equal(r.code, 0);
  t.match(r.stdout, /--server URL/);
  t.match(r.stdout, /--code CODE/);
  const bad = await runCli(['claim', '--code', 'X']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /give --server and --code/);
});

t.test('the CLI claims a box and writes a 0600 config the agent loads', async (t) => {
  const { urls, api, token } = await startClaimServer(t);
  const dir = await tempDir(t);
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa cli', areaCode: '99003' }, token)).body;
  const issued = (await api('POST', `/api/v1/devices/${dev.id}/claim-code`, {}, token)).body;
  const file = join(dir, 'agent.json');
  // Settings already present are kept.
  await writeFile(file, JSON.stringify({ player: 'null', stateDir: join(dir, 'state') }));

  const r = await runCli(['claim', '--url', issued.claimUrl, '--cache-dir', join(dir, 'cache')], { LOAXA_AGENT_CONFIG: file });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, new RegExp(`claimed ${dev.id}`));
  t.equal((await stat(file)).mode & 0o777, 0o600);
  const config = loadAgentConfig({}, { file });
  t.equal(config.deviceId, dev.id);
  t.equal(config.areaCode, '99003');
  t.same(config.areaAncestors, ['99']);
  t.equal(config.mqtt.url, urls.mqttUrl);
  t.equal(config.mqtt.username, dev.id);
  t.not(config.mqtt.password, dev.mqtt.password, 'the rotated secret');
  t.equal(config.player, 'null');
  t.equal(config.stateDir, join(dir, 'state'));
  t.equal(config.cacheDir, join(dir, 'cache'));

  const before = await readFile(file, 'utf8');
  const again = await runCli(['claim', '--server', urls.httpUrl, '--code', issued.code, '--config', file]);
  t.equal(again.code, 1);
  t.match(again.stderr, /HTTP 410.*already been used/);
  t.equal(await readFile(file, 'utf8'), before, 'a refused claim leaves the file alone');
});
