/**
 * Issue 20, broken 3, in a real browser: "The phone dashboard scrolls sideways (the trend chart is wider than
 * the screen); wide tables clip on phones (reports, live status)." Every main page is opened at 360 px (the
 * narrowest common Android width) with data in it: the page itself never scrolls sideways, and a table wider
 * than the screen scrolls inside its own frame, where all of its columns can be reached.
 * Uses the built app in web/dist and Debian's chromium; skips, saying why, without them.
 */
import t from 'tap';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Browser, Page } from 'playwright-core';
import { startSimulation } from '../../firmware-sim/src/index.js';
import { ADMIN_PASSWORD, importSampleAreas, tempDir } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, startWebServer, login } from './helpers.js';

const skip = browserSkipReason();
t.setTimeout(240_000);

/**
 * How far the page scrolls sideways, the tables whose right edge cannot be reached, and (to say why) the elements
 * that stick out. Plain JavaScript run in the page: the tests' TypeScript has no DOM types.
 */
const MEASURE = `(() => {
  const doc = document.documentElement;
  const clipped = [];
  for (const table of Array.from(document.querySelectorAll('table'))) {
    const box = table.getBoundingClientRect();
    if (box.width === 0) continue;
    // A table wider than the screen is fine inside a frame that scrolls; otherwise its right part is lost.
    let reachable = box.right <= window.innerWidth + 1;
    for (let el = table.parentElement; el && !reachable; el = el.parentElement) {
      const style = getComputedStyle(el);
      if ((style.overflowX === 'auto' || style.overflowX === 'scroll') && el.scrollWidth > el.clientWidth && el.getBoundingClientRect().right <= window.innerWidth + 1) reachable = true;
    }
    if (!reachable) clipped.push(table.getAttribute('data-testid') || table.className || 'table');
  }
  const wide = [document.body, ...Array.from(document.querySelectorAll('body *'))]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 || e.scrollWidth > e.clientWidth + 1)
    .slice(0, 12)
    .map((e) => e.tagName.toLowerCase() + '.' + String(e.className).replace(/\\s+/g, '.') + ' ' + Math.round(e.getBoundingClientRect().right) + '/' + e.scrollWidth);
  return { page: doc.scrollWidth - doc.clientWidth, clipped, wide };
})()`;

function overflow(page: Page): Promise<{ page: number; clipped: string[]; wide: string[] }> {
  return page.evaluate<{ page: number; clipped: string[]; wide: string[] }>(MEASURE);
}

t.test('at 360 px no page scrolls sideways and wide tables scroll in their frame', { skip: skip ?? false }, async (t) => {
  const { chromium } = await import('playwright-core');
  // Snapshots every second, so the dashboard's trend chart has points to draw.
  const { base, api, token } = await startWebServer(t, { coverageSnapshotSeconds: 1 });
  await importSampleAreas(api, token);
  const simDir = await tempDir(t, 'loaxa-width-sim-');
  const sim = await startSimulation({ serverUrl: base, count: 3, areaCode: '99003', stateFile: join(simDir, 'sim.json'), logger: pino({ level: 'silent' }), username: 'admin', password: ADMIN_PASSWORD, startSpreadMs: 20 });
  t.teardown(() => sim.stop());
  t.equal(await sim.waitForConnections(15_000), 3);
  const bulletin = (await api<{ id: string }>('POST', '/api/v1/bulletins', { title: 'Thông báo về lịch tiêm chủng mở rộng cho trẻ em dưới năm tuổi', text: 'Trạm y tế xã tiêm phòng cho trẻ.' }, token)).body;
  await waitFor('the bulletin synthesized', async () => ((await api<{ status: string }>('GET', `/api/v1/bulletins/${bulletin.id}`, undefined, token)).body.status === 'ready' ? true : null), 60_000);
  const cast = (await api<{ id: string }>('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['99003'] } }, token)).body;
  await waitFor('the broadcast aired', async () => {
    const d = (await api<{ deliveries: Array<{ state: string }> }>('GET', `/api/v1/broadcasts/${cast.id}`, undefined, token)).body;
    return d.deliveries.length === 3 && d.deliveries.every((x) => x.state === 'played') ? true : null;
  }, 60_000);

  await waitFor('coverage snapshots for the trend chart', async () => ((await api<{ items: unknown[] }>('GET', '/api/v1/coverage/trend?area=99', undefined, token)).body.items.length >= 3 ? true : null), 20_000);
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  const ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  const page = await ctx.newPage();
  await login(page, base, 'admin', ADMIN_PASSWORD);
  const pages: Array<[string, string]> = [
    ['/tong-quan', 'trend-chart'],
    ['/bao-cao', ''],
    [`/luot-phat/${cast.id}`, 'live-progress'],
    ['/luot-phat', ''],
    ['/cum-loa', 'devices'],
    ['/nhat-ky', ''],
  ];
  for (const [path, testId] of pages) {
    await page.goto(base + path);
    if (testId === 'trend-chart') await page.locator('.trend canvas').waitFor({ timeout: 20_000 });
    else if (testId) await page.getByTestId(testId).first().waitFor({ timeout: 20_000 });
    await page.waitForLoadState('networkidle').catch(() => undefined);
    await page.waitForTimeout(500);
    const o = await overflow(page);
    // LOAXA_WIDTH_SHOTS=<dir>: a full-page picture of each, to look at what the numbers say.
    if (process.env.LOAXA_WIDTH_SHOTS) await page.screenshot({ path: `${process.env.LOAXA_WIDTH_SHOTS}/${path.split('/')[1]}.png`, fullPage: true });
    t.equal(o.page, 0, `${path}: the page does not scroll sideways`, { wide: o.wide });
    t.same(o.clipped, [], `${path}: no table is cut off`);
  }
});
