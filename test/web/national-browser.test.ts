/**
 * The "Liên thông" page (issue 17) in chromium against real servers on loopback, on a phone (390×844) and on a
 * desk (1440×900). The province server under test reports up to a stand-in of the province's source system
 * (test/national/upstream-province.ts) that refuses a message with its MoTa and then fails with HTTP 500; a second
 * server, a commune system (Xã Tân Lập) with two simulated boxes, reports up to it as a child.
 *
 * The admin sees: the link failing and why, the refused message with the province's answer and the waiting one
 * with its last error; adds the commune system as a child and sees its password once (not after closing it, not
 * in the API); the child's boxes, online and working coverage on the children dashboard; an emergency sent down
 * to it with the child's answer, and later what the child did with it; the child's as-run when tapping it; a
 * refused login in the inbound log, with the reason; revoking the child. A province admin bound to an area has
 * no "Liên thông" in the menu. The one screenshot (national-phone.png) goes to the temp dir unless
 * LOAXA_SCREENSHOTS_DIR says otherwise. Uses the built app in web/dist and skips, saying why, without it or
 * without chromium.
 */
import t from 'tap';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Browser, Page } from 'playwright-core';
import { SHIPPED_MAPPINGS } from '@loaxa/shared';
import { startSimulation } from '../../firmware-sim/src/index.js';
import { ADMIN_PASSWORD, importSampleAreas, startTestServer } from '../helpers/server.js';
import { uploadTone } from '../helpers/programmes.js';
import { waitFor } from '../helpers/wait.js';
import { startProvince } from '../national/upstream-province.js';
import { navFor, canOpen } from '../../web/src/logic/roles.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, startWebServer } from './helpers.js';

const skip = browserSkipReason();
t.setTimeout(150_000);

const UPSTREAM_CREDS = { username: 'tinh-mau', password: 'mật-khẩu-của-tỉnh' };
const MOTA = 'Bản tin BT-TW-7 không có trong hệ thống nguồn của tỉnh';
const linkConfig = (url: string, username: string, password: string, sourceId: string, sourceName: string, statusSeconds: number) => ({
  url,
  mapping: 'vi',
  username,
  password,
  passwordFile: undefined,
  sourceId,
  sourceName,
  vendorCode: 'LOAXA',
  vendorName: 'Loa Xã',
  statusSeconds,
  timeoutMs: 2000,
  maxAnswerBytes: 65_536,
});

async function login(page: Page, base: string): Promise<void> {
  await page.goto(base + '/');
  await page.getByLabel('Tên đăng nhập').fill('admin');
  await page.getByLabel('Mật khẩu').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.getByTestId('whoami').waitFor();
}

/** The page's own width does not exceed the viewport (nothing scrolls sideways but the tables' own wrappers). */
async function noSideScroll(page: Page): Promise<boolean> {
  return page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth + 1');
}

t.test('the page is in the menu of installation-wide province admins only', async (t) => {
  t.ok(navFor('province-admin').includes('national'));
  t.ok(navFor('province-admin', { areaCode: null }).includes('national'));
  t.notOk(navFor('province-admin', { areaCode: '99' }).includes('national'), 'not for an admin bound to an area (the server answers 403)');
  t.notOk(canOpen('province-admin', 'national', { areaCode: '99' }));
  for (const role of ['approver', 'operator', 'viewer'] as const) t.notOk(navFor(role, { areaCode: null }).includes('national'), `not for ${role}`);
});

t.test('a province admin follows the national link: up to the province, a child, sending down — phone and desk', { skip: skip ?? false }, async (t) => {
  const started = Date.now();
  const { chromium } = await import('playwright-core');

  // The province's source system above us: it refuses our first message, then fails.
  const upstream = await startProvince(SHIPPED_MAPPINGS.vi, UPSTREAM_CREDS);
  t.teardown(() => upstream.close());
  upstream.refuse = (r) => (r.kind === 'schedule-ack' && r.body.BanTinId === 'BT-TW-7' ? MOTA : null);
  const centre = await startWebServer(t, { national: linkConfig(upstream.url, UPSTREAM_CREDS.username, UPSTREAM_CREDS.password, '99', 'Tỉnh Mẫu', 3600) });
  const { base, api, token } = centre;
  await importSampleAreas(api, token);
  const link = centre.server.nationalLink!;
  link.ack('BT-TW-7', true, 'inbox');
  await waitFor('the refusal', async () => ((await api<{ refused: number }>('GET', '/api/v1/national/link', undefined, token)).body.refused === 1 ? true : null), 10_000);
  upstream.mode = 'http500';
  link.ack('BT-TW-8', true, 'scheduled');
  await waitFor('the failure', async () => ((await api<{ lastError: string | null; pending: number }>('GET', '/api/v1/national/link', undefined, token)).body.lastError ? true : null), 10_000);

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  const errors: string[] = [];
  const phoneCtx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  const phone = await phoneCtx.newPage();
  phone.on('pageerror', (err) => errors.push(err.message));
  phone.on('dialog', (d) => void d.accept());
  await login(phone, base);
  await phone.getByRole('button', { name: /Trình đơn/ }).click();
  await phone.getByRole('link', { name: 'Liên thông' }).click();
  await phone.waitForURL(/\/lien-thong/);

  // Lên tỉnh: failing, and why; the refused message with the province's MoTa; the waiting one with its error.
  const state = phone.getByTestId('link-state');
  await state.waitFor();
  t.equal(await state.getAttribute('data-tone'), 'bad');
  const stateText = await state.innerText();
  t.match(stateText, /Đang lỗi/, 'the link is failing, in words');
  t.match(stateText, /Không gửi được lên tỉnh từ sau .+\.[\s\S]*Lỗi gần nhất lúc (\d\d:\d\d \d\d\/\d\d\/\d{4}|\d\d\/\d\d\/\d{4},? \d\d:\d\d): .+/, 'since when, in Vietnam time');
  t.notMatch(stateText, /undefined|null/);
  const refused = phone.getByTestId('outbox-refused');
  t.match(await refused.innerText(), new RegExp(`Tỉnh trả lời: “?${MOTA}`), 'the province’s answer (MoTa) is shown on the refused message');
  t.match(await refused.innerText(), /Phản hồi bản tin “BT-TW-7”: đã tiếp nhận \(vào hộp thư xã\)/, 'what was sent');
  const pending = phone.getByTestId('outbox-pending');
  t.match(await pending.innerText(), /BT-TW-8[\s\S]*Lỗi lần thử gần nhất: .+/, 'the waiting message with its last error');
  t.match(await phone.getByTestId('link-counts').innerText(), /1\s+Đang chờ gửi[\s\S]*cũ nhất chờ \d+ (giây|phút)[\s\S]*0\s+Đã gửi[\s\S]*1\s+Tỉnh từ chối/);
  t.ok(await noSideScroll(phone), 'nothing scrolls sideways on the phone');

  // Kết nối: the commune system added as a child; its password is shown once.
  await phone.getByRole('tab', { name: 'Kết nối' }).click();
  await phone.getByRole('button', { name: /Thêm kết nối/ }).click();
  await phone.getByLabel('Tên hệ thống').fill('Hệ thống xã Tân Lập');
  await phone.getByLabel('Mã nguồn (NguonID)').fill('99003');
  await phone.getByLabel('Tên đăng nhập của hệ thống đó').fill('xa-tan-lap');
  await phone.getByLabel('Thêm địa bàn').selectOption('99003');
  await phone.getByRole('button', { name: 'Thêm', exact: true }).click();
  t.match(await phone.getByTestId('peer-areas').innerText(), /Xã Tân Lập/);
  await phone.getByRole('button', { name: 'Thêm kết nối', exact: true }).click();
  const secret = phone.getByTestId('peer-password');
  await secret.waitFor();
  const password = (await secret.innerText()).trim();
  t.ok(password.length >= 16, 'a generated password is shown');
  t.match(await phone.locator('#nat-password').innerText(), /chỉ hiện MỘT LẦN/, 'with the warning that it is shown once');
  t.ok(await phone.getByRole('button', { name: 'Sao chép' }).isVisible(), 'and a copy button');
  const peers = await api<{ items: { id: string; username: string }[] }>('GET', '/api/v1/national/peers', undefined, token);
  t.notOk(JSON.stringify(peers.body).includes(password), 'the API never shows it again');
  const childId = peers.body.items.find((p) => p.username === 'xa-tan-lap')!.id;
  await phone.getByRole('button', { name: 'Tôi đã lưu mật khẩu' }).click();
  t.equal(await secret.count(), 0, 'closed, it is gone');
  await phone.reload();
  await phone.locator('[data-testid=peers] [data-peer=xa-tan-lap]').waitFor();
  t.notOk((await phone.content()).includes(password), 'not on the page after a reload either');
  t.match(await phone.locator('[data-peer=xa-tan-lap]').innerText(), /Cấp dưới[\s\S]*Mã nguồn \(NguonID\): 99003[\s\S]*Xã Tân Lập/);

  // The commune system: reports up to us with that password; knows us as its parent; two boxes.
  const child = await startTestServer(t, { national: linkConfig(`${base}/national`, 'xa-tan-lap', password, '99003', 'Xã Tân Lập', 2) });
  await importSampleAreas(child.api, child.token);
  const sim = await startSimulation({ serverUrl: child.base, count: 2, areaCode: '99003', stateFile: join(child.dataDir, 'sim.json'), logger: pino({ level: 'silent' }), username: 'admin', password: ADMIN_PASSWORD, startSpreadMs: 0 });
  t.teardown(() => sim.stop());
  t.equal(await sim.waitForConnections(10_000), 2);
  const parent = await child.api('POST', '/api/v1/national/peers', { role: 'parent', name: 'Tỉnh Mẫu', sourceId: centre.server.national.self().id, mapping: 'vi', username: 'tinh-mau', areaCodes: ['99003'] }, child.token);
  t.equal(parent.status, 201);
  // Where we send down and how we log in there (the page adds a child with them; this one was added before the child existed).
  t.equal((await api('PUT', `/api/v1/national/peers/${childId}`, { baseUrl: `${child.base}/national`, outUsername: 'tinh-mau', outPassword: parent.body.password }, token)).status, 200);
  await waitFor('the child’s boxes at the centre', async () => {
    const c = (await api<{ items: { boxes: number; online: number }[] }>('GET', '/api/v1/national/children', undefined, token)).body.items[0];
    return c?.boxes === 2 && c.online === 2 ? c : null;
  }, 30_000);

  // Hệ thống cấp dưới: its boxes, online, working coverage, last report.
  await phone.getByRole('tab', { name: 'Hệ thống cấp dưới' }).click();
  const row = phone.locator('[data-testid=children] tr[data-child="99003"]');
  await row.waitFor();
  t.equal((await row.getByTestId('child-boxes').innerText()).replace(/\D/g, ''), '2', 'two boxes');
  t.equal((await row.getByTestId('child-online').innerText()).replace(/\D/g, ''), '2', 'both online');
  t.match(await row.getByTestId('child-coverage').innerText(), /1\/1 xã\s+100%/, 'its one commune with boxes is covered');
  t.notMatch(await row.innerText(), /Quá 15 phút|Chưa báo cáo/, 'its report is fresh');
  t.ok(await noSideScroll(phone), 'the table is cards on the phone');

  // Gửi xuống: an emergency to the child; its answer at once.
  const tone = await uploadTone(base, token, { hz: 500, seconds: 2, title: 'Cảnh báo bão số 9' });
  await phone.getByRole('tab', { name: 'Gửi xuống' }).click();
  await phone.locator('#nat-bulletin').selectOption(tone.id);
  await phone.getByRole('checkbox', { name: /Hệ thống xã Tân Lập/ }).check();
  await phone.getByRole('radio', { name: 'Khẩn cấp' }).check();
  await phone.getByRole('button', { name: 'Gửi xuống', exact: true }).click();
  const answers = phone.getByTestId('send-answers');
  await answers.waitFor({ timeout: 30_000 });
  const sentApi = (await api<{ items: { detail: string; ok: boolean }[] }>('GET', '/api/v1/national/sent', undefined, token)).body.items[0]!;
  t.ok(sentApi.ok, 'the child took it');
  const answerText = await answers.innerText();
  t.match(answerText, /Hệ thống xã Tân Lập[\s\S]*Đã nhận/, 'each child with its answer');
  t.ok(answerText.includes(sentApi.detail), `the child’s answer (MoTa) is shown: ${sentApi.detail}`);
  t.notMatch(answerText, /\b(200|np-[a-z0-9]+)\b/, 'no HTTP code, no id');

  // Later the child says what it did (its schedule-ack) and its boxes report the airings.
  await waitFor('the child’s ack and airings', async () => {
    const s = (await api<{ items: { ack: unknown }[] }>('GET', '/api/v1/national/sent', undefined, token)).body.items[0];
    const c = (await api<{ items: { airings: { ok: number } }[] }>('GET', '/api/v1/national/children', undefined, token)).body.items[0];
    return s?.ack && c?.airings.ok === 2 ? true : null;
  }, 60_000);
  await phone.getByRole('tab', { name: 'Hệ thống cấp dưới' }).click();
  await phone.getByRole('tab', { name: 'Gửi xuống' }).click();
  const sentList = phone.getByTestId('sent-list');
  await sentList.waitFor();
  t.match(await sentList.innerText(), /Cảnh báo bão số 9 → Hệ thống xã Tân Lập[\s\S]*Khẩn cấp[\s\S]*Báo lại lúc .+: đã tiếp nhận/, 'the list of what was sent, with the child’s later word');

  // Tap the child: its as-run.
  await phone.getByRole('tab', { name: 'Hệ thống cấp dưới' }).click();
  await row.waitFor();
  t.match(await row.getByTestId('child-airings').innerText(), /2 thành công · 0 lỗi/);
  await row.getByRole('button', { name: 'Hệ thống xã Tân Lập' }).click();
  const airings = phone.getByTestId('child-airings-list');
  await airings.waitFor();
  const airingItems = await airings.locator('li').allInnerTexts();
  t.equal(airingItems.length, 2, 'one airing per box');
  for (const a of airingItems) t.match(a, /Cảnh báo bão số 9[\s\S]*Phát xong[\s\S]*Xã Tân Lập/);
  await phone.screenshot({ path: join(SCREENSHOTS, 'national-phone.png'), fullPage: true });

  // Nhật ký nhận: a refused login, with why.
  await fetch(`${base}/national${SHIPPED_MAPPINGS.vi.login.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Username: 'xa-tan-lap', Password: 'sai-mat-khau' }) });
  await phone.getByRole('tab', { name: 'Từ cấp trên' }).click();
  await phone.getByText('Chưa nhận bản tin nào từ cấp trên.').waitFor();
  await phone.getByRole('radio', { name: 'Bị từ chối' }).check();
  const refusedLogin = phone.locator('[data-testid=inbound] li[data-accepted=false]').first();
  await refusedLogin.waitFor();
  t.match(await refusedLogin.innerText(), /Đăng nhập[\s\S]*Từ chối[\s\S]*Hệ thống xã Tân Lập[\s\S]*sai tên đăng nhập hoặc mật khẩu/, 'the refused request, whose, and why');
  t.match((await refusedLogin.getAttribute('class')) ?? '', /nat-refused/, 'highlighted');
  await phone.getByRole('radio', { name: 'Tất cả' }).check();
  await phone.locator('[data-testid=inbound] li[data-accepted=true]').first().waitFor();

  // A desk: the children as a table, nothing sideways.
  const desk = await (await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' })).newPage();
  desk.on('pageerror', (err) => errors.push(err.message));
  desk.on('dialog', (d) => void d.accept());
  await login(desk, base);
  await desk.getByRole('link', { name: 'Liên thông' }).click();
  await desk.getByRole('tab', { name: 'Hệ thống cấp dưới' }).click();
  await desk.locator('[data-testid=children] thead').waitFor();
  t.ok(await desk.getByRole('columnheader', { name: 'Xã có loa hoạt động' }).isVisible(), 'column headers on a desk');
  t.match(await desk.locator('tr[data-child="99003"]').innerText(), /Hệ thống xã Tân Lập[\s\S]*2\s+2\s+0\s+1\/1 xã\s+100%\s+2 thành công · 0 lỗi/);
  t.ok(await noSideScroll(desk));

  // Revoked: it can no longer log in, and leaves the list (its history stays).
  await desk.getByRole('tab', { name: 'Kết nối' }).click();
  await desk.locator('[data-peer=xa-tan-lap]').getByRole('button', { name: /Thu hồi/ }).click();
  await desk.getByText('Đã thu hồi kết nối “Hệ thống xã Tân Lập”.').waitFor();
  await desk.locator('[data-peer=xa-tan-lap]').waitFor({ state: 'detached' });
  const relogin = await fetch(`${base}/national${SHIPPED_MAPPINGS.vi.login.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Username: 'xa-tan-lap', Password: password }) });
  t.notMatch(await relogin.text(), /Token/, 'the revoked child cannot log in');

  t.same(errors, [], 'no script errors');
  t.ok(Date.now() - started < 140_000, `done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
