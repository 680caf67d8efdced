/**
 * Issue 20, broken 1, in a real browser: an operator's "Phát ngay" that waits in the queue longer than the
 * play window (5 min) still airs when the approver approves it on a phone — before, it showed "Đã duyệt" and
 * aired nowhere (0 deliveries, not missed, absent from the as-run). A one-off at a time its author chose that
 * has passed while it waited is shown as late, its approve button is disabled, and it can be rejected.
 * The wait is made by moving the submitted rows' times back, as if they had waited that long.
 * Uses the built app in web/dist and Debian's chromium; skips, saying why, without them.
 */
import t from 'tap';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Browser } from 'playwright-core';
import { startSimulation } from '../../firmware-sim/src/index.js';
import { ADMIN_PASSWORD, importSampleAreas, tempDir } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, startWebServer, login } from './helpers.js';

const skip = browserSkipReason();
t.setTimeout(180_000);

t.test('an approval later than the play window: "Phát ngay" airs; a passed time is shown late and cannot be approved', { skip: skip ?? false }, async (t) => {
  const { chromium } = await import('playwright-core');
  const { base, api, token, server } = await startWebServer(t);
  await importSampleAreas(api, token);
  const simDir = await tempDir(t, 'loaxa-late-sim-');
  const sim = await startSimulation({ serverUrl: base, count: 2, areaCode: '99003', stateFile: join(simDir, 'sim.json'), logger: pino({ level: 'silent' }), username: 'admin', password: ADMIN_PASSWORD, startSpreadMs: 20 });
  t.teardown(() => sim.stop());
  t.equal(await sim.waitForConnections(15_000), 2);

  for (const [username, role, areaCode] of [['vanhanh.tanlap', 'operator', '99003'], ['duyet.tinh', 'approver', '99']] as const) {
    t.equal((await api('POST', '/api/v1/users', { username, password: 'mat-khau-dai-du', role, areaCode }, token)).status, 201);
  }
  const op = (await api<{ token: string }>('POST', '/api/v1/auth/login', { username: 'vanhanh.tanlap', password: 'mat-khau-dai-du' })).body.token;
  const bulletin = (await api<{ id: string }>('POST', '/api/v1/bulletins', { title: 'Thông báo cắt điện', text: 'Sáng mai cắt điện từ bảy giờ đến mười một giờ.' }, op)).body;
  await waitFor('the bulletin synthesized', async () => ((await api<{ status: string }>('GET', `/api/v1/bulletins/${bulletin.id}`, undefined, op)).body.status === 'ready' ? true : null), 60_000);
  const now = (await api<{ id: string; status: string }>('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['99003'] } }, op)).body;
  const timed = (await api<{ id: string }>('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['99003'] }, startAt: new Date(Date.now() + 60_000).toISOString() }, op)).body;
  t.equal(now.status, 'submitted');
  // Both waited: "Phát ngay" six minutes; the timed one was submitted ten minutes ago for a minute later.
  server.ctx.db.prepare('UPDATE broadcasts SET created_at = created_at - 360000, start_at = start_at - 360000 WHERE id = ?').run(now.id);
  server.ctx.db.prepare('UPDATE broadcasts SET created_at = created_at - 600000, start_at = start_at - 420000 WHERE id = ?').run(timed.id);

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  const page = await phone.newPage();
  await login(page, base, 'duyet.tinh', 'mat-khau-dai-du');
  await page.goto(base + '/phe-duyet');
  const cards = page.locator('.approval');
  await cards.first().waitFor();
  t.equal(await cards.count(), 2, 'both wait in the queue');
  const asap = cards.filter({ hasText: 'Phát ngay khi được phê duyệt' });
  const late = cards.filter({ hasText: 'Đã quá giờ phát' });
  t.equal(await asap.count(), 1, '"Phát ngay" says it airs when approved');
  t.equal(await late.count(), 1, 'the passed time is shown as late');
  t.ok(await late.getByRole('button', { name: /Phê duyệt/ }).isDisabled(), 'a late one cannot be approved');

  await asap.getByRole('button', { name: /Phê duyệt/ }).click();
  await page.getByText('Đã phê duyệt.').waitFor();
  // What the commune hears: both boxes play it.
  await waitFor('both boxes played it', async () => {
    const d = (await api<{ deliveries: Array<{ state: string }> }>('GET', `/api/v1/broadcasts/${now.id}`, undefined, token)).body.deliveries;
    return d.length === 2 && d.every((x) => x.state === 'played') ? true : null;
  }, 60_000);
  t.pass('every box of the commune played the approved "Phát ngay"');

  await late.getByRole('button', { name: /Từ chối/ }).click();
  await late.getByLabel('Lý do từ chối').fill('Đã quá giờ, đề nghị chọn giờ mới');
  await late.getByRole('button', { name: /Từ chối/ }).click();
  await page.getByText('Đã từ chối.').waitFor();
  t.equal((await api<{ status: string }>('GET', `/api/v1/broadcasts/${timed.id}`, undefined, token)).body.status, 'rejected');
});
