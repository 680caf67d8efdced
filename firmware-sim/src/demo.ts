/**
 * `npm run demo`: the whole path in one command. Starts the server (data in ./data/demo), imports the
 * sample province, runs 20 simulated boxes in four communes, writes a Vietnamese bulletin, broadcasts it to
 * the province, and prints each box's delivery state until every box has played it.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { startServer } from '@loaxa/server';
import { startSimulation, type Simulation } from './sim.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const SAMPLE_AREAS = join(HERE, '../../server/data/sample-areas.json');
const COMMUNES = ['99001', '99002', '99003', '99004'];
const BOXES_PER_COMMUNE = 5;
const TEXT =
  'Ủy ban nhân dân xã thông báo: theo dự báo, đêm nay và ngày mai khu vực có mưa to. ' +
  'Đề nghị bà con kiểm tra chằng chống nhà cửa, không đi qua ngầm tràn khi nước lên, ' +
  'và theo dõi thông báo trên hệ thống loa truyền thanh của xã.';

const env = process.env;
const out = (line: string) => process.stdout.write(`${line}\n`);
const clock = () => new Date().toLocaleTimeString('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', hour12: false });

async function main(): Promise<number> {
  if (process.argv.includes('--help')) {
    out('npm run demo — server + 20 simulated boxes + one bulletin, printed until every box has played it.');
    out('Data in ./data/demo (LOAXA_DATA_DIR overrides); ports are ephemeral unless LOAXA_HTTP_PORT / LOAXA_MQTT_PORT are set.');
    return 0;
  }
  const dataDir = resolve(env.LOAXA_DATA_DIR ?? './data/demo');
  const password = env.LOAXA_ADMIN_PASSWORD ?? 'loaxa-demo-password';
  const logger = pino({ level: env.LOAXA_LOG_LEVEL ?? 'warn' });
  out(`Loa Xã demo — data in ${dataDir}`);
  const server = await startServer(
    {
      dataDir,
      adminPassword: password,
      httpPort: env.LOAXA_HTTP_PORT ? Number(env.LOAXA_HTTP_PORT) : 0,
      mqttPort: env.LOAXA_MQTT_PORT ? Number(env.LOAXA_MQTT_PORT) : 0,
      httpHost: '127.0.0.1',
      mqttHost: '127.0.0.1',
    },
    { logger },
  );
  const base = server.urls.httpUrl;
  out(`server: ${base} (MQTT ${server.urls.mqttUrl}), user admin / ${password}`);
  const sims: Simulation[] = [];
  try {
    const api = async (method: string, path: string, body?: unknown, token?: string) => {
      const res = await fetch(base + path, {
        method,
        headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      // The demo reads the server's answers loosely, as a script would (tests check their shapes).
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const json = (await res.json()) as any;
      if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${json?.error?.message ?? JSON.stringify(json)}`);
      return json;
    };
    const login = await api('POST', '/api/v1/auth/login', { username: 'admin', password }).catch((err: Error) => {
      throw new Error(`${err.message}\n${dataDir} belongs to another admin password: set LOAXA_ADMIN_PASSWORD or remove that folder`);
    });
    const token = login.token as string;
    await api('POST', '/api/v1/areas/import', JSON.parse(await readFile(SAMPLE_AREAS, 'utf8')), token);
    const tree = await api('GET', '/api/v1/areas', undefined, token);
    const names = new Map<string, string>();
    type AreaNode = { code: string; name: string; children: AreaNode[] };
    const walk = (nodes: AreaNode[]): void => nodes.forEach((n) => (names.set(n.code, n.name), walk(n.children)));
    walk(tree.items);
    out(`areas: ${names.get('99')} with ${COMMUNES.length} communes in the demo`);

    for (const code of COMMUNES) {
      sims.push(
        await startSimulation({
          serverUrl: base,
          count: BOXES_PER_COMMUNE,
          areaCode: code,
          stateFile: join(dataDir, `sim-${code}.json`),
          logger,
          username: 'admin',
          password,
          startSpreadMs: 500,
        }),
      );
    }
    const connected = (await Promise.all(sims.map((s) => s.waitForConnections(15_000)))).reduce((a, b) => a + b, 0);
    out(`boxes: ${connected} of ${COMMUNES.length * BOXES_PER_COMMUNE} connected`);
    const areaOf = new Map(sims.flatMap((s) => s.devices.map((d) => [d.id, d.areaCode] as const)));

    const t0 = Date.now();
    let bulletin = await api('POST', '/api/v1/bulletins', { title: 'Thông báo phòng chống mưa lũ', text: TEXT, category: 'unscheduled-news' }, token);
    while (bulletin.status !== 'ready') {
      await new Promise((r) => setTimeout(r, 500));
      bulletin = await api('GET', `/api/v1/bulletins/${bulletin.id}`, undefined, token);
      if (bulletin.status === 'failed') throw new Error(`synthesis failed: ${bulletin.error}`);
    }
    const audio = bulletin.audio;
    out(`bulletin: "${TEXT.slice(0, 60)}…" → ${(audio.durationMs / 1000).toFixed(1)} s of Opus, sha256 ${audio.sha256.slice(0, 12)}…, synthesized in ${Date.now() - t0} ms`);

    // A few seconds ahead, as a real schedule would be: every box fetches and caches the audio first, then
    // all of them start together on the instant.
    const startAt = new Date(Date.now() + 5000).toISOString();
    const cast = await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, priority: 'normal', target: { areaCodes: ['99'] }, startAt }, token);
    out(`broadcast ${cast.id}: ${cast.status}, ${cast.devices} boxes, starts ${cast.startAt}`);
    out('');

    const last = new Map<string, string>();
    const deadline = Date.now() + audio.durationMs + 120_000;
    for (;;) {
      const b = await api('GET', `/api/v1/broadcasts/${cast.id}`, undefined, token);
      for (const d of b.deliveries as Array<{ deviceId: string; state: string; reason?: string }>) {
        if (last.get(d.deviceId) === d.state) continue;
        last.set(d.deviceId, d.state);
        const where = names.get(areaOf.get(d.deviceId) ?? '') ?? '';
        out(`${clock()}  ${d.deviceId}  ${where.padEnd(18)}  ${d.state}${d.reason ? ` (${d.reason})` : ''}`);
      }
      const s = b.summary as Record<string, number>;
      const done = (s.played ?? 0) + (s.failed ?? 0) + (s.missed ?? 0) + (s.expired ?? 0) + (s.cancelled ?? 0);
      if (done === b.deliveries.length) {
        out('');
        out(`done: ${s.played} played, ${b.deliveries.length - (s.played ?? 0)} not played, of ${b.deliveries.length} boxes`);
        return s.played === b.deliveries.length ? 0 : 1;
      }
      if (Date.now() > deadline) {
        out(`gave up waiting: ${JSON.stringify(s)}`);
        return 1;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await Promise.all(sims.map((s) => s.stop()));
    await server.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
