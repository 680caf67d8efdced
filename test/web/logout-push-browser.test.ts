/**
 * Issue 20, notifications: a shared phone must not keep getting the previous user's pushes. Logging out drops
 * this browser's Web Push subscription, at the server (while the session still authorizes it) and in the browser.
 * Headless chromium cannot subscribe to a real push service here, so the page's registration is replaced by one
 * holding a subscription the server knows; the server side is the real route and database.
 * Uses the built app in web/dist and Debian's chromium; skips, saying why, without them.
 */
import t from 'tap';
import { createECDH, randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { ADMIN_PASSWORD } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, login, startWebServer } from './helpers.js';
import { loadConfig } from '../../server/src/config.js';

const skip = browserSkipReason();
t.setTimeout(120_000);

t.test('logging out unsubscribes this browser from Web Push', { skip: skip ?? false }, async (t) => {
  const { chromium } = await import('playwright-core');
  const notifications = { ...loadConfig({}).notifications, pushAllowLoopback: true };
  const { base, api, token } = await startWebServer(t, { notifications });
  const endpoint = 'http://127.0.0.1:9/push/phone-of-the-commune';
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const keys = { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
  const sub = await api<{ subscriptions: number }>('POST', '/api/v1/notifications/push/subscribe', { endpoint, keys }, token);
  t.equal(sub.status, 201, 'the subscription is saved');
  const count = async () => (await api<{ pushSubscriptions: number }>('GET', '/api/v1/notifications/preferences', undefined, token)).body.pushSubscriptions;
  t.equal(await count(), 1);

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  await ctx.addInitScript(`(() => {
    const sub = { endpoint: ${JSON.stringify(endpoint)}, unsubscribe: async () => { console.log('push-unsubscribed'); return true; } };
    Object.defineProperty(navigator.serviceWorker, 'getRegistration', { value: async () => ({ pushManager: { getSubscription: async () => sub } }) });
  })()`);
  const page = await ctx.newPage();
  let unsubscribedInBrowser = false;
  page.on('console', (m) => {
    if (m.text() === 'push-unsubscribed') unsubscribedInBrowser = true;
  });
  await login(page, base, 'admin', ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Đăng xuất' }).click();
  await page.getByLabel('Tên đăng nhập').waitFor({ timeout: 15_000 });
  await waitFor('the server dropped the subscription', async () => ((await count()) === 0 ? true : null), 10_000);
  t.pass('the server no longer pushes to this browser');
  t.ok(unsubscribedInBrowser, 'the browser unsubscribed from its push service');
});
