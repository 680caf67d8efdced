/**
 * Issue 20, "province tools in the app", in a real browser on a phone and a desktop: a province admin opens
 * "Cài đặt" and creates an operator for a commune, who then logs in; adds a reading to the dictionary and
 * hears it (the preview is synthesized with the entry and the app's player plays it); sets a slower default
 * rate for the province, after which a bulletin of the same text lasts longer; and offers a bulletin down to
 * two communes, then sees their answers after one accepts it in its inbox.
 * Uses the built app in web/dist and Debian's chromium; skips, saying why, without them.
 */
import t from 'tap';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, login, SCREENSHOTS, startWebServer } from './helpers.js';

const skip = browserSkipReason();
t.setTimeout(300_000);

const TEXT = 'Ủy ban nhân dân xã thông báo lịch tiêm phòng cho đàn gia cầm vào sáng thứ bảy tại nhà văn hóa thôn.';
const VIEWPORTS = [
  { name: 'phone', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
  { name: 'desktop', viewport: { width: 1280, height: 900 }, isMobile: false, hasTouch: false },
] as const;

type Api = Awaited<ReturnType<typeof startWebServer>>['api'];

/** A bulletin of `token`'s, synthesized: its audio's length and speed. */
async function readBulletin(api: Api, token: string, title: string): Promise<{ id: string; durationMs: number; speed: number }> {
  const made = await api<{ id: string }>('POST', '/api/v1/bulletins', { title, text: TEXT }, token);
  return waitFor(`${title} synthesized`, async () => {
    const b = (await api<{ status: string; speed: number; audio: { durationMs: number } | null }>('GET', `/api/v1/bulletins/${made.body.id}`, undefined, token)).body;
    return b.status === 'ready' && b.audio ? { id: made.body.id, durationMs: b.audio.durationMs, speed: b.speed } : null;
  }, 60_000);
}

/** Waits until the `<audio>` plays (time advancing), pressing the player's own button once if the browser held it. */
async function heard(page: Page, audioTestId: string): Promise<number> {
  const audio = page.getByTestId(audioTestId);
  await audio.waitFor({ timeout: 30_000 });
  const read = () => audio.evaluate((a) => ({ t: (a as unknown as { currentTime: number }).currentTime, paused: (a as unknown as { paused: boolean }).paused, d: (a as unknown as { duration: number }).duration }));
  let pressed = false;
  for (const until = Date.now() + 20_000; Date.now() < until; ) {
    const s = await read();
    if (s.t > 0.2) return s.d;
    if (s.paused && !pressed && Date.now() > until - 15_000) {
      pressed = true;
      await audio.locator('xpath=..').getByRole('button', { name: /Nghe thử/ }).click();
    }
    await page.waitForTimeout(100);
  }
  throw new Error(`${audioTestId} did not play`);
}

for (const vp of VIEWPORTS) {
  t.test(`settings on a ${vp.name}: users, dictionary with listening, slower voice, offers and answers`, { skip: skip ?? false }, async (t) => {
    const { chromium } = await import('playwright-core');
    const { base, api, token } = await startWebServer(t);
    await importSampleAreas(api, token);
    t.equal((await api('POST', '/api/v1/users', { username: 'tinh.quantri', password: 'mat-khau-dai-du', role: 'province-admin', areaCode: '99' }, token)).status, 201);
    const provinceToken = (await api<{ token: string }>('POST', '/api/v1/auth/login', { username: 'tinh.quantri', password: 'mat-khau-dai-du' })).body.token;

    const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    t.teardown(() => browser.close());
    const options = { viewport: vp.viewport, deviceScaleFactor: vp.isMobile ? 2 : 1, isMobile: vp.isMobile, hasTouch: vp.hasTouch, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' };
    const page = await (await browser.newContext(options)).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await login(page, base, 'tinh.quantri', 'mat-khau-dai-du');
    await page.getByRole('link', { name: 'Cài đặt' }).first().click().catch(async () => page.goto(base + '/cai-dat'));
    await page.waitForURL(/\/cai-dat/);

    // 1. Users: an operator for Xã Tân Lập, who can then log in.
    await page.getByRole('tab', { name: 'Người dùng' }).click();
    const form = page.getByTestId('new-user');
    await form.getByLabel('Tên đăng nhập').fill('Van Hanh');
    await form.getByLabel(/Mật khẩu/).fill('ngan');
    await form.getByRole('button', { name: 'Tạo tài khoản' }).click();
    await form.getByText(/Tên đăng nhập gồm chữ thường không dấu/).waitFor();
    await form.getByLabel('Tên đăng nhập').fill('vanhanh.tanlap');
    await form.getByRole('button', { name: 'Tạo tài khoản' }).click();
    await form.getByText('Mật khẩu cần ít nhất 10 ký tự.').waitFor();
    await form.getByLabel(/Mật khẩu/).fill('mat-khau-xa-tan-lap');
    await form.getByLabel('Vai trò').selectOption({ label: 'Người vận hành' });
    await form.getByLabel('Địa bàn').selectOption({ label: '\u00a0\u00a0Xã Tân Lập' });
    await form.getByRole('button', { name: 'Tạo tài khoản' }).click();
    await page.getByText('Đã tạo tài khoản “vanhanh.tanlap”. Người dùng đăng nhập được ngay.').waitFor();
    const row = page.locator('[data-testid="users"] tr[data-username="vanhanh.tanlap"]');
    const rowText = await row.innerText();
    t.match(rowText, /Người vận hành/, 'listed with its role in words');
    t.match(rowText, /Xã Tân Lập/, 'and its commune by name');
    t.notMatch(rowText, /\bu_[a-z0-9]|99003/, 'no id or area code');
    // A forgotten password: the admin sets a new one; only the new one opens the account.
    await row.getByRole('button', { name: 'Sửa vanhanh.tanlap' }).click();
    const edit = page.getByTestId('edit-user');
    await edit.getByLabel('Đặt lại mật khẩu').fill('mat-khau-moi-tan-lap');
    await edit.getByRole('button', { name: 'Lưu' }).click();
    await page.getByText('Đã lưu thay đổi của “vanhanh.tanlap”. Phiên đăng nhập cũ của người này đã kết thúc.').waitFor();
    t.equal((await api('POST', '/api/v1/auth/login', { username: 'vanhanh.tanlap', password: 'mat-khau-xa-tan-lap' })).status, 401, 'the old password no longer opens it');
    const commune = await (await browser.newContext(options)).newPage();
    await login(commune, base, 'vanhanh.tanlap', 'mat-khau-moi-tan-lap');
    t.match(await commune.getByTestId('whoami').innerText(), /vanhanh\.tanlap/, 'the new operator logs in');

    // 2. The dictionary: a reading for the province, heard in a sentence.
    await page.getByRole('tab', { name: 'Từ điển đọc' }).click();
    const dict = page.getByTestId('dict-form');
    await dict.getByLabel(/Từ viết/).fill('HTXNN');
    await dict.getByLabel(/Cách đọc/).fill('<b>');
    await dict.getByRole('button', { name: 'Lưu cách đọc' }).click();
    await page.getByText('Cách đọc chỉ gồm chữ và dấu cách, ví dụ “ủy ban nhân dân”.').waitFor();
    await dict.getByLabel(/Cách đọc/).fill('Hợp tác xã nông nghiệp');
    await dict.getByRole('button', { name: 'Lưu cách đọc' }).click();
    await page.getByText('Đã lưu cách đọc “HTXNN”.').waitFor();
    t.equal(await page.getByText('Cách đọc chỉ gồm chữ').count(), 0, 'the earlier error is gone once fixed');
    const entry = page.locator('[data-testid="dict-entries"] tr[data-term="HTXNN"]');
    t.match(await entry.innerText(), /hợp tác xã nông nghiệp/);
    await entry.getByRole('button', { name: /Nghe thử/ }).click();
    const heardS = await heard(page, 'listen-HTXNN-audio');
    t.ok(heardS > 1, `the entry is heard in a sentence (${heardS.toFixed(2)} s)`);
    t.match(await entry.getByTestId('listen-HTXNN').innerText(), /thông báo của hợp tác xã nông nghiệp gửi tới bà con/, 'read with the new entry');
    const src = await page.getByTestId('listen-HTXNN-audio').getAttribute('src');
    t.equal((await page.request.get(base + src)).status(), 200, 'the preview audio is served');

    // 3. The voice: slower for the whole province; a bulletin made afterwards lasts longer.
    const operatorToken = (await api<{ token: string }>('POST', '/api/v1/auth/login', { username: 'vanhanh.tanlap', password: 'mat-khau-moi-tan-lap' })).body.token;
    const before = await readBulletin(api, operatorToken, 'Trước khi đổi tốc độ');
    await page.getByRole('tab', { name: 'Giọng đọc' }).click();
    const voice = page.getByTestId('voice-form');
    t.match(await voice.getByTestId('voice-current').innerText(), /Miền Bắc, 1,00×.*mặc định của hệ thống/);
    await voice.locator('#voice-speed').fill('0.75');
    t.equal(await voice.getByTestId('speed-value').innerText(), '0,75×');
    await voice.getByRole('button', { name: /Nghe thử/ }).click();
    t.ok((await heard(page, 'voice-listen-audio')) > 3, 'the sample is heard at the chosen speed');
    await voice.getByRole('button', { name: 'Lưu giọng đọc' }).click();
    await page.getByText('Đã lưu giọng đọc của Tỉnh Mẫu. Bản tin tạo từ bây giờ dùng giọng này.').waitFor();
    t.match(await voice.getByTestId('voice-current').innerText(), /0,75×.*theo cài đặt của Tỉnh Mẫu/);
    const after = await readBulletin(api, operatorToken, 'Sau khi đổi tốc độ');
    t.equal(after.speed, 0.75, 'the commune’s bulletin takes the province’s speed');
    t.ok(after.durationMs > before.durationMs * 1.15, `slower: ${after.durationMs} ms after, ${before.durationMs} ms before`);
    t.comment(`${vp.name}: the same text lasts ${before.durationMs} ms at 1.00× and ${after.durationMs} ms at 0.75×`);

    // 4. Offers: a ready bulletin of the province to two communes; one accepts in its inbox.
    const offered = await readBulletin(api, provinceToken, 'Lịch tiêm phòng gia cầm');
    await page.getByRole('tab', { name: 'Gửi xuống xã' }).click();
    await page.getByLabel('Chọn bản tin đã sẵn sàng').selectOption(offered.id);
    const offerForm = page.getByTestId('offer-form');
    await offerForm.getByRole('button', { name: 'Gửi' }).click();
    await offerForm.getByText('Chọn ít nhất một xã.').waitFor();
    for (const name of ['Xã Tân Lập', 'Phường Hòa Bình']) {
      await offerForm.getByLabel('Xã nhận').first().selectOption({ label: name });
      await offerForm.getByRole('button', { name: /Thêm/ }).click();
    }
    t.match(await offerForm.getByTestId('offer-chosen').innerText(), /Xã Tân Lập[\s\S]*Phường Hòa Bình/);
    await offerForm.getByRole('button', { name: 'Gửi' }).click();
    await offerForm.getByText('Đã gửi tới 2 xã.').waitFor({ timeout: 15_000 });
    const answers = page.getByTestId('offer-answers');
    await answers.locator('tr[data-area="99001"]').waitFor();
    t.match(await answers.locator('tr[data-area="99003"]').innerText(), /Xã Tân Lập[\s\S]*Chờ xử lý/);
    await page.screenshot({ path: join(SCREENSHOTS, `settings-${vp.name}.png`), fullPage: true });

    await commune.goto(base + '/hop-thu');
    const item = commune.locator('.item-list li').filter({ hasText: 'Lịch tiêm phòng gia cầm' });
    await item.getByRole('button', { name: /Tiếp nhận và phát/ }).click();
    await commune.getByText('Đã tiếp nhận bản tin.').waitFor({ timeout: 15_000 });

    await page.getByRole('button', { name: 'Cập nhật' }).click();
    await waitFor('the answer shown', async () => (/Đã lên lịch/.test(await answers.locator('tr[data-area="99003"]').innerText()) ? true : null), 15_000);
    t.match(await answers.locator('tr[data-area="99001"]').innerText(), /Phường Hòa Bình[\s\S]*Chờ xử lý/, 'the other commune has not answered');
    t.notMatch(await answers.innerText(), /\bof_|\b99\d{3}\b/, 'no offer ids or area codes');
    if (vp.name === 'phone') {
      const wide = await page.evaluate('document.documentElement.scrollWidth > window.innerWidth');
      t.equal(wide, false, 'the page does not scroll sideways on the phone');
    }
    t.same(errors, [], 'no script errors');
  });
}
