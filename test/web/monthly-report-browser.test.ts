/**
 * Issue 20, "a printable monthly report … as PDF", in a real browser on a phone and a desktop: the reports page
 * has "In báo cáo tháng" with a choice of month; it opens the province's month as a PDF the signed-in browser
 * may read (its session cookie, no token in the address), with the figures of boxes that really aired.
 * Uses the built app in web/dist and Debian's chromium; skips, saying why, without them.
 */
import t from 'tap';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Browser } from 'playwright-core';
import { startSimulation } from '../../firmware-sim/src/index.js';
import type { MonthlyReport } from '@loaxa/shared';
import { ADMIN_PASSWORD, importSampleAreas, tempDir } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, startWebServer, login } from './helpers.js';

const skip = browserSkipReason();
t.setTimeout(180_000);

t.test('"In báo cáo tháng" opens the month as a PDF, on a phone and a desktop', { skip: skip ?? false }, async (t) => {
  const { chromium } = await import('playwright-core');
  const { base, api, token } = await startWebServer(t);
  await importSampleAreas(api, token);
  const simDir = await tempDir(t, 'loaxa-monthly-sim-');
  const sim = await startSimulation({ serverUrl: base, count: 2, areaCode: '99003', stateFile: join(simDir, 'sim.json'), logger: pino({ level: 'silent' }), username: 'admin', password: ADMIN_PASSWORD, startSpreadMs: 20 });
  t.teardown(() => sim.stop());
  t.equal(await sim.waitForConnections(15_000), 2);
  const bulletin = (await api<{ id: string }>('POST', '/api/v1/bulletins', { title: 'Tin xã', text: 'Bản tin của xã.' }, token)).body;
  await waitFor('the bulletin synthesized', async () => ((await api<{ status: string }>('GET', `/api/v1/bulletins/${bulletin.id}`, undefined, token)).body.status === 'ready' ? true : null), 60_000);
  const aired = (await api<{ id: string }>('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['99003'] } }, token)).body;
  await waitFor('the broadcast aired', async () => {
    const d = (await api<{ deliveries: Array<{ state: string }> }>('GET', `/api/v1/broadcasts/${aired.id}`, undefined, token)).body;
    return d.deliveries.length === 2 && d.deliveries.every((x) => x.state === 'played') ? true : null;
  }, 60_000);
  const month = new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 7);

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  for (const [name, viewport] of [['phone', { width: 390, height: 844 }], ['desktop', { width: 1280, height: 900 }]] as const) {
    const ctx = await browser.newContext({ viewport, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
    const page = await ctx.newPage();
    await login(page, base, 'admin', ADMIN_PASSWORD);
    await page.goto(base + '/bao-cao');
    const button = page.getByRole('link', { name: /In báo cáo tháng/ });
    await button.waitFor();
    const select = page.getByLabel('Tháng báo cáo');
    const label = `Tháng ${month.slice(5)}/${month.slice(0, 4)}`;
    t.equal((await select.locator('option:checked').innerText()).trim(), label, `${name}: this month is chosen, in Vietnamese words`);
    const href = (await button.getAttribute('href'))!;
    t.match(href, `month=${month}`, `${name}: the link asks for that month`);
    t.match(href, 'format=pdf');
    t.notMatch(href, /token|Bearer/i, 'no credentials in the address');
    // The signed-in browser reads it with its session cookie, as the new tab does.
    const got = JSON.parse(await page.evaluate(`fetch(${JSON.stringify(href)}).then(async (r) => JSON.stringify({ status: r.status, type: r.headers.get('content-type'), head: new TextDecoder().decode((await r.arrayBuffer()).slice(0, 5)) }))`)) as { status: number; type: string; head: string };
    t.same(got, { status: 200, type: 'application/pdf', head: '%PDF-' }, `${name}: the button opens a PDF`);
    const json = JSON.parse(await page.evaluate(`fetch(${JSON.stringify(href.replace('format=pdf', 'format=json'))}).then((r) => r.text())`)) as MonthlyReport;
    t.equal(json.communes.find((c) => c.code === '99003')?.airings.played, 2, `${name}: the month it prints counts the two airings of Tân Lập`);
    // Choosing last month changes the link.
    const previous = (await select.locator('option').nth(1).getAttribute('value'))!;
    await select.selectOption(previous);
    t.match((await button.getAttribute('href'))!, `month=${previous}`, `${name}: another month, another report`);
    const scroll = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    t.ok(scroll <= 1, `${name}: the page does not scroll sideways (${scroll} px)`);
    await page.locator('#monthly-report').screenshot({ path: join(SCREENSHOTS, `monthly-report-button-${name}.png`) });
    await ctx.close();
  }
});
