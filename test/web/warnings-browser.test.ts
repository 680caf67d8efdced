/**
 * The disaster-warning page (issue 18) in chromium against a real server with simulated boxes, on a 360 px
 * phone: a province admin writes a level-4 flash-flood warning for two communes on the form, previews it (the
 * generated announcement names the communes; the preview counts the communes and boxes), sends it after a
 * question naming them, watches it "Đang phát" with its reach rising as the boxes report, and stops it with a
 * reason: it shows "Đã hủy" on its page and in the list. A level-2 warning a source pushes then waits for a
 * person: listed first, with the pending count on the page and in the menu. Nothing scrolls sideways and no
 * script fails.
 * Uses the built app in web/dist and Debian's chromium; skips, saying why, without them.
 */
import t from 'tap';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Browser, Dialog, Page } from 'playwright-core';
import { startSimulation } from '../../firmware-sim/src/index.js';
import { ADMIN_PASSWORD, importSampleAreas, tempDir } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { alert, xmlOf } from '../warnings/server-helpers.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, login, SCREENSHOTS, startWebServer } from './helpers.js';

const skip = browserSkipReason();
t.setTimeout(240_000);

const AGENCY_TEXT = 'Mưa lớn kéo dài, lượng mưa 24 giờ qua phổ biến 150 mm. Nguy cơ cao xảy ra lũ quét, sạt lở đất trên các suối nhỏ, sườn dốc.';

/** The page's own width does not exceed the viewport (tables scroll inside their own wrappers). */
async function noSideScroll(page: Page): Promise<boolean> {
  return page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth + 1');
}

/** "3/4 loa đã phát" → 3. */
function aired(text: string): number {
  const m = /(\d+)\/(\d+) loa đã phát/.exec(text);
  return m ? Number(m[1]) : -1;
}

t.test('a province admin sends a level-4 flash-flood warning to two communes, watches its reach, stops it — on a 360 px phone', { skip: skip ?? false }, async (t) => {
  const { chromium } = await import('playwright-core');
  const { base, api, token } = await startWebServer(t);
  await importSampleAreas(api, token);
  const simDir = await tempDir(t, 'loaxa-warn-sim-');
  for (const area of ['99003', '99004']) {
    const sim = await startSimulation({ serverUrl: base, count: 2, areaCode: area, stateFile: join(simDir, `${area}.json`), logger: pino({ level: 'silent' }), username: 'admin', password: ADMIN_PASSWORD, startSpreadMs: 50 });
    t.teardown(() => sim.stop());
    t.equal(await sim.waitForConnections(15_000), 2, `2 boxes of ${area} connected`);
  }

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  const phone = await browser.newContext({ viewport: { width: 360, height: 760 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  const page = await phone.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (m) => m.type() === 'error' && !/Failed to load resource/.test(m.text()) && errors.push(m.text()));
  const asked: string[] = [];
  page.on('dialog', (d: Dialog) => {
    asked.push(d.message());
    void d.accept();
  });

  await login(page, base, 'admin', ADMIN_PASSWORD);
  await page.getByRole('button', { name: /Trình đơn/ }).click();
  await page.getByRole('link', { name: 'Cảnh báo thiên tai' }).click();
  await page.waitForURL(/\/canh-bao/);
  await page.getByText('Chưa có cảnh báo nào.').waitFor();
  t.ok(await noSideScroll(page), 'the empty list fits 360 px');

  // The form: kind, level 4 (its colour and words), the agency and its text, two communes; the default end is
  // written day first in 24-hour time.
  await page.getByRole('tab', { name: 'Soạn cảnh báo' }).click();
  await page.getByLabel('Loại thiên tai').selectOption('flash-flood');
  await page.locator('label.wrn-level', { hasText: 'Cấp 4 · rủi ro rất lớn' }).click();
  t.ok(await page.getByRole('radio', { name: 'Khẩn cấp' }).isChecked(), 'level 4 airs as an emergency by default');
  await page.getByLabel('Cơ quan ban hành').fill('Đài Khí tượng Thủy văn tỉnh Mẫu');
  await page.getByLabel('Nội dung bản tin của cơ quan').fill(AGENCY_TEXT);
  await page.getByRole('checkbox', { name: /Xã Tân Lập/ }).check();
  await page.getByRole('checkbox', { name: /Xã Hưng Đạo/ }).check();
  t.match(await page.getByTestId('warning-areas').innerText(), /Xã Tân Lập[\s\S]*Xã Hưng Đạo/);
  t.match(await page.getByLabel('Hiệu lực đến ngày').inputValue(), /^\d\d\/\d\d\/\d{4}$/, 'dd/mm/yyyy');
  t.match(await page.getByLabel('Giờ (24 giờ)').inputValue(), /^([01]\d|2[0-3]):[0-5]\d$/, 'HH:mm, 24 hours');
  t.ok(await noSideScroll(page), 'the form fits 360 px');

  // The preview: the generated announcement names the communes; two communes, four boxes.
  await page.getByRole('button', { name: 'Xem trước', exact: true }).click();
  const reach = page.getByTestId('preview-reach');
  await reach.waitFor({ timeout: 60_000 });
  t.match(await reach.innerText(), /2 xã, phường · 4 cụm loa/, 'the communes and boxes it will reach');
  const announcement = await page.getByLabel('Thông báo sẽ đọc trên loa (sửa được)').inputValue();
  t.match(announcement, /lũ quét/i, 'the announcement says what is coming');
  t.match(announcement, /Tân Lập/, 'and names the first commune');
  t.match(announcement, /Hưng Đạo/, 'and the second');
  t.match(await page.getByTestId('preview-communes').innerText(), /Tân Lập[\s\S]*Hưng Đạo/);
  const readingCheck = page.getByLabel('Đã kiểm tra cách đọc');
  if (await readingCheck.count()) await readingCheck.check();
  t.ok(await noSideScroll(page), 'the preview fits 360 px');
  // For the README (`npm run screenshots` puts it in web/screenshots; a test run, in a temp dir).
  await page.getByLabel('Thông báo sẽ đọc trên loa (sửa được)').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SCREENSHOTS, 'warning-form-phone.png') });

  // Send: the question names the communes and boxes; the warning's page opens, airing.
  await page.getByRole('button', { name: 'Phát cảnh báo' }).click();
  await page.waitForURL(/\/canh-bao\?ma=/, { timeout: 30_000 });
  t.match(asked.at(-1), /2 xã, phường với 4 cụm loa, mức Khẩn cấp/, 'the question says how many communes and boxes');
  const id = new URL(page.url()).searchParams.get('ma')!;
  const state = page.getByTestId('warning-state');
  await state.waitFor();
  await waitFor('airing', async () => ((await state.innerText()).trim() === 'Đang phát' ? true : null), 30_000);
  t.pass('it shows “Đang phát”');
  t.match(await page.getByTestId('warning-detail').innerText(), /Cấp 4 · rủi ro rất lớn/);
  t.equal(await page.locator('.wrn-chip').first().evaluate((el) => (globalThis as unknown as { getComputedStyle: (e: unknown) => { backgroundColor: string } }).getComputedStyle(el).backgroundColor), 'rgb(229, 34, 34)', 'level 4 in the decision’s red');

  // Its reach rises as the boxes report, without reloading the page.
  const seen: number[] = [];
  const reachBox = page.locator('[data-testid=warning-detail] [data-testid=reach]');
  await waitFor(
    'all four boxes aired it',
    async () => {
      const n = aired(await reachBox.innerText());
      if (seen.at(-1) !== n) seen.push(n);
      return n === 4 ? true : null;
    },
    90_000,
    250,
  );
  t.ok(seen.every((n, i) => i === 0 || n >= seen[i - 1]!), `the reach only rises (${seen.join(' → ')})`);
  t.match(await reachBox.innerText(), /4\/4 loa đã phát/);
  await page.getByTestId('as-run').waitFor({ timeout: 15_000 });
  t.ok((await page.locator('[data-testid=as-run] tbody tr').count()) >= 4, 'the as-run lists each box');
  t.ok(await noSideScroll(page), 'the warning’s page fits 360 px');
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: join(SCREENSHOTS, 'warning-airing-phone.png') });

  // Stop it with a reason, after a question.
  await page.getByRole('button', { name: '■ Dừng cảnh báo' }).click();
  await page.getByLabel('Lý do dừng').fill('Mưa đã giảm, nguy cơ lũ quét không còn');
  await page.getByRole('button', { name: 'Dừng cảnh báo', exact: true }).click();
  await waitFor('cancelled', async () => ((await state.innerText()).trim() === 'Đã hủy' ? true : null), 30_000);
  t.match(asked.at(-1), /Dừng cảnh báo “Lũ quét · Cấp 4 · rủi ro rất lớn”\?/, 'the question names the warning');
  const after = await api<{ state: string }>('GET', `/api/v1/warnings/${id}`, undefined, token);
  t.equal(after.body.state, 'cancelled', 'the server has it cancelled');

  // The list says so too.
  await page.getByRole('link', { name: /Danh sách cảnh báo/ }).click();
  const row = page.locator(`[data-warning="${id}"]`);
  await row.waitFor();
  t.match(await row.innerText(), /Cấp 4 · rủi ro rất lớn[\s\S]*Đã hủy[\s\S]*Lũ quét[\s\S]*Biểu mẫu của tỉnh[\s\S]*Hiệu lực đến: \d\d\/\d\d\/\d{4} \d\d:\d\d/);
  t.ok(await noSideScroll(page), 'the list fits 360 px');

  // A source pushes a level-2 warning its policy does not air at once: it waits, listed first with the count,
  // and the menu shows the count too.
  const source = await api<{ token: string }>('POST', '/api/v1/warning-sources', { name: 'Đài KTTV tỉnh Mẫu', kind: 'push', areaCodes: ['99'] }, token);
  t.equal(source.status, 201);
  const pushed = await fetch(`${base}/api/v1/warnings/cap`, {
    method: 'POST',
    headers: { 'content-type': 'application/cap+xml', authorization: `Bearer ${source.body.token}` },
    body: xmlOf(alert({}, { severity: 'Moderate', urgency: 'Expected', parameter: [{ valueName: 'VN-QD18-2021-CapDoRuiRo', value: '2' }] })),
  });
  t.equal(pushed.status, 200);
  await page.reload();
  await page.getByTestId('pending-count').waitFor();
  t.equal((await page.getByTestId('pending-count').innerText()).trim(), '1 cảnh báo chờ duyệt', 'the pending count');
  t.equal(await page.locator('[data-testid=warnings] > li').first().getAttribute('data-state'), 'pending', 'the pending one first');
  t.match(await page.locator('[data-testid=warnings] > li').first().innerText(), /Cấp 2 · rủi ro trung bình[\s\S]*Chờ duyệt[\s\S]*Nguồn: Đài KTTV tỉnh Mẫu/);
  await page.getByRole('button', { name: /Trình đơn/ }).click();
  t.match(await page.getByTestId('pending-warnings').innerText(), /^1/, 'the menu counts it');
  t.same(errors, [], 'no script errors');
});
