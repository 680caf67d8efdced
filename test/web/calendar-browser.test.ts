/**
 * The week calendar (issue 20) in a real browser: on a phone, a commune approver taps an airing of next week
 * and moves it (a time in the past is refused in Vietnamese first), and the calendar shows it at its new time;
 * on a desktop, a province approver picks the commune, drags an airing to another day and time, then cancels
 * the whole series. Uses the built app in web/dist and Debian's chromium; skips, saying why, without them.
 */
import t from 'tap';
import { join } from 'node:path';
import type { Browser, Dialog } from 'playwright-core';
import { importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, startWebServer, login } from './helpers.js';

const skip = browserSkipReason();
t.setTimeout(180_000);

const DAY = 86_400_000;
const VN = 7 * 3600_000;
/** Monday 00:00 (Vietnam time) of next week. */
function nextMonday(): number {
  const day = Math.floor((Date.now() + VN) / DAY);
  const weekday = (new Date(day * DAY).getUTCDay() + 6) % 7;
  return (day - weekday + 7) * DAY - VN;
}
const dmy = (ms: number) => new Date(ms + VN).toISOString().slice(0, 10).split('-').reverse().join('/');

interface Item { broadcastId: string; occurrenceAt: string; startAt: string; status: string; movedFrom?: string }

t.test('the week calendar on a phone and a desktop', { skip: skip ?? false }, async (t) => {
  const { chromium } = await import('playwright-core');
  const { base, api, token } = await startWebServer(t);
  await importSampleAreas(api, token);
  t.equal((await api('POST', '/api/v1/devices', { name: 'Loa chợ Tân Lập', areaCode: '99003' }, token)).status, 201);
  for (const [username, areaCode] of [['duyet.xa', '99003'], ['duyet.tinh', '99']] as const) {
    t.equal((await api('POST', '/api/v1/users', { username, password: 'mat-khau-dai-du', role: 'approver', areaCode }, token)).status, 201);
  }
  const mk = async (title: string, priority: string, times: string[]) => {
    const bl = (await api<{ id: string }>('POST', '/api/v1/bulletins', { title, text: `${title} của xã Tân Lập.` }, token)).body;
    const b = await api<{ id: string }>('POST', '/api/v1/broadcasts', { bulletinId: bl.id, priority, target: { areaCodes: ['99003'] }, schedule: { kind: 'daily', times } }, token);
    t.equal(b.status, 201);
    return b.body.id;
  };
  const morning = await mk('Bản tin sáng', 'normal', ['08:00']);
  const vaccines = await mk('Lịch tiêm phòng', 'priority', ['17:00']);
  const monday = nextMonday();
  const week = async () => (await api<{ items: Item[] }>('GET', `/api/v1/calendar?areaCode=99003&from=${new Date(monday).toISOString()}&to=${new Date(monday + 7 * DAY).toISOString()}`, undefined, token)).body.items;

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());

  await t.test('phone: tap an airing, move it, see it at its new time', async (t) => {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
    t.teardown(() => ctx.close());
    const page = await ctx.newPage();
    await login(page, base, 'duyet.xa', 'mat-khau-dai-du');
    await page.goto(`${base}/lich-phat`);
    await page.getByRole('heading', { name: 'Lịch phát sóng' }).waitFor();
    await page.getByRole('button', { name: 'Tuần sau ›' }).click();
    const wednesday = monday + 2 * DAY;
    await page.getByRole('heading', { name: `Thứ Tư ${dmy(wednesday).slice(0, 5)}` }).waitFor();
    const airing = page.locator(`[data-broadcast="${morning}"][data-start="${new Date(wednesday + 8 * 3600_000).toISOString()}"]`);
    await airing.waitFor();
    t.match(await airing.innerText(), /08:00[\s\S]*Thông thường[\s\S]*Bản tin sáng/, 'time, priority word and title');
    t.equal(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), true, 'no sideways scrolling');
    await airing.tap();
    const sheet = page.getByRole('dialog', { name: 'Bản tin sáng' });
    await sheet.waitFor();
    for (const name of ['Dời giờ lượt này', 'Hủy lượt này', 'Hủy cả chuỗi', 'Mở lượt phát']) t.equal(await sheet.getByText(name, { exact: true }).count(), 1, `the sheet offers "${name}"`);
    await sheet.getByRole('button', { name: 'Dời giờ lượt này' }).tap();
    // A time gone by is refused by the server, and said in Vietnamese.
    await sheet.getByLabel('Ngày mới (dd/mm/yyyy)').fill(dmy(Date.now() - 2 * DAY));
    await sheet.getByRole('button', { name: 'Dời', exact: true }).tap();
    await sheet.getByText('Giờ mới đã qua; hãy chọn một thời điểm sắp tới.').waitFor();
    await sheet.getByLabel('Ngày mới (dd/mm/yyyy)').fill(dmy(wednesday));
    await sheet.getByLabel('Giờ mới (HH:mm)').fill('10:30');
    await sheet.getByRole('button', { name: 'Dời', exact: true }).tap();
    await page.getByText(`Đã dời lượt này sang 10:30 Thứ Tư ${dmy(wednesday).slice(0, 5)}.`).waitFor();
    const moved = page.locator(`[data-broadcast="${morning}"][data-start="${new Date(wednesday + 10.5 * 3600_000).toISOString()}"]`);
    await moved.waitFor();
    t.match(await moved.innerText(), /10:30[\s\S]*Bản tin sáng[\s\S]*Đã lên lịch/, 'the calendar shows it at 10:30');
    t.match(await page.locator(`[data-broadcast="${morning}"][data-start="${new Date(wednesday + 8 * 3600_000).toISOString()}"]`).innerText(), /Đã dời đi/, 'its old place says it moved');
    const items = await week();
    t.same(items.find((i) => i.startAt === new Date(wednesday + 10.5 * 3600_000).toISOString())?.movedFrom, new Date(wednesday + 8 * 3600_000).toISOString(), 'the server has it at 10:30');
    await page.screenshot({ path: join(SCREENSHOTS, 'calendar-phone.png'), fullPage: false });
  });

  await t.test('desktop: pick the commune, drag an airing to another day and time, cancel the whole series', async (t) => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
    t.teardown(() => ctx.close());
    const page = await ctx.newPage();
    const asked: string[] = [];
    page.on('dialog', (d: Dialog) => {
      asked.push(d.message());
      void d.accept();
    });
    await login(page, base, 'duyet.tinh', 'mat-khau-dai-du');
    await page.goto(`${base}/lich-phat`);
    await page.getByLabel('Địa bàn').selectOption('99003');
    await page.getByRole('button', { name: 'Tuần sau ›' }).click();
    const thursday = monday + 3 * DAY;
    const friday = monday + 4 * DAY;
    const airing = page.locator(`[data-broadcast="${morning}"][data-start="${new Date(thursday + 8 * 3600_000).toISOString()}"]`);
    await airing.waitFor();
    const from = (await airing.boundingBox())!;
    const column = (await page.locator(`[data-day-body="${friday}"]`).boundingBox())!;
    // Held 5 px under its top; dropped with its top at 10:00 on Friday (36 px an hour).
    await page.mouse.move(from.x + from.width / 2, from.y + 5);
    await page.mouse.down();
    const toX = column.x + column.width / 2;
    const toY = column.y + 10 * 36 + 5;
    await page.mouse.move((from.x + toX) / 2, (from.y + toY) / 2, { steps: 5 });
    await page.mouse.move(toX, toY, { steps: 5 });
    await page.mouse.up();
    const sheet = page.getByRole('dialog', { name: 'Bản tin sáng' });
    await sheet.getByText(`Dời lượt phát sang 10:00 Thứ Sáu ${dmy(friday).slice(0, 5)}?`).waitFor();
    await sheet.getByRole('button', { name: 'Dời giờ lượt này' }).click();
    await page.getByText(`Đã dời lượt này sang 10:00 Thứ Sáu ${dmy(friday).slice(0, 5)}.`).waitFor();
    await page.locator(`[data-broadcast="${morning}"][data-start="${new Date(friday + 10 * 3600_000).toISOString()}"]`).waitFor();
    const after = await week();
    t.same(after.find((i) => i.startAt === new Date(friday + 10 * 3600_000).toISOString())?.movedFrom, new Date(thursday + 8 * 3600_000).toISOString(), 'Thursday’s airing now airs Friday at 10:00');
    await page.screenshot({ path: join(SCREENSHOTS, 'calendar-desktop.png'), fullPage: true });

    // Another series dragged an hour later, as a whole: every day of it moves to 18:00.
    const tuesday = monday + DAY;
    const five = page.locator(`[data-broadcast="${vaccines}"][data-start="${new Date(tuesday + 17 * 3600_000).toISOString()}"]`);
    await five.scrollIntoViewIfNeeded();
    const box = (await five.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + 5);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2, box.y + 5 + 18, { steps: 3 });
    await page.mouse.move(box.x + box.width / 2, box.y + 5 + 36, { steps: 3 });
    await page.mouse.up();
    const vsheet = page.getByRole('dialog', { name: 'Lịch tiêm phòng' });
    await vsheet.getByText(`Dời lượt phát sang 18:00 Thứ Ba ${dmy(tuesday).slice(0, 5)}?`).waitFor();
    await vsheet.getByRole('button', { name: 'Dời cả chuỗi sang 18:00 mỗi ngày phát' }).click();
    await page.getByText('Đã dời cả chuỗi sang 18:00.').waitFor();
    const shifted = (await week()).filter((i) => i.broadcastId === vaccines);
    t.same(shifted.map((i) => new Date(Date.parse(i.startAt) + VN).toISOString().slice(11, 16)), Array(7).fill('18:00'), 'every airing of next week at 18:00');
    await page.locator(`[data-broadcast="${vaccines}"][data-start="${new Date(monday + 18 * 3600_000).toISOString()}"]`).waitFor();

    // The whole series, from another of its airings.
    await page.locator(`[data-broadcast="${morning}"][data-start="${new Date(monday + 8 * 3600_000).toISOString()}"]`).click();
    await sheet.getByRole('button', { name: 'Hủy cả chuỗi' }).click();
    await page.getByText('Đã hủy cả chuỗi.').waitFor();
    t.match(asked.at(-1), /Mọi lượt sắp tới/, 'asked first, saying every coming airing stops');
    const done = await waitFor('every airing of the series cancelled', async () => {
      const items = (await week()).filter((i) => i.broadcastId === morning);
      return items.length && items.every((i) => i.status === 'cancelled' || i.status === 'moved') ? items : null;
    }, 10_000);
    t.ok(done.length >= 7, 'the week’s airings are all cancelled');
    await page.locator(`[data-broadcast="${morning}"].cal-s-cancelled`).first().waitFor();
    t.equal(await page.locator(`[data-broadcast="${morning}"].cal-s-scheduled`).count(), 0, 'none shows as scheduled');
    t.ok(await page.locator('.cal-item.cal-p-priority.cal-s-scheduled').count() >= 7, 'the other broadcast keeps its airings');
  });
});
