/**
 * `GET /metrics` in the Prometheus text format (issue 21): every line valid for a strict reader, access as
 * for the JSON metrics plus the scrape token, values that follow boxes and broadcasts, and HTTP labels that
 * stay bounded whatever URLs clients send.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { startSimulation } from '../../firmware-sim/src/index.js';
import { loadConfig } from '../../server/src/config.js';
import { renderExposition } from '../../server/src/metrics/exposition.js';
import { routeTableOf } from '../../server/src/http/access.js';
import { startTestServer, importSampleAreas, tempDir, ADMIN_PASSWORD } from '../helpers/server.js';
import { parseExposition, valueOf } from '../helpers/prometheus.js';
import { waitFor } from '../helpers/wait.js';

const SCRAPE_TOKEN = 'scrape-' + randomBytes(24).toString('base64url');

async function scrape(base: string, token = SCRAPE_TOKEN) {
  const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`scrape answered ${res.status}: ${await res.text()}`);
  const text = await res.text();
  return { text, families: parseExposition(text), contentType: res.headers.get('content-type') };
}

t.test('the exposition writer escapes what the format requires and refuses what would break a scrape', async (t) => {
  const text = renderExposition([
    { name: 'x_total', type: 'counter', help: 'a \\ and a\nnewline', samples: [{ labels: { v: 'quote " backslash \\ newline \n end' }, value: 3 }] },
    { name: 'h_seconds', type: 'histogram', help: 'h', histograms: [{ histogram: { bounds: [1, 2], counts: [1, 0], sum: 3.5, count: 2 } }] },
  ]);
  const f = parseExposition(text);
  t.equal(f.get('x_total')!.help, 'a \\ and a\nnewline');
  t.equal(f.get('x_total')!.samples[0]!.labels.v, 'quote " backslash \\ newline \n end', 'a label value survives the round trip');
  t.same(f.get('h_seconds')!.samples.map((s) => [s.name, s.labels.le, s.value]), [['h_seconds_bucket', '1', 1], ['h_seconds_bucket', '2', 1], ['h_seconds_bucket', '+Inf', 2], ['h_seconds_sum', undefined, 3.5], ['h_seconds_count', undefined, 2]]);
  t.throws(() => renderExposition([{ name: 'x', type: 'counter', help: '', samples: [] }]), /must end in _total/);
  t.throws(() => renderExposition([{ name: 'a-b', type: 'gauge', help: '', samples: [] }]), /invalid metric name/);
  t.throws(() => renderExposition([{ name: 'g', type: 'gauge', help: '', samples: [{ labels: { __x: 'y' }, value: 1 }] }]), /invalid label name/);
  // The reader refuses what the writer must never write.
  t.throws(() => parseExposition('x 1\n'), /before a TYPE/);
  t.throws(() => parseExposition('# TYPE g gauge\ng{a="\\t"} 1\n'), /bad escape/);
  t.throws(() => parseExposition('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'), /not cumulative/);
  t.throws(() => parseExposition('# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'), /is not _count/);
  t.throws(() => parseExposition('# TYPE g gauge\ng 1\n# TYPE k gauge\nk 1\ng{a="b"} 2\n'), /resumes/);
});

t.test('a scrape token too short or with characters a bearer header cannot carry is refused at start, by name', async (t) => {
  t.throws(() => loadConfig({ LOAXA_METRICS_TOKEN: 'short' }), /LOAXA_METRICS_TOKEN/);
  t.throws(() => loadConfig({ LOAXA_METRICS_TOKEN: 'x'.repeat(31) + ' ' }), /LOAXA_METRICS_TOKEN/);
  t.equal(loadConfig({ LOAXA_METRICS_TOKEN: SCRAPE_TOKEN }).metricsToken, SCRAPE_TOKEN);
});

t.test('GET /metrics: province admins or the scrape token, nobody else, and the token opens nothing else', async (t) => {
  const { api, token, base, server } = await startTestServer(t, { metricsToken: SCRAPE_TOKEN });
  await importSampleAreas(api, token);
  await api('POST', '/api/v1/users', { username: 'xem', password: 'a-long-password', role: 'viewer', areaCode: '99' }, token);
  await api('POST', '/api/v1/users', { username: 'dh', password: 'a-long-password', role: 'operator', areaCode: '99' }, token);
  const viewer = (await api('POST', '/api/v1/auth/login', { username: 'xem', password: 'a-long-password' })).body.token;
  const operator = (await api('POST', '/api/v1/auth/login', { username: 'dh', password: 'a-long-password' })).body.token;

  t.equal((await fetch(`${base}/metrics`)).status, 401, 'no credentials');
  t.equal((await api('GET', '/metrics', undefined, viewer)).status, 403, 'a viewer');
  t.equal((await api('GET', '/metrics', undefined, operator)).status, 403, 'an operator');
  t.equal((await api('GET', '/metrics', undefined, SCRAPE_TOKEN.slice(0, -1) + (SCRAPE_TOKEN.endsWith('a') ? 'b' : 'a'))).status, 401, 'a wrong token');
  const byAdmin = await api('GET', '/metrics', undefined, token);
  t.equal(byAdmin.status, 200, 'a province admin');
  const { contentType, families } = await scrape(base);
  t.equal(contentType, 'text/plain; version=0.0.4; charset=utf-8');
  t.ok(families.get('loaxa_boxes_online'), 'the scrape token');
  t.equal((await api('GET', '/api/v1/metrics', undefined, SCRAPE_TOKEN)).status, 200, 'the JSON metrics take it too: the same declaration');
  t.equal((await api('GET', '/api/v1/users', undefined, SCRAPE_TOKEN)).status, 401, 'the token is no login for anything else');
  t.equal((await api('GET', '/api/v1/devices', undefined, SCRAPE_TOKEN)).status, 401);
  const takers = routeTableOf(server.app).filter((r) => r.method !== 'HEAD' && r.access.kind === 'roles' && r.access.scrapeToken).map((r) => `${r.method} ${r.url}`).sort();
  t.same(takers, ['GET /api/v1/metrics', 'GET /metrics'], 'only the two metrics routes take the scrape token');
  const doc = (await api('GET', '/openapi.json')).body.paths['/metrics'].get.description as string;
  t.match(doc, /LOAXA_METRICS_TOKEN/, 'the API description says who may call it');

  // Without LOAXA_METRICS_TOKEN no bearer is a scrape token, however it looks.
  const plain = await startTestServer(t);
  t.equal((await plain.api('GET', '/metrics', undefined, SCRAPE_TOKEN)).status, 401);
  t.equal((await plain.api('GET', '/metrics', undefined, plain.token)).status, 200);
});

t.test('boxes connecting and a broadcast delivered move the figures; every family is valid throughout', async (t) => {
  const { api, token, base, urls } = await startTestServer(t, { metricsToken: SCRAPE_TOKEN, ingestFlushMs: 50 });
  await importSampleAreas(api, token);
  const before = await scrape(base);
  t.equal(valueOf(before.families, 'loaxa_broker_up'), 1, 'the embedded broker listens');
  t.equal(valueOf(before.families, 'loaxa_broker_connections'), 0);
  t.equal(before.families.get('loaxa_boxes_online')!.samples.length, 0, 'no box, no province series');
  t.equal(valueOf(before.families, 'loaxa_faults_open', { kind: 'amplifier' }), 0, 'every fault kind present, at zero');
  t.equal(valueOf(before.families, 'loaxa_deliveries_recent', { state: 'played' }), 0, 'every delivery state present, at zero');
  t.ok(valueOf(before.families, 'process_resident_memory_bytes')! > 0);
  t.ok(valueOf(before.families, 'process_cpu_seconds_total')! > 0);
  t.equal(valueOf(before.families, 'loaxa_national_outbox_pending'), 0);

  const simDir = await tempDir(t, 'loaxa-sim-');
  const sim = await startSimulation({ serverUrl: base, count: 2, areaCode: '99003', stateFile: `${simDir}/state.json`, logger: pino({ level: 'silent' }), username: 'admin', password: ADMIN_PASSWORD, startSpreadMs: 20 });
  t.teardown(() => sim.stop());
  t.equal(await sim.waitForConnections(10_000), 2);
  const online = await waitFor('both boxes online in /metrics', async () => {
    const s = await scrape(base);
    return valueOf(s.families, 'loaxa_boxes_online', { province: '99' }) === 2 ? s : null;
  }, 10_000, 100);
  t.equal(valueOf(online.families, 'loaxa_boxes_registered', { province: '99' }), 2);
  t.equal(valueOf(online.families, 'loaxa_broker_connections'), 2);
  t.ok(valueOf(online.families, 'loaxa_ingest_messages_received_total', { kind: 'status' })! >= 2, 'their statuses counted');

  const bulletin = await api('POST', '/api/v1/bulletins', { title: 'Thử', text: 'Xin chào bà con.', category: 'local-direction' }, token);
  t.equal(bulletin.status, 201);
  const cast = await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.body.id, priority: 'normal', target: { areaCodes: ['99003'] } }, token);
  t.equal(cast.status, 201);
  const after = await waitFor('both deliveries played in /metrics', async () => {
    const s = await scrape(base);
    return valueOf(s.families, 'loaxa_deliveries_recent', { state: 'played' }) === 2 ? s : null;
  }, bulletin.body.audio.durationMs + 20_000, 200);
  const f = after.families;
  t.equal(valueOf(f, 'loaxa_deliveries_recent', { state: 'queued' }), 0);
  t.ok(valueOf(f, 'loaxa_ingest_messages_stored_total', { kind: 'delivery_report' })! >= 2, 'the reports stored');
  t.equal(
    valueOf(f, 'loaxa_ingest_write_latency_seconds', { kind: 'delivery_report', le: '+Inf' }, 'loaxa_ingest_write_latency_seconds_bucket'),
    valueOf(f, 'loaxa_ingest_write_latency_seconds', { kind: 'delivery_report' }, 'loaxa_ingest_write_latency_seconds_count'),
  );
  t.ok(valueOf(f, 'loaxa_ingest_write_latency_seconds', { kind: 'delivery_report' }, 'loaxa_ingest_write_latency_seconds_count')! >= 2, 'each report timed');
  t.equal(valueOf(f, 'loaxa_tts_synthesis_seconds', { outcome: 'ready' }, 'loaxa_tts_synthesis_seconds_count'), 1, 'the synthesis timed');
  t.equal(valueOf(f, 'loaxa_tts_queue_length'), 0, 'and the queue empty again');
  t.ok(valueOf(f, 'loaxa_http_request_duration_seconds', { route: '/api/v1/broadcasts', method: 'POST', status: '2xx' }, 'loaxa_http_request_duration_seconds_count')! >= 1, 'HTTP timed by route pattern');
  t.equal(valueOf(f, 'loaxa_live_airings_on_air'), 0);

  await sim.stop();
  await waitFor('boxes offline in /metrics', async () => {
    const s = await scrape(base);
    return valueOf(s.families, 'loaxa_boxes_online', { province: '99' }) === 0 && valueOf(s.families, 'loaxa_broker_connections') === 0 ? true : null;
  }, 10_000, 100);
  t.pass('boxes leaving are seen too');
  t.ok(urls.mqttUrl);
});

t.test('1,000 random URLs add a bounded number of series, and no URL of theirs reaches a label', async (t) => {
  const { base } = await startTestServer(t, { metricsToken: SCRAPE_TOKEN });
  const first = await scrape(base);
  const seriesOf = (f: ReturnType<typeof parseExposition>) => new Set(f.get('loaxa_http_request_duration_seconds')!.samples.map((s) => JSON.stringify({ ...s.labels, le: undefined })));
  const methods = ['GET', 'POST', 'DELETE', 'PATCH', 'PROPFIND', 'GET'];
  const marks: string[] = [];
  const paths = (i: number) => {
    const r = randomBytes(6).toString('hex');
    marks.push(r);
    return [`/api/v1/devices/${r}`, `/probe/${r}/x?y=${r}`, `/api/v1/broadcasts/${r}?q=${r}`, `/${r}`, `/api/v1/%75sers/${r}`, `/metrics?${r}`][i % 6]!;
  };
  for (let i = 0; i < 1000; i += 50) {
    await Promise.all(Array.from({ length: 50 }, (_, j) => fetch(base + paths(i + j), { method: methods[(i + j) % methods.length]!, headers: { authorization: `Bearer ${randomBytes(24).toString('base64url')}` } }).then((r) => r.arrayBuffer())));
  }
  const last = await scrape(base);
  const series = seriesOf(last.families);
  t.ok(series.size <= seriesOf(first.families).size + 20, `series after 1,000 random URLs: ${series.size}`);
  for (const m of marks.slice(0, 200)) if (last.text.includes(m)) t.fail(`a request's own text reached the metrics: ${m}`);
  const routes = new Set([...last.families.get('loaxa_http_request_duration_seconds')!.samples].map((s) => s.labels.route));
  t.ok(routes.has('unmatched'), 'unknown paths share one label');
  t.ok(routes.has('/api/v1/devices/:id'), 'known routes are their pattern');
  const methodsSeen = new Set([...last.families.get('loaxa_http_request_duration_seconds')!.samples].map((s) => s.labels.method));
  t.ok(!methodsSeen.has('PROPFIND'), 'an odd method is OTHER, not a new label value');
});
