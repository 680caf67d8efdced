/**
 * Issue 20, notifications in a real browser: an operator's broadcast waiting shows on the approver's phone as a
 * badge of 1 and a list naming it; a tap opens the approval queue and clears the badge; the rejection reaches the
 * operator's desktop list with its reason; the channels panel checks the address in Vietnamese and keeps the
 * choice; the installed app's service worker shows "Không có kết nối mạng" when the network or the server is gone.
 * Uses the built app in web/dist and Debian's chromium; skips, saying why, without them.
 */
import t from 'tap';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { loadConfig } from '../../server/src/config.js';
import { importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, startWebServer, login } from './helpers.js';

const skip = browserSkipReason();
t.setTimeout(180_000);

const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' };
const DESKTOP = { viewport: { width: 1280, height: 900 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' };

async function badge(page: Page): Promise<string | null> {
  const b = page.getByTestId('notification-badge');
  return (await b.count()) > 0 ? (await b.innerText()).replace(/\s+chưa đọc$/, '').trim() : null;
}

t.test('the approver’s badge and list, the author’s rejection with its reason, the channels, the offline page', { skip: skip ?? false }, async (t) => {
  const { chromium } = await import('playwright-core');
  // An SMTP server is configured (never reached here: nobody is e-mailed in this test) so the e-mail field is offered.
  const { base, api, token, server } = await startWebServer(t, { notifications: { ...loadConfig({}).notifications, smtpUrl: 'smtp://loaxa:khong-dung@127.0.0.1:9', smtpFrom: 'Loa Xã <loa-xa@localhost>' } });
  await importSampleAreas(api, token);
  for (const [username, role, areaCode] of [['vanhanh.tanlap', 'operator', '99003'], ['duyet.tinh', 'approver', '99']] as const) {
    t.equal((await api('POST', '/api/v1/users', { username, password: 'mat-khau-dai-du', role, areaCode }, token)).status, 201);
  }
  const op = (await api<{ token: string }>('POST', '/api/v1/auth/login', { username: 'vanhanh.tanlap', password: 'mat-khau-dai-du' })).body.token;
  const approver = (await api<{ token: string }>('POST', '/api/v1/auth/login', { username: 'duyet.tinh', password: 'mat-khau-dai-du' })).body.token;

  // The installed app's files: right types, and the worker and manifest revalidated on every load.
  for (const [path, type] of [['/sw.js', /^text\/javascript/], ['/manifest.webmanifest', /^application\/manifest\+json/], ['/offline.html', /^text\/html/], ['/icon-192.png', /^image\/png$/]] as const) {
    const res = await fetch(base + path);
    t.equal(res.status, 200, `${path} is served`);
    t.match(res.headers.get('content-type'), type, `${path}: ${res.headers.get('content-type')}`);
    if (!path.endsWith('.png')) t.equal(res.headers.get('cache-control'), 'no-cache', `${path} is revalidated`);
    await res.arrayBuffer();
  }
  const manifest = (await (await fetch(base + '/manifest.webmanifest')).json()) as { name: string; lang: string; icons: Array<{ sizes: string; purpose: string }> };
  t.equal(manifest.lang, 'vi');
  t.match(manifest.name, /^Loa Xã/);
  t.ok(manifest.icons.some((i) => i.sizes === '512x512' && i.purpose === 'maskable'), 'a maskable icon for Android launchers');

  const bulletin = (await api<{ id: string }>('POST', '/api/v1/bulletins', { title: 'Lịch tiêm chủng tháng 12', text: 'Trạm y tế xã tiêm phòng cho trẻ vào sáng thứ bảy.' }, op)).body;
  await waitFor('the bulletin synthesized', async () => ((await api<{ status: string }>('GET', `/api/v1/bulletins/${bulletin.id}`, undefined, op)).body.status === 'ready' ? true : null), 60_000);
  const air = new Date(Date.now() + 2 * 86_400_000);
  air.setUTCHours(1, 30, 0, 0);
  const submitted = await api<{ id: string; status: string }>('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['99003'] }, startAt: air.toISOString() }, op);
  t.equal(submitted.body.status, 'submitted', 'the operator submits a broadcast');

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  const errors: string[] = [];

  // The approver's phone: the bell shows 1, the list names the broadcast.
  const phone = await browser.newContext(PHONE);
  const page = await phone.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  await login(page, base, 'duyet.tinh', 'mat-khau-dai-du');
  await page.getByTestId('notification-badge').waitFor();
  t.equal(await badge(page), '1', 'the approver’s badge shows 1');
  await page.getByTestId('notification-bell').click();
  await page.waitForURL(/\/thong-bao$/);
  const item = page.getByTestId('notification').first();
  await item.waitFor();
  const text = await item.innerText();
  t.match(text, /Chờ duyệt: “Lịch tiêm chủng tháng 12”/, 'the list names the broadcast');
  t.match(text, /vanhanh\.tanlap gửi phê duyệt lượt phát cho Xã Tân Lập, phát lúc 08:30 ngày \d\d\/\d\d\/\d{4}/, 'who sent it, where and when it airs, in Vietnam time');
  t.notMatch(text, /bc_|[0-9a-f]{8}-|http/i, 'no ids or addresses shown');
  const width = await page.evaluate('document.documentElement.scrollWidth');
  t.ok((width as number) <= 390, `no sideways scrolling on the phone (${width} px)`);
  await page.screenshot({ path: join(SCREENSHOTS, 'notifications-phone.png'), fullPage: true });
  await item.getByRole('link').click();
  await page.waitForURL(/\/phe-duyet$/);
  await waitFor('the badge to clear', async () => ((await badge(page)) === null ? true : null), 10_000);
  t.pass('a tap opens the approval queue and the badge clears');

  // The approver rejects with a reason: the operator's desktop list shows it.
  t.equal((await api('POST', `/api/v1/broadcasts/${submitted.body.id}/reject`, { reason: 'Trùng với lịch họp của xã' }, approver)).status, 200);
  const desktop = await browser.newContext(DESKTOP);
  const dpage = await desktop.newPage();
  dpage.on('pageerror', (e) => errors.push(e.message));
  await login(dpage, base, 'vanhanh.tanlap', 'mat-khau-dai-du');
  await dpage.getByTestId('notification-badge').waitFor();
  t.equal(await badge(dpage), '1');
  await dpage.goto(base + '/thong-bao');
  const rejected = dpage.getByTestId('notification').first();
  await rejected.waitFor();
  t.match(await rejected.innerText(), /Bị từ chối: “Lịch tiêm chủng tháng 12”[\s\S]*duyet\.tinh đã từ chối lượt phát của bạn\. Lý do: Trùng với lịch họp của xã\./, 'the operator’s list shows the reason');
  await dpage.getByRole('button', { name: 'Đánh dấu tất cả đã đọc' }).click();
  await waitFor('the badge to clear', async () => ((await badge(dpage)) === null ? true : null), 10_000);
  t.equal(await dpage.locator('.notif.unread').count(), 0, 'all marked read');

  // Channels: a wrong address is refused in Vietnamese and saves nothing; a right one is kept.
  const emailField = dpage.getByLabel('Địa chỉ e-mail nhận thông báo');
  await emailField.fill('vanhanh@');
  await dpage.getByRole('button', { name: 'Lưu cách nhận' }).click();
  await dpage.getByText('Địa chỉ e-mail không hợp lệ.').waitFor();
  await emailField.fill('vanhanh@tanlap.example');
  t.equal(await dpage.getByText('Địa chỉ e-mail không hợp lệ.').count(), 0, 'the error goes once the address is changed');
  await dpage.getByRole('checkbox', { name: 'Cụm loa trong xã bị hỏng: E-mail' }).uncheck();
  await dpage.getByRole('button', { name: 'Lưu cách nhận' }).click();
  await dpage.getByText('Đã lưu cách nhận thông báo.').waitFor();
  const prefs = (await api<{ email: string; channels: Record<string, { push: boolean; email: boolean }> }>('GET', '/api/v1/notifications/preferences', undefined, op)).body;
  t.equal(prefs.email, 'vanhanh@tanlap.example', 'the address is saved');
  t.same(prefs.channels.fault, { push: true, email: false }, 'and the choice per kind');
  await dpage.reload();
  t.equal(await dpage.getByLabel('Địa chỉ e-mail nhận thông báo').inputValue(), 'vanhanh@tanlap.example', 'shown again after a reload');
  t.equal(await dpage.getByRole('checkbox', { name: 'Cụm loa trong xã bị hỏng: E-mail' }).isChecked(), false);
  await dpage.screenshot({ path: join(SCREENSHOTS, 'notifications-desktop.png'), fullPage: true });

  // Offline: the service worker, installed by the first load, answers page loads with its cached page.
  await page.goto(base + '/thong-bao');
  await page.evaluate('navigator.serviceWorker.ready.then(() => true)');
  await waitFor('the worker to control the page', async () => ((await page.evaluate('!!navigator.serviceWorker.controller')) ? true : null), 10_000);
  await phone.setOffline(true);
  await page.goto(base + '/luot-phat');
  await page.getByRole('heading', { name: 'Không có kết nối mạng' }).waitFor({ timeout: 10_000 });
  t.match(await page.locator('main').innerText(), /Kiểm tra Wi-Fi hoặc dữ liệu di động/, 'the phone offline: a clear Vietnamese page, not the browser’s error');
  await page.screenshot({ path: join(SCREENSHOTS, 'offline-phone.png') });
  await phone.setOffline(false);
  await page.goto(base + '/thong-bao');
  await page.getByRole('heading', { name: 'Thông báo', exact: true }).waitFor();
  await server.stop();
  await page.goto(base + '/tong-quan');
  await page.getByRole('heading', { name: 'Không có kết nối mạng' }).waitFor({ timeout: 10_000 });
  t.pass('the server stopped: the same page');
  t.same(errors, [], 'no script errors');
});
