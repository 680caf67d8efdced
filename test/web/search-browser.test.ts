/**
 * Search and filters (issue 20) on the broadcasts page (words of the title, status, priority, days of the
 * first airing, typed dd/mm/yyyy) and the audit log (who, action, kind of object, days), on a phone and a
 * desktop: the filters narrow the list, stay in the address, and the link reopens the same search.
 * Uses the built app in web/dist and Debian's chromium; skips, saying why, without them.
 */
import t, { type Test } from 'tap';
import type { Browser, BrowserContextOptions, Locator, Page } from 'playwright-core';
import { ADMIN_PASSWORD, importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, login, startWebServer } from './helpers.js';

const skip = browserSkipReason();
t.setTimeout(240_000);

const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' };
const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 900 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' };

/** A Vietnam calendar day `days` from today: `YYYY-MM-DD`, and as people type it, `dd/mm/yyyy`. */
const vnDay = (days: number) => new Date(Date.now() + 7 * 3600_000 + days * 86_400_000).toISOString().slice(0, 10);
const typed = (iso: string) => iso.split('-').reverse().join('/');

/** The lines of a list as its texts, once they equal `want` (the list follows the filters a moment later). */
async function listIs(what: string, lines: Locator, read: (l: Locator) => Promise<string[]>, want: string[]): Promise<string[]> {
  return waitFor(what, async () => {
    const got = await read(lines);
    return got.join('|') === want.join('|') ? got : null;
  }, 10_000).catch(async () => read(lines));
}

const query = (page: Page) => decodeURIComponent(new URL(page.url()).search);

t.test('filter broadcasts and the audit log, and reopen the link', { skip: skip ?? false }, async (t) => {
  const { chromium } = await import('playwright-core');
  const { base, api, token } = await startWebServer(t);
  await importSampleAreas(api, token);
  t.equal((await api('POST', '/api/v1/devices', { name: 'Loa chợ Tân Lập', areaCode: '99003' }, token)).status, 201);
  const clerk = { username: 'thuky-tanlap', password: 'mat-khau-thu-ky-dai' };
  t.equal((await api('POST', '/api/v1/users', { ...clerk, role: 'operator', areaCode: '99003' }, token)).status, 201);
  t.equal((await api('POST', '/api/v1/auth/login', clerk)).status, 200);

  const bulletin = async (title: string) => {
    const r = await api<{ id: string }>('POST', '/api/v1/bulletins', { title, text: `${title}: mời bà con chú ý lắng nghe.` }, token);
    await waitFor(`${title} ready`, async () => ((await api<{ status: string }>('GET', `/api/v1/bulletins/${r.body.id}`, undefined, token)).body.status === 'ready' ? true : null), 30_000);
    return r.body.id;
  };
  const at = (days: number) => new Date(Date.parse(`${vnDay(days)}T07:00:00+07:00`)).toISOString();
  const broadcast = async (bulletinId: string, days: number, priority: string) => {
    const r = await api('POST', '/api/v1/broadcasts', { bulletinId, target: { areaCodes: ['99003'] }, startAt: at(days), priority }, token);
    t.equal(r.status, 201, 'scheduled', { body: r.body });
  };
  await broadcast(await bulletin('Thu thuế đất năm 2027'), 1, 'normal');
  await broadcast(await bulletin('Lịch tiêm phòng sởi'), 3, 'priority');
  await broadcast(await bulletin('Họp dân thôn Đông'), 5, 'normal');

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());

  const scene = async (t: Test, options: BrowserContextOptions) => {
    const ctx = await browser.newContext(options);
    t.teardown(() => ctx.close());
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await login(page, base, 'admin', ADMIN_PASSWORD);

    // Broadcasts.
    await page.goto(`${base}/luot-phat`);
    const rows = page.getByTestId('broadcast-item');
    const titles = async (l: Locator) => (await l.locator('strong').allInnerTexts()).map((s) => s.trim()).sort();
    await rows.first().waitFor();
    t.same(await listIs('every broadcast', rows, titles, ['Họp dân thôn Đông', 'Lịch tiêm phòng sởi', 'Thu thuế đất năm 2027']), ['Họp dân thôn Đông', 'Lịch tiêm phòng sởi', 'Thu thuế đất năm 2027'], 'every approved broadcast');
    await page.getByLabel('Tìm theo tiêu đề').fill('THUẾ');
    t.same(await listIs('the tax notice', rows, titles, ['Thu thuế đất năm 2027']), ['Thu thuế đất năm 2027'], 'a word of the title, any case');
    await page.getByLabel('Tìm theo tiêu đề').fill('');
    await page.getByTestId('broadcasts-priority').selectOption('normal');
    t.same(await listIs('normal ones', rows, titles, ['Họp dân thôn Đông', 'Thu thuế đất năm 2027']), ['Họp dân thôn Đông', 'Thu thuế đất năm 2027'], 'by priority');
    await page.getByLabel('Phát từ ngày').fill(typed(vnDay(4)));
    t.same(await listIs('from day 4', rows, titles, ['Họp dân thôn Đông']), ['Họp dân thôn Đông'], 'by the first airing’s day, typed dd/mm/yyyy');
    await waitFor('the filters in the address', () => (query(page).includes(`uu-tien=normal`) && query(page).includes(`tu=${vnDay(4)}`) ? true : null), 5000);
    await page.goto(page.url());
    await rows.first().waitFor();
    t.same(await listIs('reopened', rows, titles, ['Họp dân thôn Đông']), ['Họp dân thôn Đông'], 'the link reopens the same search');
    t.equal(await page.getByLabel('Phát từ ngày').inputValue(), typed(vnDay(4)), 'its day shown as dd/mm/yyyy');
    t.equal(await page.getByTestId('broadcasts-priority').inputValue(), 'normal');
    await page.getByLabel('Đến ngày').fill(typed(vnDay(2)));
    await page.getByText('Ngày kết thúc phải sau ngày bắt đầu.').waitFor();
    t.pass('a range that ends before it starts says so, in Vietnamese');

    // The audit log.
    await page.goto(`${base}/nhat-ky`);
    const entries = page.getByTestId('audit-entry');
    await entries.first().waitFor();
    const who = async (l: Locator) => [...new Set((await l.locator('td:nth-child(2)').allInnerTexts()).map((s) => s.trim()))];
    const actions = async (l: Locator) => [...new Set((await l.locator('th').allInnerTexts()).map((s) => s.trim()))];
    await page.getByLabel('Người thực hiện').fill(clerk.username);
    t.same(await listIs('the clerk’s rows', entries, who, [clerk.username]), [clerk.username], 'only what this user did');
    await page.getByLabel('Người thực hiện').fill('');
    await page.getByTestId('audit-action').selectOption('POST /api/v1/broadcasts');
    await listIs('broadcast rows', entries, actions, ['Tạo lượt phát']);
    t.equal(await entries.count(), 3, 'the three broadcasts created');
    await page.getByTestId('audit-action').selectOption('');
    await page.getByTestId('audit-object').selectOption('device');
    t.same(await listIs('the box rows', entries, actions, ['Đăng ký cụm loa']), ['Đăng ký cụm loa'], 'by kind of object');
    await page.getByLabel('Từ ngày').fill(typed(vnDay(1)));
    await page.getByText('Không có dòng nhật ký nào khớp bộ lọc.').waitFor({ timeout: 10_000 });
    t.pass('nothing written tomorrow');
    await page.getByLabel('Từ ngày').fill(typed(vnDay(0)));
    await listIs('today again', entries, actions, ['Đăng ký cụm loa']);
    await waitFor('the filters in the address', () => (query(page).includes('doi-tuong=device') && query(page).includes(`tu=${vnDay(0)}`) ? true : null), 5000);
    t.match(await page.getByTestId('audit-csv').getAttribute('href'), /objectType=device/, 'the export follows the filters');
    await page.goto(page.url());
    await entries.first().waitFor();
    t.same(await actions(entries), ['Đăng ký cụm loa'], 'the link reopens the same search');
    t.equal(await page.getByTestId('audit-object').inputValue(), 'device');
    t.same(errors, [], 'no script errors in the page');
  };

  await t.test('phone', (t) => scene(t, PHONE));
  await t.test('desktop', (t) => scene(t, DESKTOP));
});
