/**
 * Issue 20, broken 11 (part): "the device search looks for areas, not boxes" — the only search field on the
 * boxes page was the area picker's. Now the page has "Tìm cụm loa": typing part of a box's name or its id
 * lists those boxes (the API's `q`), and the area filter still narrows them.
 * Uses the built app in web/dist and Debian's chromium; skips, saying why, without them.
 */
import t from 'tap';
import type { Browser } from 'playwright-core';
import { ADMIN_PASSWORD, importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, startWebServer, login } from './helpers.js';

const skip = browserSkipReason();
t.setTimeout(180_000);

t.test('the boxes page finds boxes by name or id, within the chosen area', { skip: skip ?? false }, async (t) => {
  const { chromium } = await import('playwright-core');
  const { base, api, token } = await startWebServer(t);
  await importSampleAreas(api, token);
  const made: Record<string, string> = {};
  for (const [name, area] of [['Loa chợ Tân Lập', '99003'], ['Loa trường Tân Lập', '99003'], ['Loa chợ Hòa Bình', '99001'], ['Loa đình làng', '99001']] as const) {
    const r = await api<{ id: string }>('POST', '/api/v1/devices', { name, areaCode: area }, token);
    t.equal(r.status, 201);
    made[name] = r.body.id;
  }
  // The API: `q` matches part of a name or an id; LIKE's wildcards are literal.
  const names = async (query: string) => (await api<{ items: Array<{ name: string }> }>('GET', `/api/v1/devices?${query}`, undefined, token)).body.items.map((d) => d.name).sort();
  t.same(await names('q=ch%E1%BB%A3'), ['Loa chợ Hòa Bình', 'Loa chợ Tân Lập'], 'q finds boxes by part of their name');
  t.same(await names(`q=${made['Loa đình làng']!.slice(0, 10)}`), ['Loa đình làng'], 'and by their id');
  t.same(await names('q=ch%E1%BB%A3&area=99001'), ['Loa chợ Hòa Bình'], 'within an area');
  t.same(await names('q=%25'), [], 'a % typed is a %, not a wildcard');

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  const page = await ctx.newPage();
  await login(page, base, 'admin', ADMIN_PASSWORD);
  await page.goto(base + '/cum-loa');
  const rows = page.locator('[data-testid=devices] tbody tr');
  await rows.first().waitFor();
  t.equal(await rows.count(), 4, 'every box at first');
  // The page's CSP refuses string evaluation (page.waitForFunction with a string): poll the rows from here.
  const rowsAre = (n: number) => waitFor(`${n} rows`, async () => ((await rows.count()) === n ? true : null), 10_000);
  const listed = async () => (await rows.allInnerTexts()).map((r) => r.split('\n')[0]!.trim()).sort();

  const search = page.getByLabel('Tìm cụm loa');
  await search.fill('chợ');
  await rowsAre(2);
  t.same(await listed(), ['Loa chợ Hòa Bình', 'Loa chợ Tân Lập'], 'typing part of a name lists those boxes');
  await page.locator('#devices-area').selectOption('99001');
  await rowsAre(1);
  t.same(await listed(), ['Loa chợ Hòa Bình'], 'the area still narrows the search');

  await search.fill(made['Loa đình làng']!);
  await page.getByText('Loa đình làng').waitFor({ timeout: 10_000 });
  t.same(await listed(), ['Loa đình làng'], 'a box’s id finds it');
  await search.fill('không có loa này');
  await page.getByText(/Không có cụm loa nào có tên hoặc mã chứa “không có loa này”/).waitFor({ timeout: 10_000 });
  t.pass('no match says so');
});
