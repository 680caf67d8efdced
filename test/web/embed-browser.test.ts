/**
 * Issue 22 in a real browser: a commune portal on another origin embeds the commune's player in an `<iframe>`;
 * it shows the public bulletin that aired, plays it from its button, and tells the portal its height — while a
 * page of the app itself, framed the same way, is refused (`frame-ancestors 'none'`). Then a commune operator
 * finds the snippet on the dashboard and publishes another bulletin with its switch.
 * Uses the built app in web/dist and Debian's chromium; skips, saying why, without them.
 */
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, startWebServer, login } from './helpers.js';

const skip = browserSkipReason();
t.setTimeout(180_000);

const TITLE = 'Lịch tiêm phòng dại cho chó, mèo & "thú cưng"';
const TEXT = 'Trạm y tế xã tiêm vắc-xin phòng dại cho chó, mèo vào sáng thứ Bảy tại nhà văn hóa thôn Đông. Bà con mang theo sổ tiêm.';

t.test('the player works framed by a portal on another origin; the app refuses to be framed; the dashboard publishes', { skip: skip ?? false }, async (t) => {
  const { chromium } = await import('playwright-core');
  const { base, api, token, server } = await startWebServer(t);
  await importSampleAreas(api, token);
  t.equal((await api('POST', '/api/v1/users', { username: 'vanhanh.tanlap', password: 'mat-khau-dai-du', role: 'operator', areaCode: '99003' }, token)).status, 201);
  const opToken = (await api<{ token: string }>('POST', '/api/v1/auth/login', { username: 'vanhanh.tanlap', password: 'mat-khau-dai-du' })).body.token;
  const created = await api<{ id: string }>('POST', '/api/v1/bulletins', { title: TITLE, text: TEXT, public: true }, opToken);
  const second = await api<{ id: string }>('POST', '/api/v1/bulletins', { title: 'Thông báo họp dân thôn Tây', text: 'Tối nay họp dân thôn Tây lúc 19 giờ.' }, opToken);
  // 202 when the machine is busy: synthesis goes on in the background.
  for (const b of [created, second]) await waitFor('synthesized', async () => ((await api<{ status: string }>('GET', `/api/v1/bulletins/${b.body.id}`, undefined, token)).body.status === 'ready' ? true : null), 60_000);
  const box = (await api<{ id: string }>('POST', '/api/v1/devices', { name: 'Loa nhà văn hóa', areaCode: '99003' }, token)).body.id;
  // It aired on the commune's box at 14:05 Vietnam time (the as-run log, as a box's report writes it).
  const at = Date.UTC(2026, 11, 7, 7, 5);
  server.ctx.db.prepare("INSERT INTO broadcasts (id, bulletin_id, priority, target_json, start_at, window_ms, status, media_base_url, created_at) VALUES ('bc-embed', ?, 'normal', '{}', ?, 0, 'approved', '', 0)").run(created.body.id, at);
  server.ctx.db.prepare("INSERT INTO delivery_events (broadcast_id, device_id, occurrence_at, state, at, received_at) VALUES ('bc-embed', ?, ?, 'playing', ?, ?)").run(box, at, at, at);
  server.ctx.events.emit('delivery', { broadcastId: 'bc-embed', deviceId: box, occurrenceAt: at, state: 'playing', at, reason: null });

  // The commune portal: another origin (another port), with the snippet and, for contrast, the app framed.
  const portal = createServer((req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Cổng thông tin xã Tân Lập</title>
<style>body{font-family:sans-serif;margin:0;padding:12px;background:#f3f5f7}h1{font-size:20px}iframe{background:#fff}</style>
<script>window.heights = []; addEventListener('message', function (e) { if (e.data && e.data.loaxaEmbedHeight) window.heights.push([e.origin, e.data.loaxaEmbedHeight]); });</script></head><body>
<h1>Cổng thông tin điện tử xã Tân Lập</h1>
<iframe id="player" src="${base}/xa/99003/nhung" title="Bản tin Xã Tân Lập" width="100%" height="420" style="border:0" loading="lazy"></iframe>
<iframe id="app" src="${base}/tong-quan" width="300" height="100"></iframe>
</body></html>`);
  });
  await new Promise<void>((r) => portal.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => portal.close(() => r())));
  const portalUrl = `http://127.0.0.1:${(portal.address() as AddressInfo).port}/`;

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, '--autoplay-policy=no-user-gesture-required'] });
  t.teardown(() => browser.close());
  const viewports = [
    { name: 'phone', viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
    { name: 'desktop', viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1, isMobile: false, hasTouch: false },
  ];
  for (const v of viewports) {
    const ctx = await browser.newContext({ viewport: v.viewport, deviceScaleFactor: v.deviceScaleFactor, isMobile: v.isMobile, hasTouch: v.hasTouch, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
    const page = await ctx.newPage();
    const errors: string[] = [];
    const refused: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (/frame-ancestors/.test(m.text())) refused.push(m.text());
    });
    await page.goto(portalUrl);
    const frame = page.frameLocator('#player');
    const item = frame.locator('li.bulletin').first();
    await item.waitFor({ timeout: 15_000 });
    t.equal(await frame.locator('h1').innerText(), 'Bản tin Xã Tân Lập', `${v.name}: the player shows inside the portal`);
    t.equal(await item.locator('h2').innerText(), TITLE, 'the public bulletin, its title escaped and shown as written');
    t.match(await item.locator('.meta').innerText(), /Phát lúc 14:05 07\/12\/2026/, 'its air time in Vietnam time');
    t.equal(await frame.locator('li.bulletin').count(), 1, 'only the public one that aired');

    // Play from the button: the audio plays (its time advances) and the button offers to stop.
    await item.getByRole('button', { name: /Nghe bản tin/ }).click();
    // A string, not a function: tsx would add helpers the page does not have (and tests have no DOM types).
    const player = page.frame({ url: /\/xa\/99003\/nhung$/ })!;
    const played = await player.evaluate(`new Promise((ok) => {
      const a = document.querySelector('audio');
      const t0 = Date.now();
      (function tick() {
        if (!a.paused && a.currentTime > 0.2) ok('playing');
        else if (Date.now() - t0 > 20000) ok('paused=' + a.paused + ' t=' + a.currentTime + ' error=' + (a.error && a.error.code));
        else setTimeout(tick, 50);
      })();
    })`);
    t.equal(played, 'playing', 'the bulletin plays from its button');
    t.match(await item.locator('button.play').innerText(), /Dừng/, 'the button now stops');
    t.ok(Number(await player.evaluate("document.querySelector('audio').duration")) > 3, 'the whole bulletin is there');
    await item.locator('button.play').click();
    t.equal(await player.evaluate("document.querySelector('audio').paused"), true, 'and it stops');
    await item.locator('summary').click();
    t.match(await item.locator('.text').innerText(), /vắc-xin phòng dại/, 'its text opens under it');

    const heights = await page.evaluate<Array<[string, number]>>('window.heights');
    t.ok(heights.length > 0 && heights.every(([origin, h]) => origin === base && h > 100), 'the player tells the portal its height');

    // The app itself refuses to be framed by the portal: chromium blocks the frame and says why.
    for (let i = 0; i < 150 && refused.length === 0; i++) await page.waitForTimeout(100);
    t.equal(refused.length, 1, 'one frame refused: the app’s, not the player');
    t.match(refused[0], `Framing '${base}/' violates the following Content Security Policy directive: "frame-ancestors 'none'"`, 'the app’s page is refused in a frame');
    const appFrame = await (await page.$('iframe#app'))!.contentFrame();
    t.notMatch(appFrame?.url() ?? '', base, 'the frame shows the browser’s error page, not the app');
    t.same(errors, [], 'no script errors');
    await page.screenshot({ path: join(SCREENSHOTS, v.name === 'desktop' ? 'embed-player.png' : 'embed-player-phone.png'), fullPage: true });
    await ctx.close();
  }

  // The commune operator finds the snippet on the dashboard and publishes the second bulletin.
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write']);
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await login(page, base, 'vanhanh.tanlap', 'mat-khau-dai-du');
  await page.goto(base + '/tong-quan');
  const card = page.locator('#commune-page');
  await card.waitFor({ timeout: 15_000 });
  t.match(await card.locator('h2').innerText(), 'Trang bản tin của xã');
  const snippet = await card.getByLabel('Mã nhúng cho cổng thông tin của xã').inputValue();
  t.match(snippet, new RegExp(`^<iframe src="${base.replace(/[.]/g, '\\.')}/xa/99003/nhung" title="Bản tin Xã Tân Lập"`), 'the snippet names the commune’s player');
  await card.getByRole('button', { name: 'Sao chép' }).click();
  await card.getByText('Đã sao chép').waitFor({ timeout: 5000 });
  t.equal(await page.evaluate('navigator.clipboard.readText()'), snippet, 'copied as shown');
  const row = card.locator('li', { hasText: 'Thông báo họp dân thôn Tây' });
  await row.getByRole('checkbox').check();
  await card.getByText('Đã công khai “Thông báo họp dân thôn Tây”.').waitFor({ timeout: 10_000 });
  t.equal((await api<{ public: boolean }>('GET', `/api/v1/bulletins/${second.body.id}`, undefined, token)).body.public, true, 'published');
  t.ok(await card.locator('li', { hasText: TITLE }).getByRole('link', { name: 'Liên kết chia sẻ' }).isVisible(), 'a public bulletin has its share link');
  await card.screenshot({ path: join(SCREENSHOTS, 'commune-page-card.png') });
  t.same(errors, [], 'no script errors');
});
