/**
 * Relays in the web app, in chromium on a phone against a real server (issue 15): a province admin registers
 * a source whose URLs are a real MP3 stream made by ffmpeg on this machine (test/helpers/streams.ts) and a
 * port nobody listens on; the server's refusal of a bad URL comes back in Vietnamese on its row; the URL
 * order is changed with the arrows; "Kiểm tra ngay" shows the source up ("Đang phát") and the dead URL down
 * with why. Then an operator of a commune creates a relay of it in the compose screen (status shown in the
 * picker, title from the source's name, length in hours or minutes) and schedules it daily through the
 * usual schedule panel; the broadcast's live page names the source; the admin's delete is refused (409) and
 * explained. Second scene: a simulated box (the real
 * agent, pulling the stream with ffmpeg) relays it now; the live page shows the URL it relays and the minutes
 * relayed, then "Không có luồng" and the gap's cause when the stream is killed; the reports page lists it.
 * About 9 s and 16 s here. The one screenshot (sources-phone.png) goes to the temp dir unless
 * LOAXA_SCREENSHOTS_DIR says otherwise.
 * Uses the built app in web/dist and skips, saying why, without it or without chromium.
 */
import t from 'tap';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Browser, Page } from 'playwright-core';
import { startSimulation } from '../../firmware-sim/src/index.js';
import { ADMIN_PASSWORD, importSampleAreas } from '../helpers/server.js';
import { ffmpegBin, startToneStream } from '../helpers/streams.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, startWebServer } from './helpers.js';

const skip = browserSkipReason();
// Two scenes of ~10 and ~25 s; the ceiling leaves room for a loaded machine.
t.setTimeout(90_000);

const PASSWORD = 'mat-khau-du-dai';

/** A loopback port with nothing listening on it: connecting is refused at once. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

async function login(page: Page, base: string, username: string, password = PASSWORD): Promise<void> {
  await page.goto(base + '/');
  await page.getByLabel('Tên đăng nhập').fill(username);
  await page.getByLabel('Mật khẩu').fill(password);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.getByTestId('whoami').waitFor();
}

t.test('a province admin adds and checks a source; an operator relays it daily — on a phone, in chromium', { skip: skip ?? false }, async (t) => {
  const started = Date.now();
  const { chromium } = await import('playwright-core');
  // No periodic checks: what the page shows comes from the create's own check and the button.
  const { base, api, token } = await startWebServer(t, { sourceCheckSeconds: 0 });
  await importSampleAreas(api, token);
  for (const [username, role, areaCode] of [['qtv.tinh', 'province-admin', '99'], ['vanhanh.tanlap', 'operator', '99003']] as const) {
    t.equal((await api('POST', '/api/v1/users', { username, password: PASSWORD, role, areaCode }, token)).status, 201);
  }
  t.equal((await api('POST', '/api/v1/devices', { name: 'Cụm loa Tân Lập 1', areaCode: '99003' }, token)).status, 201);
  const tone = await startToneStream(t, { format: 'mp3' });
  const dead = `http://127.0.0.1:${await closedPort()}/live.mp3`;

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  // One phone each: the session is a cookie, so two users need two browser contexts.
  const phone = () => browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  const errors: string[] = [];

  // The province admin: the page is in the menu; the form refuses a non-HTTP stream in Vietnamese.
  const admin = await (await phone()).newPage();
  admin.on('pageerror', (err) => errors.push(err.message));
  admin.on('dialog', (d) => void d.accept());
  await login(admin, base, 'qtv.tinh');
  await admin.getByRole('button', { name: /Trình đơn/ }).click();
  await admin.getByRole('link', { name: 'Nguồn tiếp sóng' }).click();
  await admin.getByText('Chưa có nguồn tiếp sóng nào.').waitFor();
  await admin.getByRole('button', { name: /Thêm nguồn/ }).click();
  await admin.getByLabel('Tên nguồn').fill('Đài PT-TH tỉnh');
  await admin.getByLabel('Địa chỉ 1', { exact: true }).fill('rtmp://radio.example/live');
  await admin.getByRole('button', { name: 'Thêm nguồn', exact: true }).click();
  const refusal = admin.getByTestId('source-errors');
  await refusal.waitFor();
  t.match(await refusal.innerText(), /Địa chỉ 1: chỉ tiếp sóng được luồng http:\/\/ hoặc https:\/\//, 'the server’s refusal, in Vietnamese, on its row');
  t.equal(await admin.getByLabel('Địa chỉ 1', { exact: true }).getAttribute('aria-invalid'), 'true');

  // Two URLs typed in the wrong order, then the working one moved first.
  await admin.getByLabel('Địa chỉ 1', { exact: true }).fill(dead);
  await admin.getByRole('button', { name: /Thêm địa chỉ/ }).click();
  await admin.getByLabel('Địa chỉ 2', { exact: true }).fill(tone.url);
  await admin.getByRole('button', { name: 'Đưa địa chỉ 2 lên trước' }).click();
  t.equal(await admin.getByLabel('Địa chỉ 1', { exact: true }).inputValue(), tone.url, 'moved up');
  t.equal(await admin.getByLabel('Địa chỉ 2', { exact: true }).inputValue(), dead);
  await admin.getByRole('button', { name: 'Thêm nguồn', exact: true }).click();
  await admin.getByText('Đã thêm nguồn “Đài PT-TH tỉnh”', { exact: false }).waitFor();
  const stored = await api<{ items: { id: string; urls: string[]; areaCode: string | null }[] }>('GET', '/api/v1/sources', undefined, token);
  t.same(stored.body.items.map((s) => [s.urls, s.areaCode]), [[[tone.url, dead], '99']], 'stored in the order chosen, for the admin’s province');

  // Check now: the source is up; each URL says what the check found.
  const item = admin.locator('[data-testid=sources] li.item').first();
  await item.getByRole('button', { name: 'Kiểm tra ngay' }).click();
  const head = item.locator('.source-head [data-testid=source-status]');
  t.match(await head.innerText(), /Chưa kiểm tra/, 'not checked yet (periodic checks are off here)');
  await head.filter({ hasText: 'Đang phát' }).waitFor({ timeout: 25_000 });
  const urls = await item.locator('.url-checks li').allInnerTexts();
  t.match(urls[0], /Đang phát/, 'the tone stream plays');
  t.match(urls[1], /Mất tín hiệu[\s\S]*máy chủ luồng từ chối kết nối/, 'the dead URL is down, and why, in Vietnamese');
  t.match(await item.innerText(), /kiểm tra lúc (\d\d:\d\d \d\d\/\d\d\/\d{4}|\d\d\/\d\d\/\d{4},? \d\d:\d\d)/, 'when it was checked');
  await admin.screenshot({ path: join(SCREENSHOTS, 'sources-phone.png'), fullPage: true });

  // The operator relays it: from compose, its status in the picker, title from its name, 1 minute to 12 hours.
  const op = await (await phone()).newPage();
  op.on('pageerror', (err) => errors.push(err.message));
  await login(op, base, 'vanhanh.tanlap');
  await op.waitForURL(/\/soan-tin$/);
  await op.getByRole('radio', { name: 'Tiếp sóng' }).check();
  await op.getByLabel('Nguồn tiếp sóng').selectOption({ label: 'Đài PT-TH tỉnh — Đang phát' });
  const titleField = op.getByLabel('Tiêu đề');
  for (const until = Date.now() + 5000; (await titleField.inputValue()) !== 'Tiếp sóng Đài PT-TH tỉnh' && Date.now() < until; ) await op.waitForTimeout(100);
  t.equal(await titleField.inputValue(), 'Tiếp sóng Đài PT-TH tỉnh', 'the title follows the source');
  await op.getByLabel('Đơn vị').selectOption('hours');
  await op.getByLabel('Thời lượng tiếp sóng').fill('13');
  await op.getByText('Tiếp sóng nhiều nhất 12 giờ.').waitFor();
  await op.getByLabel('Thời lượng tiếp sóng').fill('0,5');
  await op.getByText('= 30 phút').waitFor();
  await op.getByRole('button', { name: 'Tạo bản tin tiếp sóng' }).click();
  await op.getByText('Bản tin tiếp sóng “Đài PT-TH tỉnh” trong 30 phút đã sẵn sàng.', { exact: false }).waitFor();

  // Scheduled like any bulletin: daily at 18:00 on the commune, sent for approval.
  await op.getByRole('heading', { name: 'Lên lịch phát' }).waitFor();
  await op.getByRole('radio', { name: 'Hằng ngày' }).check();
  await op.getByLabel('Giờ phát 1').fill('18:00');
  await op.getByRole('button', { name: 'Bỏ giờ 17:00' }).click();
  await op.getByRole('checkbox', { name: /Xã Tân Lập/ }).check();
  await op.getByRole('button', { name: 'Kiểm tra lịch' }).click();
  await op.getByTestId('check-report').waitFor();
  t.match(await op.getByTestId('check-report').innerText(), /1 cụm loa nhận bản tin/);
  await op.getByRole('button', { name: 'Gửi phê duyệt' }).click();
  await op.waitForURL(/\/luot-phat\/bc-/);
  await op.getByRole('heading', { name: 'Tiếp sóng: Đài PT-TH tỉnh' }).waitFor();
  t.match(await op.locator('h1').innerText(), /Tiếp sóng Đài PT-TH tỉnh/);

  const id = op.url().split('/').pop()!;
  const bc = await api<{ status: string; bulletinId: string; schedule: unknown; target: unknown }>('GET', `/api/v1/broadcasts/${id}`, undefined, token);
  t.equal(bc.body.status, 'submitted', 'an operator’s relay waits for approval like any broadcast');
  t.match(bc.body.schedule, { kind: 'daily', times: ['18:00'] });
  t.same(bc.body.target, { areaCodes: ['99003'] });
  const bulletin = await api<{ relay?: { sourceId: string; durationMs: number } }>('GET', `/api/v1/bulletins/${bc.body.bulletinId}`, undefined, token);
  t.same(bulletin.body.relay, { sourceId: stored.body.items[0]!.id, durationMs: 1_800_000 }, 'a relay of the source for 30 minutes');

  // The admin cannot delete a source a broadcast still relays, and is told why and what to do.
  await admin.getByRole('button', { name: /Xóa/ }).click();
  await admin.getByText('Không xóa được nguồn “Đài PT-TH tỉnh”', { exact: false }).waitFor();
  t.match(await admin.locator('.alert').last().innerText(), /lượt phát chưa kết thúc vẫn tiếp sóng nguồn này[\s\S]*dừng lượt phát/, 'the 409 explained');
  t.equal((await api<{ items: unknown[] }>('GET', '/api/v1/sources', undefined, token)).body.items.length, 1, 'the source is still there');

  t.same(errors, [], 'no script errors in the pages');
  t.ok(Date.now() - started < 60_000, `done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

t.test('a relay on the air: the live page shows which URL the box relays and the minutes, then the gap when the stream dies; the report lists it', { skip: skip ?? false }, async (t) => {
  const started = Date.now();
  const { chromium } = await import('playwright-core');
  const { base, api, token, dataDir } = await startWebServer(t, { sourceCheckSeconds: 0 });
  await importSampleAreas(api, token);
  const tone = await startToneStream(t, { format: 'mp3' });
  // A simulated box running the real agent: it pulls and decodes the stream with ffmpeg, its sink counts.
  const sim = await startSimulation({
    serverUrl: base, count: 1, areaCode: '99003', stateFile: join(dataDir, 'sim.json'), logger: pino({ level: 'silent' }),
    username: 'admin', password: ADMIN_PASSWORD, startSpreadMs: 0, agentConfig: { ffmpegPath: ffmpegBin() },
  });
  t.teardown(() => sim.stop());
  t.equal(await sim.waitForConnections(10_000), 1, 'the box is connected');
  const source = await api<{ id: string }>('POST', '/api/v1/sources', { name: 'VOV1 (thử)', urls: [tone.url], areaCode: null }, token);
  t.equal(source.status, 201);
  const bulletin = await api<{ id: string }>('POST', '/api/v1/bulletins/relay', { title: 'Tiếp sóng VOV1', sourceId: source.body.id, durationMs: 60_000 }, token);
  const cast = await api<{ id: string }>('POST', '/api/v1/broadcasts', { bulletinId: bulletin.body.id, target: { areaCodes: ['99003'] } }, token);
  t.equal(cast.status, 201, 'relayed now on the commune');

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  const desktop = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  const page = await desktop.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await login(page, base, 'admin', ADMIN_PASSWORD);
  await page.goto(`${base}/luot-phat/${cast.body.id}`);
  await page.getByRole('heading', { name: 'Tiếp sóng: VOV1 (thử)' }).waitFor();

  // Live, from the SSE `relay` events: the URL the box relays now; the minutes relayed grow.
  const now = page.locator('[data-testid=relay-report] [data-testid=relay-now]');
  await now.filter({ hasText: tone.url }).waitFor({ timeout: 15_000 });
  t.match(await now.innerText(), /bắt đầu/, 'it says the relay started');
  const minutes = page.locator('[data-testid=relay-report] [data-testid=relayed-minutes]');
  await minutes.filter({ hasText: /^([1-9]|0,[1-9])/ }).waitFor({ timeout: 15_000 });
  t.match(await minutes.innerText(), /^\d+(,\d)? phút$/, `minutes relayed so far: ${await minutes.innerText()}`);

  // The stream dies: no URL is left (and there is no fallback); the page says so and the gap gets its cause.
  await tone.kill();
  await now.filter({ hasText: 'Không có luồng' }).waitFor({ timeout: 15_000 });
  const gap = page.locator('[data-testid=relay-report] li[data-cause]');
  await gap.first().waitFor({ timeout: 15_000 });
  t.match(await gap.first().innerText(), /luồng bị lỗi|mọi địa chỉ đều hỏng|luồng bị nghẽn/, `the gap and its cause in Vietnamese: ${await gap.first().innerText()}`);

  // The reports page lists the relay for the province and today.
  await page.getByRole('link', { name: 'Báo cáo' }).click();
  await page.getByRole('button', { name: 'Xem báo cáo' }).click();
  const report = page.locator('#relay-report [data-testid=relay-report]');
  await report.waitFor();
  t.match(await page.locator('#relay-report').innerText(), /Tiếp sóng VOV1[\s\S]*Nguồn: VOV1 \(thử\)[\s\S]*phút/, 'the relay, its source and the minutes');
  t.equal(await report.locator('tbody tr').count(), 1, 'one row: the one box');

  t.same(errors, [], 'no script errors in the page');
  t.ok(Date.now() - started < 60_000, `done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
