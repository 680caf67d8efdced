/**
 * Issue 20, broken 5, in a real browser: "The commune inbox shows raw English server text, cannot play or read
 * the offered bulletin, and accepts only a single time (no schedule, no choice of boxes)." A commune operator on a
 * phone now reads why an offer waits in Vietnamese, opens the bulletin's text and a player, and accepts it on a
 * daily schedule on two of the commune's three boxes.
 * Uses the built app in web/dist and Debian's chromium; skips, saying why, without them.
 */
import t from 'tap';
import type { Browser } from 'playwright-core';
import { importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, startWebServer, login } from './helpers.js';

const skip = browserSkipReason();
t.setTimeout(180_000);

const TEXT = 'Ủy ban nhân dân xã thông báo lịch tiêm phòng cho gia súc vào sáng thứ bảy tại nhà văn hóa thôn.';

t.test('the inbox plays and shows an offer, says why it waits in Vietnamese, and accepts it on a schedule on chosen boxes', { skip: skip ?? false }, async (t) => {
  const { chromium } = await import('playwright-core');
  const { base, api, token } = await startWebServer(t);
  await importSampleAreas(api, token);
  const boxes: Record<string, string> = {};
  for (const name of ['Loa chợ', 'Loa trường', 'Loa đình']) boxes[name] = (await api<{ id: string }>('POST', '/api/v1/devices', { name, areaCode: '99003' }, token)).body.id;
  t.equal((await api('POST', '/api/v1/users', { username: 'vanhanh.tanlap', password: 'mat-khau-dai-du', role: 'operator', areaCode: '99003' }, token)).status, 201);
  const bulletin = (await api<{ id: string }>('POST', '/api/v1/bulletins', { title: 'Tiêm phòng gia súc', text: TEXT }, token)).body;
  await waitFor('the bulletin synthesized', async () => ((await api<{ status: string }>('GET', `/api/v1/bulletins/${bulletin.id}`, undefined, token)).body.status === 'ready' ? true : null), 60_000);
  const offered = await api<{ items: Array<{ id: string }> }>('POST', `/api/v1/bulletins/${bulletin.id}/offers`, { areaCodes: ['99003'], priority: 'normal', checked: true }, token);
  t.equal(offered.status, 201, 'the province offers it to Tân Lập');
  const offerId = offered.body.items[0]!.id;

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await login(page, base, 'vanhanh.tanlap', 'mat-khau-dai-du');
  await page.goto(base + '/hop-thu');
  const item = page.locator('.item-list li').first();
  await item.getByText('Tiêm phòng gia súc').waitFor({ timeout: 15_000 });
  const shown = await item.innerText();
  t.match(shown, /Tin thường chỉ phát khi xã nhận và xếp lịch \(Thông tư 39\)/, 'why it waits, in Vietnamese');
  t.notMatch(shown, /Circular|offers air|commune accepts/, 'no English server text');

  await item.getByText('Nghe và đọc bản tin').click();
  const content = item.getByTestId('offer-content');
  await content.waitFor({ timeout: 15_000 });
  t.match(await content.innerText(), /lịch tiêm phòng cho gia súc/, 'the bulletin’s text can be read');
  const src = await content.locator('audio').getAttribute('src');
  t.match(src, /^\/media\/[0-9a-f]{64}\?exp=\d+&u=[\w-]+&sig=[\w-]{43}$/, 'and played, with a signed link');
  t.equal((await page.request.get(base + src)).status(), 200, 'the audio is served to the commune');

  // Daily at 06:30 and 17:30 (the form offers 06:00 and 17:00), on two of the three boxes.
  await item.getByRole('radio', { name: 'Hằng ngày' }).check({ force: true });
  await item.getByLabel('Giờ phát 1').fill('06:30');
  await item.getByLabel('Giờ phát 2').fill('17:30');
  t.match(await item.locator('.offer-boxes legend').innerText(), /Phát trên 3\/3 cụm loa của xã/);
  await item.getByRole('checkbox', { name: 'Loa đình' }).uncheck();
  t.match(await item.locator('.offer-boxes legend').innerText(), /Phát trên 2\/3 cụm loa của xã/);
  await item.getByRole('button', { name: /Tiếp nhận và phát/ }).click();
  await page.getByText('Đã tiếp nhận bản tin.').waitFor({ timeout: 15_000 });

  const offer = (await api<{ items: Array<{ id: string; status: string; broadcastId: string | null }> }>('GET', '/api/v1/inbox?status=scheduled', undefined, token)).body.items.find((o) => o.id === offerId)!;
  t.equal(offer.status, 'scheduled', 'the offer is scheduled');
  const cast = (await api<{ schedule: unknown; target: { deviceIds?: string[]; areaCodes?: string[] } }>('GET', `/api/v1/broadcasts/${offer.broadcastId}`, undefined, token)).body;
  t.match(cast.schedule, { kind: 'daily', times: ['06:30', '17:30'] }, 'on the daily schedule chosen');
  t.equal((cast.schedule as { times: string[] }).times.length, 2, 'those two times only');
  t.same([...(cast.target.deviceIds ?? [])].sort(), [boxes['Loa chợ'], boxes['Loa trường']].sort(), 'on the two boxes chosen');
  t.same(errors, [], 'no script errors');
});
