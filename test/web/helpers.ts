/**
 * A real server for the browser tests, serving the built web app under `/`. The app's web plugin is
 * registered here unless server/src/app.ts already does, so the tests run before and after that wiring.
 */
import { existsSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { mkdir } from 'node:fs/promises';
import { pino } from 'pino';
import type { Page } from 'playwright-core';
import { buildApp } from '../../server/src/app.js';
import { configWith, type Config } from '../../server/src/config.js';
import { webRoutes } from '../../server/src/routes/web.js';
import { ADMIN_PASSWORD, tempDir } from '../helpers/server.js';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const WEB_DIST_INDEX = join(REPO, 'web/dist/index.html');
export const CHROMIUM = process.env.LOAXA_CHROMIUM ?? '/usr/bin/chromium';
/**
 * Where the browser tests save their screenshots: a temp dir, so `npm test` leaves the work tree as it found
 * it. `npm run screenshots` points this at web/screenshots to renew the README's images.
 */
export const SCREENSHOTS = process.env.LOAXA_SCREENSHOTS_DIR ? resolve(process.env.LOAXA_SCREENSHOTS_DIR) : join(tmpdir(), 'loaxa-screenshots');
/** The flags the machine notes ask for: no sandbox as root, and no background traffic to a closed network. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--lang=vi-VN'];

/** Why the browser tests cannot run here, or null when they can. */
export function browserSkipReason(): string | null {
  if (!existsSync(WEB_DIST_INDEX)) return 'web/dist is missing: build the web app first (npm run build -w web)';
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`;
  return null;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

export async function startWebServer(t: Teardown, overrides: Partial<Config> = {}) {
  const dataDir = await tempDir(t, 'loaxa-web-e2e-');
  // The tests' stations listen on loopback, which a real server opens only when LOAXA_SOURCE_PRIVATE_NETS names it.
  const server = await buildApp(configWith({ httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', mqttHost: '127.0.0.1', dataDir, adminPassword: ADMIN_PASSWORD, sourcePrivateNets: ['127.0.0.0/8', '::1'], ...overrides }), {
    logger: pino({ level: process.env.LOAXA_TEST_LOG ?? 'silent' }),
  });
  if (!server.app.hasRoute({ method: 'GET', url: '/*' })) await server.app.register(webRoutes, { config: server.ctx.config });
  const urls = await server.start();
  t.teardown(() => server.stop());
  const base = urls.httpUrl;
  async function api<T>(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: T; headers: Headers }> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(base + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T, headers: res.headers };
  }
  const token = (await api<{ token: string }>('POST', '/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD })).body.token;
  await mkdir(SCREENSHOTS, { recursive: true });
  return { server, urls, base, api, token, dataDir };
}

/** Logs in through the login form, as a person does, and waits for the signed-in header. */
export async function login(page: Page, base: string, username: string, password: string): Promise<void> {
  await page.goto(base + '/');
  await page.getByLabel('Tên đăng nhập').fill(username);
  await page.getByLabel('Mật khẩu').fill(password);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.getByTestId('whoami').waitFor();
}
