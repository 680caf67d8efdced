/**
 * The bulletin library (issue 20, "find, reuse, copy and edit bulletins and recordings"), on a phone and on a
 * desktop: a commune approver finds a bulletin by a word of its text (never the neighbour commune's, which
 * has the same word), reads and plays it, reopens the search from its link, airs it again through the
 * schedule form compose uses (a broadcast is created and listed), and copies it into compose, edits it and
 * saves it as a new bulletin while the original stays as it was. A recording offers "Phát lại" only.
 * Uses the built app in web/dist and Debian's chromium; skips, saying why, without them.
 */
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser, BrowserContextOptions } from 'playwright-core';
import { importSampleAreas } from '../helpers/server.js';
import { uploadTone } from '../helpers/programmes.js';
import { waitFor } from '../helpers/wait.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, login, REPO, SCREENSHOTS, startWebServer } from './helpers.js';

const skip = browserSkipReason();
t.setTimeout(300_000);

/** The parts of an HTMLAudioElement the test touches (the tests compile without the DOM types). */
interface AudioLike {
  currentTime: number;
  addEventListener(type: string, listener: () => unknown): void;
  play(): Promise<void>;
  pause(): void;
}

const VACCINE_TEXT = 'Trạm y tế xã tiêm vắc-xin sởi cho trẻ em từ 9 tháng tuổi vào sáng thứ Bảy tại nhà văn hoá thôn.';
const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' };
const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 900 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' };

t.test('find, play, reuse, copy and edit a bulletin from the library, on a phone and a desktop', { skip: skip ?? false }, async (t) => {
  const { chromium } = await import('playwright-core');
  const { base, api, token } = await startWebServer(t);
  await importSampleAreas(api, token);
  const user = async (username: string, role: string, areaCode: string) => {
    const password = `mat-khau-${username}-dai`;
    t.equal((await api('POST', '/api/v1/users', { username, password, role, areaCode }, token)).status, 201);
    const tok = (await api<{ token: string }>('POST', '/api/v1/auth/login', { username, password })).body.token;
    return { username, password, token: tok };
  };
  const clerk = await user('thuky-tanlap', 'approver', '99003');
  const neighbour = await user('thuky-xaben', 'operator', '99004');
  t.equal((await api('POST', '/api/v1/devices', { name: 'Loa chợ Tân Lập', areaCode: '99003' }, token)).status, 201);

  const text = async (who: { token: string }, title: string, body: string, category = 'general') => {
    const r = await api<{ id: string }>('POST', '/api/v1/bulletins', { title, text: body, category }, who.token);
    await waitFor(`${title} ready`, async () => ((await api<{ status: string }>('GET', `/api/v1/bulletins/${r.body.id}`, undefined, who.token)).body.status === 'ready' ? true : null), 30_000);
    return r.body.id;
  };
  const vaccine = await text(clerk, 'Lịch tiêm phòng', VACCINE_TEXT, 'knowledge');
  await text(clerk, 'Họp thôn Đông', 'Mời bà con thôn Đông đến nhà văn hoá họp về đường giao thông nông thôn.');
  await text(neighbour, 'Tin xã bên', 'Xã bên cũng tiêm vắc-xin sởi vào chủ nhật.');
  const jingle = await uploadTone(base, clerk.token, { hz: 660, seconds: 2, title: 'Nhạc hiệu xã' });

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());

  /** `earlier`: the copies made by the scenes before, newest first (they hold the same words). */
  const scene = async (t: Test, name: string, options: BrowserContextOptions, added: string, earlier: string[]) => {
    const ctx = await browser.newContext(options);
    t.teardown(() => ctx.close());
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await login(page, base, clerk.username, clerk.password);
    const scripts = new Set<string>();
    page.on('request', (r) => r.url().endsWith('.js') && scripts.add(new URL(r.url()).pathname));
    await page.goto(`${base}/thu-vien`);
    const items = page.getByTestId('library-item');
    await items.first().waitFor();
    // The library is a lazy page: what a phone downloads to open it stays within the 120 KB (gzip) budget.
    const gz = [...scripts].reduce((sum, path) => sum + gzipSync(readFileSync(join(REPO, 'web/dist', path))).length, 0);
    t.ok(gz < 120 * 1024, `the JS to open the library: ${(gz / 1024).toFixed(1)} KB gzipped (${scripts.size} files)`);
    const titles = async () => (await items.locator('.library-title').allInnerTexts()).map((s) => s.trim());
    t.ok((await titles()).includes('Nhạc hiệu xã'), 'the commune’s bulletins and recordings are listed');
    t.notOk((await titles()).includes('Tin xã bên'), 'never the neighbour commune’s');

    // Find by a word of the text (it is not in the title).
    await page.getByLabel('Tìm theo chữ').fill('vắc-xin');
    const matches = [...earlier, 'Lịch tiêm phòng'];
    await waitFor('the matches', async () => ((await titles()).join('|') === matches.join('|') ? true : null), 10_000);
    t.match(await page.getByTestId('library-total').innerText(), new RegExp(`Tìm thấy ${matches.length} bản tin`), 'the total says so');
    await waitFor('the search in the address', () => (decodeURIComponent(new URL(page.url()).search).includes('q=vắc-xin') ? true : null), 5000);
    const item = items.filter({ has: page.getByText('Lịch tiêm phòng', { exact: true }) });
    t.match(await item.getByTestId('library-airings').innerText(), /Chưa phát lần nào/, 'its airings so far');
    await item.getByText('Xem nội dung').click();
    t.equal((await item.getByTestId('library-text').innerText()).trim(), VACCINE_TEXT, 'its text');
    const played = await item.getByTestId('library-audio').evaluate((el) => {
      const a = el as unknown as AudioLike;
      return new Promise<number>((resolve) => {
        a.addEventListener('timeupdate', () => a.currentTime > 0.2 && resolve(a.currentTime));
        a.addEventListener('error', () => resolve(-1));
        setTimeout(() => resolve(a.currentTime), 8000);
        void a.play().catch(() => resolve(-2));
      });
    });
    t.ok(played > 0.2, `it plays (${played} s in)`);
    await item.getByTestId('library-audio').evaluate((el) => (el as unknown as AudioLike).pause());
    if (name === 'phone') await page.screenshot({ path: join(SCREENSHOTS, 'library-phone.png'), fullPage: true });

    // The link reopens the same search.
    await page.goto(page.url());
    await items.first().waitFor();
    t.equal(await page.getByLabel('Tìm theo chữ').inputValue(), 'vắc-xin', 'the link reopens the search');
    t.same(await titles(), matches);

    // A recording: "Phát lại" only.
    await page.getByLabel('Tìm theo chữ').fill('');
    await page.getByTestId('library-loai').selectOption('recording');
    await waitFor('the recording', async () => ((await titles()).join('|') === 'Nhạc hiệu xã' ? true : null), 10_000);
    t.equal(await items.first().getByTestId('library-reuse').count(), 1, 'a recording can be aired again');
    t.equal(await items.first().getByTestId('library-copy').count(), 0, 'but not copied into a text');
    t.equal(await items.first().getAttribute('data-bulletin-id'), jingle.id);

    // Reuse: the schedule form compose uses, on this bulletin.
    await page.getByTestId('library-loai').selectOption('text');
    await page.getByLabel('Tìm theo chữ').fill('vắc-xin');
    await waitFor('the text again', async () => ((await titles()).join('|') === matches.join('|') ? true : null), 10_000);
    const before = (await api<{ items: Array<{ bulletinId: string }> }>('GET', '/api/v1/broadcasts?status=all', undefined, clerk.token)).body.items.filter((b) => b.bulletinId === vaccine).length;
    await item.getByTestId('library-reuse').click();
    const form = page.locator('form.schedule');
    t.match(await form.innerText(), /Lịch tiêm phòng/, 'the schedule form names the bulletin');
    await form.getByLabel('Lọc địa bàn').fill('tan lap');
    await form.getByRole('checkbox', { name: /Xã Tân Lập/ }).check();
    await form.getByRole('button', { name: 'Kiểm tra lịch' }).click();
    await page.getByTestId('check-report').waitFor();
    await form.getByRole('button', { name: 'Phát', exact: true }).click();
    await page.waitForURL(/\/luot-phat\/bc-/);
    const broadcastId = page.url().split('/').pop()!;
    const bc = await api<{ bulletinId: string; status: string }>('GET', `/api/v1/broadcasts/${broadcastId}`, undefined, clerk.token);
    t.equal(bc.body.bulletinId, vaccine, 'a broadcast of this bulletin is created');
    const after = (await api<{ items: Array<{ bulletinId: string }> }>('GET', '/api/v1/broadcasts?status=all', undefined, clerk.token)).body.items.filter((b) => b.bulletinId === vaccine).length;
    t.equal(after, before + 1, 'one more broadcast of it');
    await page.goto(`${base}/luot-phat?q=${encodeURIComponent('tiêm phòng')}`);
    await page.getByTestId('broadcast-item').first().waitFor();
    t.ok((await page.getByTestId('broadcasts-list').locator(`a[href="/luot-phat/${broadcastId}"]`).count()) > 0, 'and listed on the broadcasts page');

    // Copy and edit: compose starts with its title, text and category; saving makes a new bulletin.
    await page.goto(`${base}/thu-vien?q=${encodeURIComponent('vắc-xin')}&loai=text`);
    await item.getByTestId('library-copy').click();
    await page.waitForURL(/\/soan-tin\?chep=/);
    const title = page.locator('input[name=title]');
    const body = page.locator('textarea[name=text]');
    await waitFor('the copy in the form', async () => ((await body.inputValue()) === VACCINE_TEXT ? true : null), 10_000);
    t.equal(await title.inputValue(), 'Lịch tiêm phòng', 'the title copied');
    t.equal(await page.locator('select[name=category]').inputValue(), 'knowledge', 'the category copied');
    await title.fill(`Lịch tiêm phòng (${name})`);
    await body.fill(`${VACCINE_TEXT} ${added}`);
    await page.getByRole('button', { name: 'Tạo bản tin', exact: true }).click();
    await page.getByText(/Bản tin đã sẵn sàng/).waitFor({ timeout: 60_000 });
    const found = await api<{ items: Array<{ id: string; title: string; text: string }> }>('GET', `/api/v1/bulletins?q=${encodeURIComponent(added)}`, undefined, clerk.token);
    t.equal(found.body.items.length, 1, 'a new bulletin with the edited text');
    t.equal(found.body.items[0]!.title, `Lịch tiêm phòng (${name})`);
    t.not(found.body.items[0]!.id, vaccine, 'it is a new one');
    const original = await api<{ title: string; text: string }>('GET', `/api/v1/bulletins/${vaccine}`, undefined, clerk.token);
    t.same([original.body.title, original.body.text], ['Lịch tiêm phòng', VACCINE_TEXT], 'the original is unchanged');

    // Back in the library the copy is found by its new words.
    await page.goto(`${base}/thu-vien?q=${encodeURIComponent(added)}`);
    await waitFor('the copy in the library', async () => ((await titles()).join('|') === `Lịch tiêm phòng (${name})` ? true : null), 10_000);
    t.same(errors, [], 'no script errors in the page');
  };

  await t.test('phone', (t) => scene(t, 'phone', PHONE, 'Mang theo sổ tiêm chủng.', []));
  await t.test('desktop', (t) => scene(t, 'desktop', DESKTOP, 'Phụ huynh đi cùng trẻ.', ['Lịch tiêm phòng (phone)']));

  // A viewer of the province reads and plays the library of every commune below, and is offered no writes.
  await t.test('a viewer', async (t) => {
    const viewer = await user('xem-tinh', 'viewer', '99');
    const ctx = await browser.newContext(PHONE);
    t.teardown(() => ctx.close());
    const page = await ctx.newPage();
    await login(page, base, viewer.username, viewer.password);
    t.ok((await page.locator('a[href="/thu-vien"]').count()) > 0, 'the library is in a viewer’s navigation');
    await page.goto(`${base}/thu-vien?q=${encodeURIComponent('vắc-xin')}`);
    const items = page.getByTestId('library-item');
    await waitFor('both communes’ matches', async () => ((await items.count()) === 4 ? true : null), 10_000);
    t.ok((await items.locator('.library-title').allInnerTexts()).includes('Tin xã bên'), 'the province above finds both communes’ bulletins');
    t.equal(await page.getByTestId('library-audio').count(), 4, 'each with its player');
    t.equal(await page.getByTestId('library-reuse').count(), 0, 'no "Phát lại" for a viewer');
    t.equal(await page.getByTestId('library-copy').count(), 0, 'no "Chép và sửa" for a viewer');
  });
});
