/**
 * Issue 20, broken 2, in a real browser: "Dừng phát" on a daily broadcast said "this airing" and cancelled the
 * whole week, the app could not cancel or move one airing, and afterwards the occurrences still listed as
 * scheduled. Now the live page of a series offers "Dừng lượt này", "Dời lượt này" and "Dừng cả lịch", each
 * asking about exactly what it does, and the occurrences say what happened.
 * Uses the built app in web/dist and Debian's chromium; skips, saying why, without them.
 */
import t from 'tap';
import type { Browser, Dialog } from 'playwright-core';
import { importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, startWebServer, login } from './helpers.js';

const skip = browserSkipReason();
t.setTimeout(180_000);

interface Occurrence {
  occurrenceAt: string;
  status: 'scheduled' | 'cancelled' | 'moved';
  movedTo?: string;
}

t.test('a daily broadcast: cancel one airing, move one, then the whole series', { skip: skip ?? false }, async (t) => {
  const { chromium } = await import('playwright-core');
  const { base, api, token } = await startWebServer(t);
  await importSampleAreas(api, token);
  for (let i = 0; i < 2; i++) t.equal((await api('POST', '/api/v1/devices', { name: `Cụm loa ${i + 1}`, areaCode: '99003' }, token)).status, 201);
  t.equal((await api('POST', '/api/v1/users', { username: 'duyet.tinh', password: 'mat-khau-dai-du', role: 'approver', areaCode: '99' }, token)).status, 201);
  const bulletin = (await api<{ id: string }>('POST', '/api/v1/bulletins', { title: 'Bản tin sáng', text: 'Bản tin buổi sáng của xã.' }, token)).body;
  // The province schedules it (approved at once); an approver of the province manages its airings on a phone.
  const created = await api<{ id: string; status: string }>('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['99003'] }, schedule: { kind: 'daily', times: ['05:30', '17:00'] } }, token);
  t.equal(created.status, 201);
  const id = created.body.id;
  const occurrences = async () => (await api<{ items: Occurrence[] }>('GET', `/api/v1/broadcasts/${id}/occurrences`, undefined, token)).body.items;
  const before = await occurrences();
  t.equal(before.length, 14, 'two airings a day for a week');

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  const page = await phone.newPage();
  const asked: string[] = [];
  page.on('dialog', (d: Dialog) => {
    asked.push(d.message());
    void d.accept();
  });
  await login(page, base, 'duyet.tinh', 'mat-khau-dai-du');
  await page.goto(`${base}/luot-phat/${id}`);
  await page.getByRole('button', { name: /Dừng lượt này/ }).waitFor();
  t.equal(await page.getByRole('button', { name: /^■ Dừng phát$/ }).count(), 0, 'no ambiguous "Dừng phát" on a series');

  // One airing: the first one listed.
  await page.getByRole('button', { name: /Dừng lượt này/ }).click();
  await page.getByText(/Đã dừng lượt này trên 2 cụm loa/).waitFor();
  t.match(asked.at(-1), /Các lượt khác của lịch vẫn giữ nguyên/, 'the question says only this airing stops');
  const afterOne = await occurrences();
  t.same(afterOne.filter((o) => o.status === 'cancelled').map((o) => o.occurrenceAt), [before[0]!.occurrenceAt], 'exactly that airing is cancelled');
  t.equal(afterOne.filter((o) => o.status === 'scheduled').length, 13, 'the other 13 stay');

  // The page moves on to the next airing; move it by an hour.
  await page.reload();
  await page.getByRole('button', { name: /Dời lượt này/ }).click();
  const next = before[1]!.occurrenceAt;
  const target = new Date(Date.parse(next) + 3600_000);
  const local = new Date(target.getTime() + 7 * 3600_000).toISOString();
  await page.getByLabel('Ngày mới').fill(local.slice(0, 10));
  await page.getByLabel('Giờ mới').fill(local.slice(11, 16));
  await page.getByRole('button', { name: /^Dời$/ }).click();
  await page.getByText(/Đã dời lượt này sang/).waitFor();
  const afterMove = await occurrences();
  t.same(afterMove.find((o) => o.occurrenceAt === next), { occurrenceAt: next, status: 'moved', movedTo: target.toISOString() }, 'the next airing moved an hour');
  t.equal(afterMove.find((o) => o.occurrenceAt === before[0]!.occurrenceAt)?.status, 'cancelled', 'the cancelled one stays cancelled');

  // The whole series.
  await page.getByRole('button', { name: /Dừng cả lịch/ }).click();
  await page.getByText(/Đã dừng \d+ lượt phát/).waitFor();
  t.match(asked.at(-1), /mọi lượt sau/, 'the question says the whole series stops');
  await waitFor('every occurrence cancelled', async () => ((await occurrences()).every((o) => o.status === 'cancelled') ? true : null), 10_000);
  t.pass('afterwards no occurrence lists as scheduled');
});
