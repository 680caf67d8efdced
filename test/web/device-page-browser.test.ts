/**
 * Issue 20, "a box page", in a real browser against a real server and simulated boxes (firmware-sim):
 * an installer registers a box (on the phone from its GPS), prints its claim label (QR code and the code in
 * words), the box claims its credentials with that code and the page sees it come online; the box page draws
 * its health readings over time and what it played, and the test tone and volume buttons get the box's own
 * answer. A viewer of the same commune sees the page without the buttons.
 *
 * The server runs on a hand-moved clock that starts five quarter hours back, so the box's heartbeats fall
 * into several 15-minute buckets of history within the test's seconds (moved forward between them).
 * Uses the built app in web/dist and Debian's chromium; skips, saying why, without them.
 */
import t from 'tap';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { HEALTH_BUCKET_MS } from '@loaxa/shared';
import { startSimulation, type Simulation } from '../../firmware-sim/src/index.js';
import { writeSimState } from '../../firmware-sim/src/state-file.js';
import { requestClaim } from '../../device-agent/src/claim.js';
import { buildApp } from '../../server/src/app.js';
import { configWith } from '../../server/src/config.js';
import { webRoutes } from '../../server/src/routes/web.js';
import { codeInWords } from '../../web/src/views/device/strings.js';
import { ADMIN_PASSWORD, importSampleAreas, tempDir, httpApi } from '../helpers/server.js';
import { fakeClock } from '../helpers/clock.js';
import { uploadTone } from '../helpers/programmes.js';
import { waitFor } from '../helpers/wait.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, login, SCREENSHOTS } from './helpers.js';

const skip = browserSkipReason();
t.setTimeout(240_000);

const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true } as const;
const DESKTOP = { viewport: { width: 1280, height: 900 } } as const;
const VN = { locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' } as const;

t.test('an installer registers a box, prints its label, sees it online; the box page charts it and reaches it', { skip: skip ?? false }, async (t) => {
  const { chromium } = await import('playwright-core');
  // Five quarter hours back, on a quarter hour: six buckets of heartbeats end in the current one.
  const start = Math.floor(Date.now() / HEALTH_BUCKET_MS) * HEALTH_BUCKET_MS - 5 * HEALTH_BUCKET_MS;
  const clock = fakeClock(start);
  const dataDir = await tempDir(t, 'loaxa-boxpage-');
  const server = await buildApp(
    configWith({ httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', mqttHost: '127.0.0.1', dataDir, adminPassword: ADMIN_PASSWORD }),
    { logger: pino({ level: process.env.LOAXA_TEST_LOG ?? 'silent' }), clock: { now: clock.now } },
  );
  if (!server.app.hasRoute({ method: 'GET', url: '/*' })) await server.app.register(webRoutes, { config: server.ctx.config });
  const base = (await server.start()).httpUrl;
  t.teardown(() => server.stop());
  const api = httpApi(base);
  const token = (await api<{ token: string }>('POST', '/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD })).body.token;
  await importSampleAreas(api, token);
  for (const [username, role] of [['lap-dat', 'operator'], ['xem', 'viewer']] as const) {
    t.equal((await api('POST', '/api/v1/users', { username, password: 'a-long-password', role, areaCode: '99003' }, token)).status, 201);
  }
  const simDir = await tempDir(t, 'loaxa-boxpage-sim-');
  const sims: Simulation[] = [];
  t.teardown(() => Promise.all(sims.map((s) => s.stop({ timeoutMs: 2_000 }))));

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());

  /**
   * The installer's path on one screen: register, make the label, claim with the code printed on it as the
   * box would, start the box; answers the box's id and how long the page took to show it online.
   */
  async function install(page: Page, name: string, position: 'gps' | { lat: string; lon: string }, tag: string) {
    await page.goto(base + '/lap-dat');
    await page.getByLabel('Tên cụm loa').fill(name);
    await page.locator('#box-area').selectOption('99003');
    if (position === 'gps') {
      await page.getByRole('button', { name: 'Lấy vị trí từ điện thoại' }).click();
      await page.getByText(/Đã lấy vị trí/).waitFor({ timeout: 10_000 });
      t.equal(await page.getByLabel('Vĩ độ').inputValue(), '21.027800', `${tag}: the phone's latitude fills the form`);
    } else {
      await page.getByLabel('Vĩ độ').fill(position.lat);
      await page.getByLabel('Kinh độ').fill(position.lon);
    }
    await page.getByRole('button', { name: 'Ghi cụm loa' }).click();
    await page.waitForURL(/\/cum-loa\/[a-z0-9-]+\/nhan$/, { timeout: 10_000 });
    const id = /\/cum-loa\/([a-z0-9-]+)\/nhan$/.exec(page.url())![1]!;
    const stored = (await api<{ name: string; areaCode: string; lat: number; lon: number }>('GET', `/api/v1/devices/${id}`, undefined, token)).body;
    t.match(stored, { name, areaCode: '99003' }, `${tag}: the box is registered in its commune`);
    t.equal(Math.round(stored.lat * 100), position === 'gps' ? 2103 : Math.round(Number(position.lat.replace(',', '.')) * 100), `${tag}: with its position`);

    await page.getByRole('button', { name: 'Tạo mã nhận và nhãn' }).click();
    const label = page.getByTestId('claim-label');
    await label.waitFor({ timeout: 10_000 });
    t.equal(await label.locator('.claim-qr svg path').count() > 0, true, `${tag}: the label carries the QR code as SVG`);
    const code = (await page.getByTestId('claim-code').innerText()).trim();
    t.match(code, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/, `${tag}: and the code`);
    const text = await label.innerText();
    t.ok(text.includes(name) && text.includes('Xã Tân Lập'), `${tag}: with the box's name and commune`);
    t.ok(text.includes(codeInWords(code)), `${tag}: and the code in words (${codeInWords(code)})`);
    t.ok(await page.getByText(/Đang chờ cụm loa kết nối/).isVisible(), `${tag}: the page waits for the box`);

    // The box, as installed: the code typed from the label (lower case, as a person might), exchanged for its
    // credentials (device-agent claim.ts), then started as a simulated box with them.
    const claimed = await requestClaim(base, code.toLowerCase());
    t.equal(claimed.deviceId, id, `${tag}: the printed code claims this box`);
    const stateFile = join(simDir, `${tag}.json`);
    await writeSimState(stateFile, { serverUrl: base, devices: [{ id, name, areaCode: claimed.areaCode, areaAncestors: claimed.areaAncestors, mqtt: claimed.mqtt }] });
    const began = Date.now();
    const sim = await startSimulation({ serverUrl: base, count: 1, areaCode: '99003', stateFile, logger: pino({ level: 'silent' }), heartbeatMs: 300, startSpreadMs: 0 });
    sims.push(sim);
    await page.getByText(/Cụm loa vừa kết nối lúc/).waitFor({ timeout: 15_000 });
    const onlineMs = Date.now() - began;
    t.ok(onlineMs < 10_000, `${tag}: the label page shows the box online ${onlineMs} ms after it starts`);
    return { id, sim, onlineMs };
  }

  /** The box page's main path: the chart has points, the test tone gets the box's answer. */
  async function boxPage(page: Page, id: string, tag: string, minPoints: number) {
    await page.goto(`${base}/cum-loa/${id}`);
    await page.getByTestId('box-state').waitFor();
    t.equal(await page.getByTestId('box-state').getAttribute('data-state'), 'online', `${tag}: the box shows online`);
    const chart = page.getByTestId('box-chart');
    await chart.waitFor({ timeout: 15_000 });
    const points = Number(await chart.getAttribute('data-points'));
    t.ok(points >= minPoints, `${tag}: the temperature chart has ${points} points (at least ${minPoints})`);
    // uPlot is its own chunk, drawn after the points are known: wait for its canvas rather than count at once.
    await chart.locator('canvas').first().waitFor({ timeout: 15_000 }).catch(() => undefined);
    t.equal(await chart.locator('canvas').count(), 1, `${tag}: drawn`);
    t.match(await page.getByTestId('box-heard').innerText(), /^Có tín hiệu \d+\/\d+ khung 15 phút\.$/, `${tag}: when the box was heard`);
    await page.getByRole('button', { name: 'Phát âm thử' }).click();
    await page.getByTestId('box-answer').getByText('Cụm loa đã phát âm thử 3 giây (1000 Hz).').waitFor({ timeout: 20_000 });
    t.pass(`${tag}: the test tone makes the box answer`);
  }

  // The phone: GPS position, then six quarter hours of heartbeats with a temperature that climbs.
  const phone: BrowserContext = await browser.newContext({ ...PHONE, ...VN, geolocation: { latitude: 21.0278, longitude: 105.8342, accuracy: 12 }, permissions: ['geolocation'] });
  const p = await phone.newPage();
  await login(p, base, 'lap-dat', 'a-long-password');
  const first = await install(p, 'Loa chợ Tân Lập', 'gps', 'phone');
  const board = first.sim.boxes[0]!.board;
  const history = async () =>
    (await api<{ points: Array<{ samples: number; at: string }> }>('GET', `/api/v1/devices/${first.id}/health-history?from=${new Date(start - HEALTH_BUCKET_MS).toISOString()}&to=${new Date(start + 6 * HEALTH_BUCKET_MS).toISOString()}`, undefined, token)).body.points;
  for (let bucket = 0; bucket < 6; bucket++) {
    board.system = { ...board.system, cpuTempC: 45 + bucket * 2 };
    await waitFor(`heartbeats in bucket ${bucket}`, async () => ((await history()).find((pt) => Date.parse(pt.at) === start + bucket * HEALTH_BUCKET_MS)?.samples ?? 0) >= 2 ? true : null, 15_000);
    if (bucket < 5) clock.advance(HEALTH_BUCKET_MS);
  }
  t.equal((await history()).length, 6, 'six quarter hours of history');
  // Back to the real time for an airing: the box plays on its own (real) clock.
  clock.advance(Math.max(0, Date.now() - clock.now()));
  const tone = await uploadTone(base, token, { hz: 440, seconds: 1, title: 'Thông báo lịch tiêm phòng' });
  const aired = (await api<{ id: string }>('POST', '/api/v1/broadcasts', { bulletinId: tone.id, target: { areaCodes: ['99003'] } }, token)).body;
  await waitFor('the box played the airing', async () => {
    const b = (await api<{ deliveries: Array<{ deviceId: string; state: string }> }>('GET', `/api/v1/broadcasts/${aired.id}`, undefined, token)).body;
    return b.deliveries.some((x) => x.deviceId === first.id && x.state === 'played') ? true : null;
  }, 30_000);
  await boxPage(p, first.id, 'phone', 6);
  const played = p.getByTestId('box-as-run').locator('tbody tr');
  await played.first().waitFor({ timeout: 10_000 });
  t.match(await played.first().innerText(), /Thông báo lịch tiêm phòng[\s\S]*Đã phát xong/, 'what the box played, with its result');
  await p.screenshot({ path: join(SCREENSHOTS, 'box-page-phone.png'), fullPage: true });

  // The desktop: the position typed with Vietnamese decimal commas; the label as it prints.
  const desk = await browser.newContext({ ...DESKTOP, ...VN });
  const d = await desk.newPage();
  await login(d, base, 'lap-dat', 'a-long-password');
  await d.getByRole('link', { name: 'Lắp đặt' }).click();
  await d.getByRole('heading', { name: 'Lắp đặt cụm loa mới' }).waitFor();
  const second = await install(d, 'Loa trường Tân Lập', { lat: '21,0300', lon: '105,8400' }, 'desktop');
  await d.emulateMedia({ media: 'print' });
  t.equal(await d.locator('.topbar').isVisible(), false, 'printed: no header');
  t.equal(await d.getByRole('button', { name: 'In nhãn' }).isVisible(), false, 'printed: no buttons');
  t.ok(await d.getByTestId('claim-label').isVisible(), 'printed: the label');
  await d.screenshot({ path: join(SCREENSHOTS, 'box-label.png') });
  await d.emulateMedia({ media: 'screen' });
  t.ok(second.onlineMs < 10_000);

  // From the boxes list, a box's name opens its page.
  await d.goto(base + '/cum-loa');
  await d.getByRole('link', { name: 'Loa chợ Tân Lập' }).click();
  await d.waitForURL(`${base}/cum-loa/${first.id}`);
  await boxPage(d, first.id, 'desktop', 6);
  await d.getByRole('slider', { name: /Âm lượng/ }).fill('50');
  await d.getByRole('button', { name: 'Đặt âm lượng' }).click();
  await d.getByTestId('box-answer').getByText('Cụm loa đã đặt âm lượng 50.').waitFor({ timeout: 15_000 });
  t.pass('desktop: the volume is set and the box says so');
  t.equal(await d.getByRole('button', { name: 'Khởi động lại phần mềm' }).count(), 0, 'an operator is not offered a restart (province admins only)');

  // A viewer of the commune reads the page but is offered nothing the server would refuse.
  const viewer = await browser.newContext({ ...PHONE, ...VN });
  const v = await viewer.newPage();
  await login(v, base, 'xem', 'a-long-password');
  await v.goto(`${base}/cum-loa/${first.id}`);
  await v.getByTestId('box-chart').waitFor({ timeout: 15_000 });
  t.equal(await v.getByRole('button', { name: 'Phát âm thử' }).count(), 0, 'a viewer gets no test tone button');
  t.equal(await v.getByRole('link', { name: 'In nhãn mã nhận' }).count(), 0, 'nor the label');
});
