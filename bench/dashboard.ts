/**
 * `npm run bench:dashboard` — the province dashboard's first load (issue 6: under 1 s on loopback with
 * 5,000 devices and 3,321 communes). Chromium (Debian's, driven by playwright-core) opens the dashboard of
 * a national installation (test/web/national-fixture.ts: every box in the province on screen, the map's
 * worst case) and we time, on a cold page with the browser's HTTP cache warm as a returning user has it,
 * navigation → coverage tiles, commune table and device list on screen; and → all map points drawn.
 * Reference in the same run and browser: the same dashboard for the small sample installation shipped
 * with the project (6 communes, 20 boxes), so the ratio shows what national scale costs.
 * Each side loads RUNS times (default 5), interleaved; medians reported.
 * Bounded: BENCH_TIMEOUT_MS (default 180 s); it closes the browser and the servers and removes its temp dirs.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startServer } from '../server/src/app.js';
import { nationalUnits, seedBoxes } from '../test/web/national-fixture.js';
import { updateReadmeBlock } from './readme-block.js';
import { writeFile, mkdir } from 'node:fs/promises';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const BOXES = Number(process.env.BENCH_BOXES ?? 5000);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 180_000);
const BUDGET_MS = 1000;
const CHROMIUM = process.env.LOAXA_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--lang=vi-VN'];
const HERE = new URL('.', import.meta.url);
const PASSWORD = 'bench-password';
const log = (s: string) => process.stdout.write(`${s}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

type Started = Awaited<ReturnType<typeof startServer>>;

async function installation(kind: 'national' | 'sample', dir: string): Promise<Started> {
  const server = await startServer({ httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', mqttHost: '127.0.0.1', dataDir: dir, adminPassword: PASSWORD }, { logger: pino({ level: 'silent' }) });
  const base = server.urls.httpUrl;
  const login = await fetch(base + '/api/v1/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
  const { token } = (await login.json()) as { token: string };
  const units = kind === 'national' ? nationalUnits() : JSON.parse(await readFile(new URL('../server/data/sample-areas.json', import.meta.url), 'utf8'));
  const res = await fetch(base + '/api/v1/areas/import', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(units) });
  if (!res.ok) throw new Error(`area import failed: ${res.status} ${await res.text()}`);
  const communes: string[] = units.provinces[0].communes.map((c: { code: string }) => c.code);
  seedBoxes(server.ctx, communes, kind === 'national' ? BOXES : 20);
  return server;
}

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  if (!existsSync(new URL('../web/dist/index.html', import.meta.url))) throw new Error('web/dist is missing: npm run build -w web');
  const guard = setTimeout(() => {
    log(`bench:dashboard: gave up after ${TIMEOUT_MS} ms`);
    process.exit(1);
  }, TIMEOUT_MS);
  guard.unref();
  const { chromium } = await import('playwright-core');
  const dirs = [await mkdtemp(join(tmpdir(), 'loaxa-bench-dash-')), await mkdtemp(join(tmpdir(), 'loaxa-bench-dash-'))];
  const servers: Started[] = [];
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  try {
    log(`bench:dashboard: importing 3,321 communes and ${BOXES} boxes; the sample installation beside it…`);
    servers.push(await installation('national', dirs[0]!), await installation('sample', dirs[1]!));
    const sides = [];
    for (const [i, server] of servers.entries()) {
      const context = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
      const page = await context.newPage();
      const base = server.urls.httpUrl;
      await page.goto(base + '/');
      await page.getByLabel('Tên đăng nhập').fill('admin');
      await page.getByLabel('Mật khẩu').fill(PASSWORD);
      await page.getByRole('button', { name: 'Đăng nhập' }).click();
      await page.getByTestId('pct-working').waitFor();
      await page.getByText(/Đang tải vị trí/).waitFor({ state: 'detached', timeout: 60_000 });
      await page.close();
      sides.push({ name: i === 0 ? 'national' : 'sample', base, context, first: [] as number[], map: [] as number[] });
    }
    for (let run = 0; run < RUNS; run++) {
      for (const side of sides) {
        const p = await side.context.newPage();
        const start = performance.now();
        await p.goto(side.base + '/tong-quan');
        await p.getByTestId('pct-working').waitFor();
        await p.getByTestId('children').waitFor();
        await p.getByTestId('devices').waitFor();
        side.first.push(Math.round(performance.now() - start));
        await p.getByText(/Đang tải vị trí/).waitFor({ state: 'detached', timeout: 60_000 });
        side.map.push(Math.round(performance.now() - start));
        await p.close();
      }
      log(`bench:dashboard: run ${run + 1}/${RUNS}: national ${sides[0]!.first.at(-1)} ms (map ${sides[0]!.map.at(-1)} ms), sample ${sides[1]!.first.at(-1)} ms`);
    }
    const [nat, sample] = sides as [typeof sides[0], typeof sides[0]];
    const result = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadavg: loadavg() },
      communes: 3321,
      boxes: BOXES,
      runs: RUNS,
      national: { firstLoadMs: nat.first, mapMs: nat.map, firstLoadMedianMs: median(nat.first), mapMedianMs: median(nat.map) },
      reference: { name: 'sample installation (6 communes, 20 boxes)', firstLoadMs: sample.first, mapMs: sample.map, firstLoadMedianMs: median(sample.first) },
      ratio: +(median(nat.first) / median(sample.first)).toFixed(2),
      budgetMs: BUDGET_MS,
      met: median(nat.first) < BUDGET_MS,
    };
    await mkdir(new URL('results/', HERE), { recursive: true });
    await writeFile(new URL('results/dashboard.json', HERE), `${JSON.stringify(result, null, 2)}\n`);
    await updateReadmeBlock(new URL('README.md', HERE), 'dashboard', [
      `Last run ${result.date.slice(0, 10)}, ${result.machine.cpus} cores, Node ${process.version}, chromium headless, ${RUNS} cold loads per side (medians):`,
      '',
      '| | first load (tiles, communes, devices) | all map points | target | met |',
      '|---|---|---|---|---|',
      `| national: 3,321 communes, ${BOXES.toLocaleString('en')} boxes | ${result.national.firstLoadMedianMs} ms | ${result.national.mapMedianMs} ms | < ${BUDGET_MS} ms | ${result.met ? 'yes' : 'no'} |`,
      `| reference: sample installation, 6 communes, 20 boxes | ${result.reference.firstLoadMedianMs} ms | ${median(sample.map)} ms | | |`,
      `| ratio national / sample | ${result.ratio}× | | | |`,
    ].join('\n'));
    log(`bench:dashboard: national ${result.national.firstLoadMedianMs} ms (map ${result.national.mapMedianMs} ms), sample ${result.reference.firstLoadMedianMs} ms, ratio ${result.ratio}×; budget ${BUDGET_MS} ms ${result.met ? 'met' : 'MISSED'}`);
  } finally {
    await browser.close();
    await Promise.all(servers.map((s) => s.stop()));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  log(`bench:dashboard failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
