/**
 * Issue 20, "a real map when a tile server is configured", in a real browser: with LOAXA_MAP_TILES_URL naming a
 * tile server (here a stand-in on loopback that draws each tile it is asked for and records z/x/y, since the
 * real ones are on the internet), the dashboard's map asks for the tiles under the boxes, puts each box on its
 * spot of its tile, in its state's colour, names the communes, pans and zooms; the page's CSP lets images come
 * from that host only. And issue 20 broken 11, "map and tiles count online boxes differently": a faulty box is
 * online in both now. Uses the built app in web/dist and Debian's chromium; skips, saying why, without them.
 */
import t, { type Test } from 'tap';
import mqtt from 'mqtt';
import { createServer } from 'node:http';
import { deflateSync } from 'node:zlib';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { topics, encodeMessage } from '@loaxa/shared';
import { ADMIN_PASSWORD, importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, startWebServer, login } from './helpers.js';

const skip = browserSkipReason();
t.setTimeout(180_000);

const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (b: Buffer) => {
  let c = 0xffffffff;
  for (const x of b) c = CRC[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
/** A 256 px tile: a pale fill (its shade from x and y, so neighbours differ) with a dark border. */
function tilePng(x: number, y: number): Buffer {
  const size = 256;
  const raw = Buffer.alloc((size * 3 + 1) * size);
  for (let r = 0; r < size; r++) {
    raw[r * (size * 3 + 1)] = 0;
    for (let c = 0; c < size; c++) {
      const edge = r === 0 || c === 0;
      const o = r * (size * 3 + 1) + 1 + c * 3;
      raw[o] = edge ? 120 : 220 - ((x * 13) % 40);
      raw[o + 1] = edge ? 120 : 235 - ((y * 17) % 40);
      raw[o + 2] = edge ? 120 : 210;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** The stand-in tile server: answers /{z}/{x}/{y}.png like an OpenStreetMap-style server, and records each. */
async function tileServer(t: Test) {
  const asked: string[] = [];
  const server = createServer((req, res) => {
    const m = /^\/(\d+)\/(\d+)\/(\d+)\.png$/.exec(req.url ?? '');
    if (!m || req.method !== 'GET') {
      res.writeHead(404).end();
      return;
    }
    const [z, x, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (x >= 2 ** z || y >= 2 ** z) {
      res.writeHead(404).end();
      return;
    }
    asked.push(`${z}/${x}/${y}`);
    res.writeHead(200, { 'content-type': 'image/png' }).end(tilePng(x, y));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { asked, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function mercator(lat: number, lon: number) {
  const s = Math.sin((lat * Math.PI) / 180);
  return { x: (lon + 180) / 360, y: 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI) };
}

const BOXES = [
  { name: 'Loa chợ Tân Lập', areaCode: '9900301', lat: 21.02, lon: 105.84, online: true, fault: false },
  { name: 'Loa trường Tân Lập', areaCode: '99003', lat: 21.035, lon: 105.87, online: true, fault: true },
  { name: 'Loa đình Hưng Đạo', areaCode: '99004', lat: 21.07, lon: 105.8, online: true, fault: false },
  { name: 'Loa bến Hưng Đạo', areaCode: '99004', lat: 21.06, lon: 105.78, online: false, fault: false },
];

async function legendAndTiles(page: Page) {
  const tiles = await page.locator('.device-counts li').allInnerTexts();
  const legend = await page.locator('.map-legend li').allInnerTexts();
  const n = (list: string[], word: string) => Number(list.find((s) => s.includes(word))?.replace(/\D/g, '') ?? NaN);
  return { tiles: ['Trực tuyến', 'Mất kết nối', 'Có lỗi'].map((w) => n(tiles, w)), legend: ['Trực tuyến', 'Mất kết nối', 'Có lỗi'].map((w) => n(legend, w)) };
}

t.test('with a tile server, the dashboard map is a real map of the boxes', { skip: skip ?? false }, async (t) => {
  const { chromium } = await import('playwright-core');
  const tiles = await tileServer(t);
  const { base, api, token, urls } = await startWebServer(t, { mapTileUrl: `${tiles.url}/{z}/{x}/{y}.png` });
  await importSampleAreas(api, token);
  const ids: string[] = [];
  for (const b of BOXES) {
    const dev = (await api<{ id: string; mqtt: { password: string } }>('POST', '/api/v1/devices', { name: b.name, areaCode: b.areaCode, lat: b.lat, lon: b.lon }, token)).body;
    ids.push(dev.id);
    if (!b.online) continue;
    const c = await mqtt.connectAsync(urls.mqttUrl, { clientId: dev.id, username: dev.id, password: dev.mqtt.password, reconnectPeriod: 0 });
    t.teardown(() => c.endAsync(true));
    await c.publishAsync(topics.deviceStatus(dev.id), encodeMessage('status', { state: 'online' }), { qos: 1, retain: true });
    if (b.fault) await c.publishAsync(topics.deviceEvent(dev.id), encodeMessage('event', { kind: 'fault', fault: 'amplifier', active: true, at: Date.now() }), { qos: 1 });
  }
  await waitFor('three boxes online, one faulty', async () => {
    const c = (await api<{ devices: { online: number; faulty: number } }>('GET', '/api/v1/coverage?area=99', undefined, token)).body;
    return c.devices.online === 3 && c.devices.faulty === 1 ? true : null;
  }, 10_000);

  // The page names the tile host, and no other, as a place images may come from.
  const index = await fetch(base + '/tong-quan');
  const csp = index.headers.get('content-security-policy') ?? '';
  t.match(csp, `img-src 'self' data: blob: ${tiles.url}`, 'the CSP allows images from the tile server');
  t.notMatch(csp.split(';').find((d) => d.includes('img-src')) ?? '', /\*|https:(?!\/)/, 'and from no wildcard');
  t.match(await index.text(), `content="${tiles.url}/{z}/{x}/{y}.png"`, 'the tile URL reaches the page');

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  for (const [name, viewport] of [['desktop', { width: 1280, height: 900 }], ['phone', { width: 390, height: 844 }]] as const) {
    const ctx = await browser.newContext({ viewport, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh', hasTouch: name === 'phone' });
    const page = await ctx.newPage();
    const askedBefore = tiles.asked.length;
    const cspErrors: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
    });
    await login(page, base, 'admin', ADMIN_PASSWORD);
    await page.goto(base + '/tong-quan');
    const map = page.getByTestId('tile-map');
    await map.waitFor({ timeout: 20_000 });
    await page.locator('[data-device]').first().waitFor();
    await waitFor('tiles drawn', async () => ((await page.evaluate(`Array.from(document.querySelectorAll('[data-tile]')).every((i) => i.complete && i.naturalWidth === 256)`)) ? true : null), 10_000, 50);
    const z = Number(await map.getAttribute('data-zoom'));
    t.ok(z >= 10 && z <= 16, `${name}: fitted to the boxes, zoom ${z}`);

    for (const [i, b] of BOXES.entries()) {
      const m = mercator(b.lat, b.lon);
      const n = 2 ** z;
      const tx = Math.floor(m.x * n);
      const ty = Math.floor(m.y * n);
      t.ok(tiles.asked.slice(askedBefore).includes(`${z}/${tx}/${ty}`), `${name}: the tile under ${b.name} (${z}/${tx}/${ty}) was asked for`);
      // The box's dot sits where its coordinates fall on that tile, to the pixel.
      const tile = await page.locator(`[data-tile="${z}/${tx}/${ty}"]`).boundingBox();
      const dot = await page.locator(`[data-device="${ids[i]}"]`).boundingBox();
      t.ok(tile && dot, `${name}: ${b.name} has its dot`);
      const expectX = tile!.x + (m.x * n - tx) * 256;
      const expectY = tile!.y + (m.y * n - ty) * 256;
      t.ok(Math.abs(dot!.x + dot!.width / 2 - expectX) < 1.5 && Math.abs(dot!.y + dot!.height / 2 - expectY) < 1.5, `${name}: ${b.name} at its position (${(dot!.x + dot!.width / 2).toFixed(1)}, ${(dot!.y + dot!.height / 2).toFixed(1)}) vs (${expectX.toFixed(1)}, ${expectY.toFixed(1)})`);
      const look = await page.locator(`[data-device="${ids[i]}"]`).getAttribute('data-look');
      t.equal(look, b.fault ? 'faulty' : b.online ? 'online' : 'offline', `${name}: ${b.name} in its state’s colour`);
    }
    const askedNow = tiles.asked.slice(askedBefore).filter((k) => k.startsWith(`${z}/`));
    const box = (await map.boundingBox())!;
    const shown = await page.locator('[data-tile]').evaluateAll((imgs) => imgs.map((i) => (i as unknown as { dataset: { tile: string } }).dataset.tile));
    t.ok(askedNow.length > 0 && askedNow.length <= shown.length * 2, `${name}: only the tiles of the view were asked for (${askedNow.length})`);
    t.ok(shown.length <= Math.ceil(box.width / 256 + 1) * Math.ceil(box.height / 256 + 1), `${name}: as many tiles as cover the map (${shown.length})`);

    for (const commune of ['Xã Tân Lập', 'Xã Hưng Đạo']) t.ok(await map.getByText(commune, { exact: true }).isVisible(), `${name}: ${commune} is named on the map`);

    // Broken 11: the legend under the map and the tiles above it count the same boxes the same way.
    const counts = await legendAndTiles(page);
    t.same(counts.legend, counts.tiles, `${name}: map and tiles agree (${counts.legend.join('/')})`);
    t.same(counts.tiles, [3, 1, 1], `${name}: 3 online (the faulty one too), 1 offline, 1 faulty`);

    if (name === 'desktop') {
      await page.locator('#map').screenshot({ path: join(SCREENSHOTS, 'map-tiles-desktop.png') });
      // Zoom in with the button: one level more, and that level's tiles are asked for.
      await map.getByRole('button', { name: 'Phóng to' }).click();
      await waitFor('zoomed in', async () => (Number(await map.getAttribute('data-zoom')) === z + 1 ? true : null), 5000, 50);
      await waitFor('tiles of the next level', () => (tiles.asked.some((k) => k.startsWith(`${z + 1}/`)) ? true : null), 5000, 50);
      // Drag 120 px left: every dot moves with the map.
      const dot = page.locator(`[data-device="${ids[0]}"]`);
      const before = (await dot.boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width / 2 - 60, box.y + box.height / 2, { steps: 4 });
      await page.mouse.move(box.x + box.width / 2 - 120, box.y + box.height / 2 + 30, { steps: 4 });
      await page.mouse.up();
      const after = (await dot.boundingBox())!;
      t.ok(Math.abs(after.x - before.x + 120) < 2 && Math.abs(after.y - before.y - 30) < 2, `dragging moves the map (${(after.x - before.x).toFixed(1)}, ${(after.y - before.y).toFixed(1)})`);
      // The wheel zooms out around the pointer.
      await page.mouse.move(box.x + 100, box.y + 100);
      await page.mouse.wheel(0, 200);
      await waitFor('zoomed out', async () => (Number(await map.getAttribute('data-zoom')) === z ? true : null), 5000, 50);
      // Tapping a dot says which box it is.
      await map.getByRole('button', { name: 'Xem toàn bộ cụm loa' }).click();
      const target = (await page.locator(`[data-device="${ids[2]}"]`).boundingBox())!;
      await page.mouse.click(target.x + target.width / 2, target.y + target.height / 2);
      t.match(await page.locator('.map-pick').innerText(), 'Loa đình Hưng Đạo', 'a click on a dot names its box');
    } else {
      const scroll = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      t.ok(scroll <= 1, `phone: the page does not scroll sideways (${scroll} px)`);
      await page.locator('#map').screenshot({ path: join(SCREENSHOTS, 'map-tiles-phone.png') });
    }
    t.same(cspErrors, [], `${name}: no image refused by the CSP`);
    await ctx.close();
  }
});

t.test('without a tile server the map stays the offline plot, counting as the tiles do', { skip: skip ?? false }, async (t) => {
  const { chromium } = await import('playwright-core');
  const { base, api, token, urls } = await startWebServer(t);
  await importSampleAreas(api, token);
  const dev = (await api<{ id: string; mqtt: { password: string } }>('POST', '/api/v1/devices', { name: 'Loa chợ', areaCode: '99003', lat: 21.02, lon: 105.84 }, token)).body;
  await api('POST', '/api/v1/devices', { name: 'Loa tắt', areaCode: '99004', lat: 21.05, lon: 105.8 }, token);
  const c = await mqtt.connectAsync(urls.mqttUrl, { clientId: dev.id, username: dev.id, password: dev.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  await c.publishAsync(topics.deviceStatus(dev.id), encodeMessage('status', { state: 'online' }), { qos: 1, retain: true });
  await c.publishAsync(topics.deviceEvent(dev.id), encodeMessage('event', { kind: 'fault', fault: 'power', active: true, at: Date.now() }), { qos: 1 });
  await waitFor('the faulty box online', async () => {
    const cov = (await api<{ devices: { online: number; faulty: number } }>('GET', '/api/v1/coverage?area=99', undefined, token)).body;
    return cov.devices.online === 1 && cov.devices.faulty === 1 ? true : null;
  }, 10_000);
  const index = await fetch(base + '/tong-quan');
  t.match(index.headers.get('content-security-policy') ?? '', "img-src 'self' data: blob:;", 'no image host beyond our own');
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  const page = await ctx.newPage();
  await login(page, base, 'admin', ADMIN_PASSWORD);
  await page.goto(base + '/tong-quan');
  await page.getByTestId('device-map').waitFor({ timeout: 20_000 });
  t.equal(await page.getByTestId('tile-map').count(), 0, 'no slippy map without a tile server');
  await page.locator('.map-legend li').first().waitFor();
  const counts = await legendAndTiles(page);
  t.same(counts.legend, counts.tiles, `map and tiles agree (${counts.legend.join('/')})`);
  t.same(counts.tiles, [1, 1, 1], 'the faulty box is online in both');
});
