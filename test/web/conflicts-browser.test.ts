/**
 * Issue 20, broken 6, in a real browser: "Conflicts are listed as raw ids, one line per box (16 identical
 * lines)". A bulletin scheduled over another airing of a commune with four boxes now shows one line for the
 * clash, naming the other airing by its bulletin's title and counting the boxes with a few of their names; no
 * broadcast or box id appears. Before, the check listed four lines of `<box id> … <broadcast id>`.
 * Uses the built app in web/dist and Debian's chromium; skips, saying why, without them.
 */
import t from 'tap';
import type { Browser } from 'playwright-core';
import { ADMIN_PASSWORD, importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, startWebServer, login } from './helpers.js';

const skip = browserSkipReason();
t.setTimeout(180_000);

t.test('a schedule check lists one line per clash, by title, with the boxes counted', { skip: skip ?? false }, async (t) => {
  const { chromium } = await import('playwright-core');
  const { base, api, token } = await startWebServer(t);
  await importSampleAreas(api, token);
  const boxIds: string[] = [];
  for (const n of [1, 2, 3, 4]) {
    const r = await api<{ id: string }>('POST', '/api/v1/devices', { name: `Loa thôn ${n}`, areaCode: '99003' }, token);
    t.equal(r.status, 201);
    boxIds.push(r.body.id);
  }
  const morning = (await api<{ id: string }>('POST', '/api/v1/bulletins', { title: 'Tin sáng', text: 'Bản tin buổi sáng của xã Tân Lập.' }, token)).body;
  await waitFor('the first bulletin synthesized', async () => ((await api<{ status: string }>('GET', `/api/v1/bulletins/${morning.id}`, undefined, token)).body.status === 'ready' ? true : null), 60_000);
  // An airing tomorrow at 08:00 Vietnam time, on the commune's four boxes.
  const tomorrow = new Date(Date.now() + 7 * 3600_000 + 86_400_000).toISOString().slice(0, 10);
  const at = `${tomorrow}T08:00:00+07:00`;
  const first = await api<{ id: string; status: string }>('POST', '/api/v1/broadcasts', { bulletinId: morning.id, target: { areaCodes: ['99003'] }, startAt: at }, token);
  t.equal(first.status, 201);
  t.equal(first.body.status, 'approved');

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await login(page, base, 'admin', ADMIN_PASSWORD);
  await page.goto(base + '/soan-tin');
  await page.getByLabel('Tiêu đề').fill('Thông báo họp dân');
  await page.getByLabel('Nội dung').fill('Mời bà con dự họp tại nhà văn hóa thôn.');
  await page.getByRole('button', { name: 'Tạo bản tin' }).click();
  await page.getByRole('heading', { name: 'Lên lịch phát' }).waitFor({ timeout: 60_000 });
  await page.getByLabel('Lọc địa bàn').fill('tan lap');
  await page.getByRole('checkbox', { name: /Xã Tân Lập/ }).check();
  await page.getByRole('radio', { name: 'Một lần' }).check({ force: true });
  await page.getByLabel('Ngày phát').fill(tomorrow);
  await page.getByLabel('Giờ phát', { exact: true }).fill('08:00');
  await page.getByRole('button', { name: 'Kiểm tra lịch' }).click();
  const report = page.getByTestId('check-report');
  await report.waitFor();
  await waitFor('the conflicts listed', async () => (/trùng lịch \(1\)/i.test(await report.innerText()) ? true : null), 10_000).catch(async (e) => {
    t.comment(await report.innerText());
    throw e;
  });
  const text = await report.innerText();
  const lines = await report.locator('ul.conflicts li').allInnerTexts();
  t.equal(lines.length, 1, `one line for the clash, not one per box (${lines.join(' | ')})`);
  t.match(lines[0], /“Tin sáng”/, 'the other airing is named by its title');
  t.match(lines[0], /08:00/, 'with its time');
  t.match(lines[0], /4 cụm loa: Loa thôn \d, Loa thôn \d, Loa thôn \d và 1 cụm khác/, 'the boxes counted, three named');
  t.notMatch(text, new RegExp(first.body.id), 'no broadcast id');
  for (const id of boxIds) t.notMatch(text, new RegExp(id), 'no box id');
  t.same(errors, [], 'no script errors');
});
