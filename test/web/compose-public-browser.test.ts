/**
 * Issue 22: a bulletin is published on its commune's web page only when a writer says so. The compose screen
 * says it with a box ("Đăng lên trang bản tin của xã sau khi phát"), unticked by default; ticked, the bulletin
 * is created public, and unticked it is not.
 * Uses the built app in web/dist and Debian's chromium; skips, saying why, without them.
 */
import t from 'tap';
import type { Browser } from 'playwright-core';
import { ADMIN_PASSWORD } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, login, startWebServer } from './helpers.js';

const skip = browserSkipReason();
t.setTimeout(120_000);

t.test('the compose screen publishes a bulletin only when its box is ticked', { skip: skip ?? false }, async (t) => {
  const { chromium } = await import('playwright-core');
  const { base, api, token } = await startWebServer(t);
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  const page = await ctx.newPage();
  await login(page, base, 'admin', ADMIN_PASSWORD);
  const list = async () => (await api<{ items: Array<{ title: string; public: boolean }> }>('GET', '/api/v1/bulletins?limit=50', undefined, token)).body.items;
  for (const [title, tick] of [['Tin công khai', true], ['Tin nội bộ', false]] as const) {
    await page.goto(base + '/soan-tin');
    await page.getByLabel('Tiêu đề').fill(title);
    await page.getByLabel('Nội dung').fill('Thông báo lịch tiêm chủng cho trẻ em trong xã.');
    const box = page.getByLabel('Đăng lên trang bản tin của xã sau khi phát');
    t.notOk(await box.isChecked(), `${title}: not public unless ticked`);
    if (tick) await box.check();
    await page.getByRole('button', { name: 'Tạo bản tin', exact: true }).click();
    const made = await waitFor(`${title} created`, async () => (await list()).find((b) => b.title === title) ?? null, 30_000);
    t.equal(made.public, tick, `${title}: public ${tick}`);
  }
});
