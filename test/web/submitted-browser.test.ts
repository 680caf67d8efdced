/**
 * Issue 20, broken 7, in a real browser: "After 'Gửi phê duyệt' there is no confirmation and the page offers a
 * red 'Dừng phát' on a broadcast that is only waiting." An operator on a phone submits a broadcast: the page it
 * lands on says it was sent for approval and has not aired, offers "Rút yêu cầu" and no "Dừng phát"; when the
 * approver rejects it, the same page says so with the reason.
 * Uses the built app in web/dist and Debian's chromium; skips, saying why, without them.
 */
import t from 'tap';
import type { Browser } from 'playwright-core';
import { importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, startWebServer, login } from './helpers.js';

const skip = browserSkipReason();
t.setTimeout(180_000);

t.test('"Gửi phê duyệt" is confirmed, offers a withdrawal rather than a stop, and shows the decision', { skip: skip ?? false }, async (t) => {
  const { chromium } = await import('playwright-core');
  const { base, api, token } = await startWebServer(t);
  await importSampleAreas(api, token);
  t.equal((await api('POST', '/api/v1/devices', { name: 'Loa chợ', areaCode: '99003' }, token)).status, 201);
  for (const [username, role, areaCode] of [['vanhanh.tanlap', 'operator', '99003'], ['duyet.tinh', 'approver', '99']] as const) {
    t.equal((await api('POST', '/api/v1/users', { username, password: 'mat-khau-dai-du', role, areaCode }, token)).status, 201);
  }
  const approver = (await api<{ token: string }>('POST', '/api/v1/auth/login', { username: 'duyet.tinh', password: 'mat-khau-dai-du' })).body.token;

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await login(page, base, 'vanhanh.tanlap', 'mat-khau-dai-du');
  await page.goto(base + '/soan-tin');
  await page.getByLabel('Tiêu đề').fill('Thông báo lịch tiêm');
  await page.getByLabel('Nội dung').fill('Trạm y tế xã tiêm phòng cho trẻ vào sáng thứ bảy.');
  await page.getByRole('button', { name: 'Tạo bản tin' }).click();
  await page.getByRole('heading', { name: 'Lên lịch phát' }).waitFor({ timeout: 60_000 });
  await page.getByRole('checkbox', { name: /Xã Tân Lập/ }).check();
  await page.getByRole('button', { name: 'Kiểm tra lịch' }).click();
  await page.getByTestId('check-report').waitFor();
  await page.getByRole('button', { name: 'Gửi phê duyệt' }).click();

  const notice = page.getByTestId('submitted-notice');
  await notice.waitFor({ timeout: 15_000 });
  t.match(await notice.innerText(), /Đã gửi phê duyệt\. Bản tin chưa phát/, 'the page confirms it was sent for approval and has not aired');
  t.ok(await page.getByRole('button', { name: /Rút yêu cầu/ }).isVisible(), 'it can be withdrawn');
  t.equal(await page.getByRole('button', { name: /Dừng phát/ }).count(), 0, 'no "Dừng phát" on a broadcast that is only waiting');
  const id = page.url().split('/').pop()!;

  const decided = await api('POST', `/api/v1/broadcasts/${id}/reject`, { reason: 'Trùng với lịch họp của xã' }, approver);
  t.equal(decided.status, 200, 'the approver rejects it', { body: decided.body });
  const rejected = page.getByTestId('rejected-notice');
  await waitFor('the page shows the rejection', async () => ((await rejected.count()) > 0 ? true : null), 20_000);
  t.match(await rejected.innerText(), /từ chối: Trùng với lịch họp của xã/, 'the decision and its reason are shown where the operator is');
  t.equal(await notice.count(), 0, 'the waiting notice is gone');
  t.same(errors, [], 'no script errors');
});
