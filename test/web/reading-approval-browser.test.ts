/**
 * Issue 19, "nothing misread in silence", in a real browser on a phone: the approval queue lists what the
 * reader guessed and could not read in a bulletin (text → reading, the rule's Vietnamese name), and "Phê
 * duyệt" stays disabled until "Đã kiểm tra cách đọc" is ticked; the compose preview marks a guessed word
 * apart from unread ones and lists it with its label under the text (phones have no hover).
 * Uses the built app in web/dist and Debian's chromium; skips, saying why, without them.
 */
import t from 'tap';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, startWebServer, login } from './helpers.js';

const skip = browserSkipReason();
t.setTimeout(180_000);

const TEXT = 'Cài ứng dụng Zentrix để nhận tin ☺.';

t.test('an approver on a phone sees the spans to check and approves only after ticking; the preview shows a guess', { skip: skip ?? false }, async (t) => {
  const { chromium } = await import('playwright-core');
  const { base, api, token } = await startWebServer(t);
  await importSampleAreas(api, token);
  t.equal((await api('POST', '/api/v1/devices', { name: 'Loa thôn Đông', areaCode: '99003' }, token)).status, 201);
  for (const [username, role, areaCode] of [['vanhanh.tanlap', 'operator', '99003'], ['duyet.tinh', 'approver', '99']] as const) {
    t.equal((await api('POST', '/api/v1/users', { username, password: 'mat-khau-dai-du', role, areaCode }, token)).status, 201);
  }
  const op = (await api<{ token: string }>('POST', '/api/v1/auth/login', { username: 'vanhanh.tanlap', password: 'mat-khau-dai-du' })).body.token;
  const flagged = (await api<{ id: string }>('POST', '/api/v1/bulletins', { title: 'Cài ứng dụng nhận tin', text: TEXT }, op)).body;
  const plain = (await api<{ id: string }>('POST', '/api/v1/bulletins', { title: 'Lịch họp thôn', text: 'Tối nay họp thôn lúc bảy giờ.' }, op)).body;
  for (const b of [flagged, plain]) {
    await waitFor('the bulletin synthesized', async () => ((await api<{ status: string }>('GET', `/api/v1/bulletins/${b.id}`, undefined, op)).body.status === 'ready' ? true : null), 60_000);
  }
  const startAt = new Date(Date.now() + 3600_000).toISOString();
  const toCheck = (await api<{ id: string; status: string }>('POST', '/api/v1/broadcasts', { bulletinId: flagged.id, target: { areaCodes: ['99003'] }, startAt }, op)).body;
  const clean = (await api<{ id: string; status: string }>('POST', '/api/v1/broadcasts', { bulletinId: plain.id, target: { areaCodes: ['99003'] }, startAt }, op)).body;
  t.equal(toCheck.status, 'submitted');

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  const phoneOptions = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' };
  const page = await (await browser.newContext(phoneOptions)).newPage();
  await login(page, base, 'duyet.tinh', 'mat-khau-dai-du');
  await page.goto(base + '/phe-duyet');
  const cards = page.locator('.approval');
  await cards.first().waitFor();
  const card = cards.filter({ hasText: 'Cài ứng dụng nhận tin' });
  const other = cards.filter({ hasText: 'Lịch họp thôn' });

  // The spans, as the approver reads them.
  const review = card.getByTestId(`reading-${toCheck.id}`);
  await review.waitFor();
  const items = await review.locator('.reading-spans li').allInnerTexts();
  t.equal(items.length, 2, `two spans to check (${items.join(' | ')})`);
  t.match(items[0], /Zentrix → “den trích”.*máy đoán: từ nước ngoài, đoán cách đọc/, 'the guessed word, its reading and its label');
  t.match(items[1], /☺ → .*không đọc được: ký hiệu không đọc được/, 'the unread symbol and its label');
  t.equal(await other.locator('.reading-review').count(), 0, 'a bulletin read without doubt has nothing to check');
  t.notOk(await other.getByRole('button', { name: /Phê duyệt/ }).isDisabled(), 'and is approved as before');

  await page.screenshot({ path: join(SCREENSHOTS, 'approval-reading-phone.png'), fullPage: true });
  const approve = card.getByRole('button', { name: /Phê duyệt/ });
  t.ok(await approve.isDisabled(), '"Phê duyệt" is disabled before the reading is checked');
  const tick = card.getByRole('checkbox', { name: 'Đã kiểm tra cách đọc' });
  await tick.tap();
  t.ok(await tick.isChecked());
  t.notOk(await approve.isDisabled(), 'ticked: it can be approved');
  await tick.tap();
  t.ok(await approve.isDisabled(), 'unticked again: it cannot');
  await tick.tap();
  await approve.tap();
  await page.getByText('Đã phê duyệt.').waitFor();
  t.equal((await api<{ status: string }>('GET', `/api/v1/broadcasts/${toCheck.id}`, undefined, token)).body.status, 'approved');
  await other.getByRole('button', { name: /Phê duyệt/ }).tap();
  await waitFor('the clean one approved', async () => ((await api<{ status: string }>('GET', `/api/v1/broadcasts/${clean.id}`, undefined, token)).body.status === 'approved' ? true : null), 10_000);
  t.pass('the one without spans approved without the tick');

  // The compose preview on the operator's phone: the guessed word marked apart and listed with its label.
  const compose = await (await browser.newContext(phoneOptions)).newPage();
  await login(compose, base, 'vanhanh.tanlap', 'mat-khau-dai-du');
  await compose.waitForURL(/\/soan-tin$/);
  await compose.getByLabel('Tiêu đề').fill('Thử cách đọc');
  await compose.getByLabel('Nội dung').fill(TEXT);
  await compose.getByRole('button', { name: /Nghe thử/ }).first().tap();
  await compose.getByTestId('reading').waitFor({ timeout: 60_000 });
  const guessed = compose.locator('[data-testid=highlighted] mark.hl-guessed');
  t.same(await guessed.evaluateAll((els) => els.map((e) => e.firstChild?.textContent ?? '')), ['Zentrix'], 'the guessed word is marked as a guess');
  t.match(await guessed.first().getAttribute('title'), /đoán đọc là “den trích” \(từ nước ngoài, đoán cách đọc\)/, 'its label, for a mouse');
  t.same(await compose.locator('[data-testid=highlighted] mark.hl-unread').evaluateAll((els) => els.map((e) => e.firstChild?.textContent ?? '')), ['☺'], 'the unread symbol apart');
  const listed = await compose.getByTestId('preview-spans').locator('li').allInnerTexts();
  t.match(listed.join('\n'), /Zentrix → “den trích” · máy đoán: từ nước ngoài, đoán cách đọc/, 'and under the text, for a phone');
  await compose.screenshot({ path: join(SCREENSHOTS, 'compose-reading-phone.png'), fullPage: true });
});
