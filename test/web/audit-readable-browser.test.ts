/**
 * Issue 20, broken 10, in a real browser: the audit detail showed internal fields (`materialized_until` as
 * epoch ms) and user ids instead of names, and the log said "200 · Thành công". Now an approval's detail
 * names the approver, shows times in Vietnam's time, keeps the server's bookkeeping under "Chi tiết kỹ thuật",
 * and every outcome is a word with no HTTP code.
 * Uses the built app in web/dist and Debian's chromium; skips, saying why, without them.
 */
import t from 'tap';
import type { Browser } from 'playwright-core';
import type { AuditPage } from '../../web/src/api/types.js';
import { ADMIN_PASSWORD, importSampleAreas } from '../helpers/server.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, startWebServer, login } from './helpers.js';

const skip = browserSkipReason();
t.setTimeout(180_000);

t.test('the audit log names people, tells times and outcomes in words, folds the internals', { skip: skip ?? false }, async (t) => {
  const { chromium } = await import('playwright-core');
  const { base, api, token } = await startWebServer(t);
  await importSampleAreas(api, token);
  t.equal((await api('POST', '/api/v1/devices', { name: 'Cụm loa chợ', areaCode: '99003' }, token)).status, 201);
  const approver = await api<{ id: string }>('POST', '/api/v1/users', { username: 'duyet.tinh', password: 'mat-khau-dai-du', role: 'approver', areaCode: '99' }, token);
  t.equal(approver.status, 201);
  t.equal((await api('POST', '/api/v1/users', { username: 'vanhanh.tanlap', password: 'mat-khau-van-hanh', role: 'operator', areaCode: '99003' }, token)).status, 201);
  const opToken = (await api<{ token: string }>('POST', '/api/v1/auth/login', { username: 'vanhanh.tanlap', password: 'mat-khau-van-hanh' })).body.token;
  const apToken = (await api<{ token: string }>('POST', '/api/v1/auth/login', { username: 'duyet.tinh', password: 'mat-khau-dai-du' })).body.token;
  const bt = await api<{ id: string }>('POST', '/api/v1/bulletins', { title: 'Lịch thu gom rác', text: 'Xe thu gom rác đi qua các thôn vào sáng thứ Hai.' }, opToken);
  const sub = await api<{ id: string; status: string }>('POST', '/api/v1/broadcasts', { bulletinId: bt.body.id, priority: 'normal', target: { areaCodes: ['99003'] }, schedule: { kind: 'weekly', weekdays: [1], times: ['06:30'] } }, opToken);
  t.equal(sub.body.status, 'submitted');
  t.equal((await api('POST', `/api/v1/broadcasts/${sub.body.id}/approve`, {}, apToken)).status, 200);
  // A refused write, so the log has an outcome other than success.
  t.equal((await api('GET', '/api/v1/audit', undefined, opToken)).status, 403);
  t.equal((await api('POST', '/api/v1/users', { username: 'ke.gian', password: 'mat-khau-gia-mao', role: 'province-admin', areaCode: null }, opToken)).status, 403);
  // What the API keeps for the approval: the approver's id, and the server's bookkeeping in epoch ms.
  const log = (await api<AuditPage>('GET', '/api/v1/audit?limit=1000', undefined, token)).body.items;
  const approval = log.find((e) => e.route === '/api/v1/broadcasts/:id/approve')!;
  const after = approval.after as Record<string, unknown>;
  t.equal(after.decided_by, approver.body.id, 'the API stores who decided as a user id');
  t.type(after.materialized_until, 'number', 'and materialized_until as epoch ms');
  const epoch = String(after.materialized_until);

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  const page = await ctx.newPage();
  await login(page, base, 'admin', ADMIN_PASSWORD);
  await page.goto(base + '/nhat-ky');
  const rows = page.getByTestId('audit-entry');
  await rows.first().waitFor();

  // Outcomes are words: no "200 ·", no "403 ·".
  const outcomes = await page.locator('[data-testid=audit-entry] .badge').allInnerTexts();
  t.ok(outcomes.length > 5, `${outcomes.length} outcomes listed`);
  t.same(outcomes.filter((o) => /\d/.test(o)), [], 'no HTTP code in any outcome');
  t.ok(outcomes.includes('Thành công'), 'success in words');
  t.ok(outcomes.includes('Không có quyền'), 'a refusal in words');

  // The approval's detail: the approver by name, the decision time on Vietnam's clock, no epoch ms, no user id.
  const row = rows.filter({ hasText: 'Duyệt lượt phát' });
  await row.getByRole('button', { name: /Chi tiết/ }).click();
  const diff = row.getByTestId('audit-diff');
  await diff.waitFor();
  const shown = await diff.innerText();
  t.match(shown, /Người quyết định\s*—\s*→\s*duyet\.tinh/, 'who decided, by name');
  t.notMatch(shown, new RegExp(approver.body.id), 'not by user id');
  t.match(shown, /Quyết định lúc\s*—\s*→\s*\d\d:\d\d:\d\d,? \d\d\/\d\d\/\d{4}/, 'when, on Vietnam’s clock');
  t.notMatch(shown, /materialized_until|Đã lập lượt phát/, 'the server’s bookkeeping is not among the changes');
  const visible = await row.getByTestId('audit-detail').innerText();
  t.notOk(visible.includes(epoch), 'no epoch ms visible while the technical fold is closed');
  t.notMatch(visible, /\b\d{13}\b/, 'no 13-digit number visible');
  // Under "Chi tiết kỹ thuật": the bookkeeping, labelled and as a time, and the request.
  await row.getByText('Chi tiết kỹ thuật').click();
  const technical = await row.getByTestId('audit-technical').innerText();
  t.match(technical, /Đã lập lượt phát cho các cụm loa đến\s*—\s*→\s*\d\d:\d\d:\d\d,? \d\d\/\d\d\/\d{4}/, 'materialized_until as a Vietnam time, labelled');
  t.notOk(technical.includes(epoch), 'even there, not as epoch ms');
  t.match(technical, /POST \/api\/v1\/broadcasts\/.+\/approve/, 'the request is there for whoever needs it');
});
