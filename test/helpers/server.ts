/** Starts a real server on ephemeral ports with a temp data dir, torn down with the test. */
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { startServer, type BuildOptions } from '../../server/src/app.js';
import type { Config } from '../../server/src/config.js';

export const ADMIN_PASSWORD = 'test-admin-password';
export const SAMPLE_AREAS_FILE = join(dirname(fileURLToPath(import.meta.url)), '../../server/data/sample-areas.json');

interface Teardown {
  teardown(fn: () => unknown): void;
}

export async function tempDir(t: Teardown, prefix = 'loaxa-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * `opts` reach buildApp as they are: `{ clock: fakeClock() }` (test/helpers/clock.ts) gives the server a clock
 * the test advances (app.ts BuildOptions.clock) instead of sleeping for an expiry or a refill.
 */
export async function startTestServer(t: Teardown, overrides: Partial<Config> = {}, opts: BuildOptions = {}) {
  const dataDir = await tempDir(t, 'loaxa-server-');
  const server = await startServer(
    // The tests' stations (ffmpeg, Icecast) listen on loopback, which a real server refuses to open (issue 15
    // review, SSRF) unless LOAXA_SOURCE_PRIVATE_NETS names it; test/server/source-addresses.test.ts checks the refusal.
    { httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', mqttHost: '127.0.0.1', dataDir, adminPassword: ADMIN_PASSWORD, sourcePrivateNets: ['127.0.0.0/8', '::1'], ...overrides },
    { logger: pino({ level: process.env.LOAXA_TEST_LOG ?? 'silent' }), ...opts },
  );
  t.teardown(() => server.stop());
  const base = server.urls.httpUrl;

  const api = httpApi(base);

  const login = await api<{ token: string }>('POST', '/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD });
  const token = login.body.token;
  return { server, urls: server.urls, base, dataDir, api, token, dataDirPath: dataDir };
}

/** JSON requests to a running server at `base`: status, parsed body (text when not JSON) and headers. */
export function httpApi(base: string) {
  return async function api<T = any>(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: T; headers: Headers }> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(base + path, { method, headers, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON: leave as text */
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  };
}

export async function importSampleAreas(api: ReturnType<typeof httpApi>, token: string) {
  const body = JSON.parse(await readFile(SAMPLE_AREAS_FILE, 'utf8'));
  const res = await api('POST', '/api/v1/areas/import', body, token);
  if (res.status !== 200) throw new Error(`area import failed: ${JSON.stringify(res.body)}`);
}
