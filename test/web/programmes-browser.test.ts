/**
 * Programmes in the web app, in chromium on a phone against a real server (issue 15 § Programmes: "built in
 * the web app (add, reorder, remove; total duration shown; listen to the whole programme before saving),
 * stored with a version, scheduled … targeted and approved like a broadcast"). An operator of a commune
 * builds a programme of four items — a ready bulletin, a pause, a relay segment of a real MP3 stream made by
 * ffmpeg on this machine (test/helpers/streams.ts), the built-in bell — is told in Vietnamese, on the item,
 * what is missing; reorders with the arrows, removes and re-adds an item; listens to the whole programme (the
 * player's length matches what the page announces); saves (Phiên bản 1), edits (Phiên bản 2, with both in
 * the history, the old one readable); then "Phát chương trình" opens the usual schedule panel on it and the
 * broadcast waits for approval like any other. Two refusals of the server are shown where they belong: a
 * source deleted meanwhile (on the relay item), and an edit of an approved programme (409, saved as a copy);
 * on a desktop an item is dragged to the top. Second scene: a simulated box (the real agent) airs a programme
 * of a bulletin, a pause and the intro bell (made again for this server: the first scene's server made it too); the live page follows it item by item from the SSE
 * `programme-item` events, and the reports page opens the airing to its items. About 10 s each here. The one
 * screenshot (programme-phone.png) goes to the temp dir unless LOAXA_SCREENSHOTS_DIR says otherwise.
 * Uses the built app in web/dist and skips, saying why, without it or without chromium.
 */
import t from 'tap';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Browser, Page } from 'playwright-core';
import { startSimulation } from '../../firmware-sim/src/index.js';
import { ADMIN_PASSWORD, importSampleAreas } from '../helpers/server.js';
import { ffmpegBin, startToneStream } from '../helpers/streams.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, startWebServer } from './helpers.js';

const skip = browserSkipReason();
t.setTimeout(120_000);

const PASSWORD = 'mat-khau-du-dai';
/** The built-in bell (server/src/audio/chime.ts) and the preview's stand-in for a relay segment, roughly. */
const BELL_S = 2.44;
const MARKER_S = 1.5;

async function login(page: Page, base: string, username: string, password = PASSWORD): Promise<void> {
  await page.goto(base + '/');
  await page.getByLabel('Tên đăng nhập').fill(username);
  await page.getByLabel('Mật khẩu').fill(password);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.getByTestId('whoami').waitFor();
}

/** The kinds of the builder's items, in order, as the page shows them. */
async function kinds(page: Page): Promise<string[]> {
  return page.locator('[data-testid=programme-items] fieldset.programme-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-kind') ?? ''));
}

t.test('an operator builds, hears, saves, edits and schedules a programme — on a phone, in chromium', { skip: skip ?? false }, async (t) => {
  const started = Date.now();
  const { chromium } = await import('playwright-core');
  const { base, api, token } = await startWebServer(t, { sourceCheckSeconds: 0 });
  await importSampleAreas(api, token);
  t.equal((await api('POST', '/api/v1/users', { username: 'vanhanh.tanlap', password: PASSWORD, role: 'operator', areaCode: '99003' }, token)).status, 201);
  t.equal((await api('POST', '/api/v1/devices', { name: 'Cụm loa Tân Lập 1', areaCode: '99003' }, token)).status, 201);
  const opToken = (await api<{ token: string }>('POST', '/api/v1/auth/login', { username: 'vanhanh.tanlap', password: PASSWORD })).body.token;

  // A ready bulletin of the commune, scheduled once already (the builder's picker finds bulletins through
  // the commune's broadcasts: the API has no list of bulletins).
  const bt = await api<{ id: string }>('POST', '/api/v1/bulletins', { title: 'Lịch tiêm chủng', text: 'Trạm y tế xã tiêm chủng cho trẻ em vào sáng thứ Bảy.', category: 'general' }, opToken);
  let bulletinMs = 0;
  for (const until = Date.now() + 30_000; Date.now() < until; await new Promise((r) => setTimeout(r, 300))) {
    const b = await api<{ status: string; audio: { durationMs: number } | null }>('GET', `/api/v1/bulletins/${bt.body.id}`, undefined, opToken);
    if (b.body.status === 'ready' && b.body.audio) {
      bulletinMs = b.body.audio.durationMs;
      break;
    }
  }
  t.ok(bulletinMs > 0, `the bulletin is ready (${bulletinMs} ms)`);
  const earlier = await api('POST', '/api/v1/broadcasts', { bulletinId: bt.body.id, target: { areaCodes: ['99003'] }, schedule: { kind: 'weekly', weekdays: [6], times: ['07:00'] } }, opToken);
  t.equal(earlier.status, 201);
  const tone = await startToneStream(t, { format: 'mp3' });
  const source = await api<{ id: string }>('POST', '/api/v1/sources', { name: 'VOV1 (thử)', urls: [tone.url], areaCode: null }, token);
  t.equal(source.status, 201);
  // A second source, deleted by the admin while the operator builds: the server's refusal lands on the item.
  const doomed = await api<{ id: string }>('POST', '/api/v1/sources', { name: 'Đài cũ', urls: [`${tone.url}?cu`], areaCode: null }, token);
  t.equal(doomed.status, 201);

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await login(page, base, 'vanhanh.tanlap');
  await page.getByRole('button', { name: /Trình đơn/ }).click();
  await page.getByRole('link', { name: 'Chương trình' }).click();
  await page.waitForURL(/\/chuong-trinh$/);
  await page.getByText('Chưa có chương trình nào.').waitFor();
  await page.getByRole('link', { name: /Tạo chương trình/ }).click();
  await page.getByRole('heading', { name: 'Chương trình mới' }).waitFor();

  // Four items: a bulletin, a pause, a relay segment, the built-in bell. Saving with nothing chosen says
  // what is missing, on the item.
  await page.getByLabel('Tên chương trình').fill('Phát thanh xã tối thứ Bảy');
  for (const add of ['+ Bản tin', '+ Khoảng lặng', '+ Tiếp sóng', '+ Nhạc hiệu']) await page.getByRole('button', { name: add }).click();
  t.same(await kinds(page), ['bulletin', 'pause', 'relay', 'chime']);
  await page.getByRole('button', { name: 'Lưu chương trình' }).click();
  const item1 = page.getByRole('group', { name: 'Mục 1: Bản tin' });
  await item1.getByText('Chọn bản tin.').waitFor();
  t.match(await page.getByRole('group', { name: 'Mục 3: Tiếp sóng' }).innerText(), /Chọn nguồn tiếp sóng\./, 'each item says what it lacks');
  const bulletinSelect = item1.getByLabel('Bản tin');
  await bulletinSelect.locator(`option[value="${bt.body.id}"]`).waitFor({ state: 'attached' });
  await bulletinSelect.selectOption(bt.body.id);
  const relay = page.getByRole('group', { name: 'Mục 3: Tiếp sóng' });
  await relay.getByLabel('Nguồn tiếp sóng').selectOption(doomed.body.id);
  await relay.getByLabel('Số phút tiếp sóng').fill('2');
  await page.getByRole('group', { name: 'Mục 2: Khoảng lặng' }).getByLabel('Thời lượng lặng (giây)').fill('3');
  const total = page.getByTestId('programme-total');
  const expectedS = bulletinMs / 1000 + 3 + 120 + BELL_S;
  t.match(await total.innerText(), /Tổng thời lượng: \d+ phút/, `the total: ${await total.innerText()} (≈ ${expectedS.toFixed(1)} s)`);

  // Open-ended: "until 18:30" shows in the total, then back to 2 minutes.
  await relay.getByRole('radio', { name: 'Đến giờ' }).check();
  await relay.getByLabel('Tiếp sóng đến (giờ:phút)').fill('18:30');
  await total.filter({ hasText: 'tiếp sóng đến 18:30' }).waitFor();
  await relay.getByRole('radio', { name: 'Số phút' }).check();
  await total.filter({ hasNotText: '18:30' }).waitFor();

  // Reorder with the arrows: the bell first; remove the pause and add it back, then move it after the bulletin.
  for (let n = 4; n > 1; n--) await page.getByRole('button', { name: `Đưa mục ${n} lên trước` }).click();
  t.same(await kinds(page), ['chime', 'bulletin', 'pause', 'relay'], 'the bell moved to the top');
  await page.getByRole('button', { name: 'Bỏ mục 3' }).click();
  t.same(await kinds(page), ['chime', 'bulletin', 'relay'], 'the pause removed');
  await page.getByRole('button', { name: '+ Khoảng lặng' }).click();
  await page.getByRole('group', { name: 'Mục 4: Khoảng lặng' }).getByLabel('Thời lượng lặng (giây)').fill('3');
  await page.getByRole('button', { name: 'Đưa mục 4 lên trước' }).click();
  t.same(await kinds(page), ['chime', 'bulletin', 'pause', 'relay'], 'and re-added after the bulletin');
  t.equal(await page.getByRole('group', { name: 'Mục 2: Bản tin' }).getByLabel('Bản tin').inputValue(), bt.body.id, 'items keep their fields when moved');

  // The whole programme, heard before saving: the relay segment is a marker, the player's length is the
  // announced one.
  await page.getByRole('button', { name: /Nghe thử cả chương trình/ }).click();
  const audio = page.getByTestId('programme-preview');
  await audio.waitFor({ timeout: 60_000 });
  // The test's own types have no DOM: the element is read as the little it is asked for.
  const durationOf = () => audio.evaluate((a) => (a as unknown as { duration: number }).duration);
  for (const until = Date.now() + 20_000; !(Number.isFinite(await durationOf()) && (await durationOf()) > 0) && Date.now() < until; ) await page.waitForTimeout(100);
  const heardS = await durationOf();
  const previewS = BELL_S + bulletinMs / 1000 + 3 + MARKER_S;
  t.ok(Math.abs(heardS - previewS) < 3, `the preview plays ${heardS.toFixed(2)} s, expected ≈ ${previewS.toFixed(2)} s`);
  t.match(await page.locator('#programme-preview-hint').innerText(), /Bản nghe thử dài khoảng/);

  // The source chosen is deleted meanwhile: the server refuses the save, and says so on the relay item.
  t.equal((await api('DELETE', `/api/v1/sources/${doomed.body.id}`, undefined, token)).status, 204);
  await page.getByRole('button', { name: 'Lưu chương trình' }).click();
  const relayItem = page.getByRole('group', { name: 'Mục 4: Tiếp sóng' });
  await relayItem.getByText('Không tìm thấy nguồn tiếp sóng này ở địa bàn của bạn.').waitFor();
  t.equal(await relayItem.getByLabel('Nguồn tiếp sóng').getAttribute('aria-invalid'), 'true', 'the field is marked');
  await relayItem.getByLabel('Nguồn tiếp sóng').selectOption(source.body.id);

  // Saved: version 1; the address now names the programme.
  await page.getByRole('button', { name: 'Lưu chương trình' }).click();
  await page.getByText('Đã lưu: Phiên bản 1.').waitFor();
  await page.waitForURL(/\/chuong-trinh\?ma=/);
  const id = new URL(page.url()).searchParams.get('ma')!;
  const v1 = await api<{ version: number; items: { input: unknown }[] }>('GET', `/api/v1/programmes/${id}`, undefined, opToken);
  t.equal(v1.body.version, 1);
  t.same(
    v1.body.items.map((i) => i.input),
    [{ kind: 'chime', bell: 'intro' }, { kind: 'bulletin', bulletinId: bt.body.id }, { kind: 'pause', durationMs: 3000 }, { kind: 'relay', sourceId: source.body.id, durationMs: 120_000 }],
    'stored in the order chosen',
  );

  // An edit makes version 2; the history lists both, the first readable as it was.
  await page.getByRole('group', { name: 'Mục 3: Khoảng lặng' }).getByLabel('Thời lượng lặng (giây)').fill('5');
  await page.getByText('Có thay đổi chưa lưu.').waitFor();
  t.ok(await page.getByRole('button', { name: /Phát chương trình/ }).isDisabled(), 'changes are saved before broadcasting');
  await page.getByRole('button', { name: 'Lưu chương trình' }).click();
  await page.getByText('Đã lưu: Phiên bản 2.').waitFor();
  t.match(await page.getByTestId('programme-version').innerText(), /Phiên bản 2/);
  const versions = page.getByTestId('programme-versions');
  // Both rows, not just the first: the list is read again after the save and may show version 1 a moment first.
  await versions.locator('li[data-version="1"]').waitFor();
  await versions.locator('li[data-version="2"]').waitFor();
  t.equal(await versions.locator('li').count(), 2, 'two versions');
  t.match(await versions.locator('li[data-version="2"]').innerText(), /vanhanh\.tanlap · 4 mục/, 'who saved it, and what');
  await versions.locator('li[data-version="1"]').getByRole('button', { name: /Xem/ }).click();
  const old = page.getByRole('region', { name: 'Phiên bản 1 (chỉ xem)' });
  await old.locator('li').first().waitFor();
  t.equal(await old.locator('li').count(), 4, 'version 1 read-only, with its four items');
  await page.screenshot({ path: join(SCREENSHOTS, 'programme-phone.png'), fullPage: true });

  // Broadcast: the usual schedule panel, with the programme chosen; daily at 18:00 on the commune.
  await page.getByRole('button', { name: /Phát chương trình/ }).click();
  await page.getByRole('heading', { name: 'Lên lịch phát' }).waitFor();
  t.match(await page.locator('form.schedule').innerText(), /Phát thanh xã tối thứ Bảy/, 'the programme is the bulletin scheduled');
  await page.getByRole('radio', { name: 'Hằng ngày' }).check();
  await page.getByLabel('Giờ phát 1').fill('18:00');
  await page.getByRole('button', { name: 'Bỏ giờ 17:00' }).click();
  await page.getByRole('checkbox', { name: /Xã Tân Lập/ }).check();
  await page.getByRole('button', { name: 'Kiểm tra lịch' }).click();
  await page.getByTestId('check-report').waitFor();
  await page.getByRole('button', { name: 'Gửi phê duyệt' }).click();
  await page.waitForURL(/\/luot-phat\/bc-/);
  const bcId = page.url().split('/').pop()!;
  const bc = await api<{ status: string; bulletinId: string; schedule: unknown; target: unknown }>('GET', `/api/v1/broadcasts/${bcId}`, undefined, token);
  t.equal(bc.body.bulletinId, id, 'the broadcast airs the programme');
  t.equal(bc.body.status, 'submitted', 'an operator’s programme waits for approval like any broadcast');
  t.match(bc.body.schedule, { kind: 'daily', times: ['18:00'] });
  t.same(bc.body.target, { areaCodes: ['99003'] });

  // Approved, it may no longer be changed by an operator (409): the page says why and offers a copy.
  t.equal((await api('POST', `/api/v1/broadcasts/${bcId}/approve`, {}, token)).status, 200);
  await page.goto(`${base}/chuong-trinh?ma=${id}`);
  await page.getByRole('group', { name: 'Mục 3: Khoảng lặng' }).getByLabel('Thời lượng lặng (giây)').fill('4');
  await page.getByRole('button', { name: 'Lưu chương trình' }).click();
  await page.getByText('đã có lượt phát được duyệt sắp tới', { exact: false }).waitFor();
  await page.getByRole('button', { name: 'Lưu thành bản sao' }).click();
  await page.getByRole('heading', { name: 'Chương trình “Phát thanh xã tối thứ Bảy (bản sao)”' }).waitFor();
  await page.getByText('Đã lưu: Phiên bản 1.').waitFor();
  const copyId = new URL(page.url()).searchParams.get('ma')!;
  t.not(copyId, id, 'a new programme');
  t.equal((await api<{ version: number }>('GET', `/api/v1/programmes/${id}`, undefined, opToken)).body.version, 2, 'the approved one is unchanged');

  // The list shows it: title, items, length, version.
  await page.goto(`${base}/chuong-trinh`);
  const row = page.locator(`[data-testid=programmes] li[data-programme="${id}"]`);
  await row.waitFor();
  t.match(await row.innerText(), /Phát thanh xã tối thứ Bảy[\s\S]*4 mục[\s\S]*Phiên bản 2/);

  // On a desktop, an item is also dragged by its heading to another place.
  const desk = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' })).newPage();
  desk.on('pageerror', (err) => errors.push(err.message));
  await login(desk, base, 'vanhanh.tanlap');
  await desk.goto(`${base}/chuong-trinh?ma=${copyId}`);
  await desk.getByRole('group', { name: 'Mục 4: Tiếp sóng' }).waitFor();
  t.same(await kinds(desk), ['chime', 'bulletin', 'pause', 'relay']);
  await desk.locator('.programme-row').nth(3).locator('.item-head strong').dragTo(desk.locator('.programme-row').nth(0));
  t.same(await kinds(desk), ['relay', 'chime', 'bulletin', 'pause'], 'the relay segment dragged to the top');

  t.same(errors, [], 'no script errors in the page');
  t.ok(Date.now() - started < 90_000, `done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

t.test('a programme on the air: the live page follows each box item by item; the reports list its items', { skip: skip ?? false }, async (t) => {
  const started = Date.now();
  const { chromium } = await import('playwright-core');
  const { base, api, token, dataDir } = await startWebServer(t, { sourceCheckSeconds: 0 });
  await importSampleAreas(api, token);
  // A simulated box running the real agent (its player decodes the files and counts what it plays).
  const sim = await startSimulation({
    serverUrl: base, count: 1, areaCode: '99003', stateFile: join(dataDir, 'sim.json'), logger: pino({ level: 'silent' }),
    username: 'admin', password: ADMIN_PASSWORD, startSpreadMs: 0, agentConfig: { ffmpegPath: ffmpegBin() },
  });
  t.teardown(() => sim.stop());
  t.equal(await sim.waitForConnections(10_000), 1, 'the box is connected');
  const bt = await api<{ id: string }>('POST', '/api/v1/bulletins', { title: 'Lịch họp thôn', text: 'Tối nay họp thôn lúc bảy giờ.', category: 'general' }, token);
  for (let until = Date.now() + 30_000; Date.now() < until; await new Promise((r) => setTimeout(r, 300))) {
    if ((await api<{ status: string }>('GET', `/api/v1/bulletins/${bt.body.id}`, undefined, token)).body.status === 'ready') break;
  }
  const programme = await api<{ id: string }>('POST', '/api/v1/programmes', { title: 'Chương trình ngắn', items: [{ kind: 'bulletin', bulletinId: bt.body.id }, { kind: 'pause', durationMs: 1000 }, { kind: 'chime', bell: 'intro' }] }, token);
  t.equal(programme.status, 201);
  const cast = await api<{ id: string }>('POST', '/api/v1/broadcasts', { bulletinId: programme.body.id, target: { areaCodes: ['99003'] } }, token);
  t.equal(cast.status, 201, 'aired now on the commune');

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' })).newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await login(page, base, 'admin', ADMIN_PASSWORD);
  await page.goto(`${base}/luot-phat/${cast.body.id}`);
  const live = page.locator('#programme-live');
  await live.waitFor();
  t.match(await live.innerText(), /Lịch họp thôn[\s\S]*Khoảng lặng[\s\S]*Chuông mở đầu/, 'the programme’s items');
  // From the SSE `programme-item` events: the box reaches the last item and plays it to the end.
  await live.locator('[data-testid=programme-now] li[data-state=played]').filter({ hasText: 'mục 3' }).waitFor({ timeout: 30_000 });
  t.match(await live.locator('[data-testid=programme-now] li').innerText(), /mục 3 — Chuông mở đầu \(Đã phát\)/);

  await page.getByRole('link', { name: 'Báo cáo' }).click();
  await page.getByRole('button', { name: 'Xem báo cáo' }).click();
  const runs = page.locator('#programme-report [data-testid=programme-runs] li');
  await runs.first().waitFor();
  t.match(await runs.first().locator('summary').innerText(), /Chương trình ngắn[\s\S]*3\/3 mục đã phát[\s\S]*phiên bản 1/);
  await runs.first().locator('summary').click();
  const rows = runs.first().locator('[data-testid=programme-run-items] tbody tr');
  t.equal(await rows.count(), 3, 'one row per item');
  t.same(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-state'))), ['played', 'played', 'played']);

  t.same(errors, [], 'no script errors in the page');
  t.ok(Date.now() - started < 60_000, `done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
