/**
 * The monitoring files in deploy/ (issue 21) against the server they watch: every metric an alert rule or a
 * dashboard query names is one a live `GET /metrics` exposes, so a renamed metric breaks this test instead
 * of silently muting an alert. With promtool (Debian package `prometheus`; PROMTOOL names another binary)
 * the rules and the scrape configuration are also checked by Prometheus's own parser.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { startTestServer, importSampleAreas, tempDir } from '../helpers/server.js';
import { parseExposition } from '../helpers/prometheus.js';

const run = promisify(execFile);
const DEPLOY = new URL('../../deploy/', import.meta.url).pathname;
const PROMTOOL = process.env.PROMTOOL ?? 'promtool';
const hasPromtool = await run(PROMTOOL, ['--version']).then(() => true, () => false);

/** Names Prometheus makes itself, not the server. */
const PROMETHEUS_OWN = new Set(['up']);
const FUNCTIONS = new Set([
  'abs', 'absent', 'avg_over_time', 'ceil', 'changes', 'clamp_max', 'clamp_min', 'count_over_time', 'delta', 'deriv', 'floor', 'histogram_quantile',
  'idelta', 'increase', 'irate', 'label_replace', 'max_over_time', 'min_over_time', 'predict_linear', 'rate', 'resets', 'round', 'scalar', 'sort',
  'sort_desc', 'sum_over_time', 'time', 'timestamp', 'vector', 'label_values',
]);
const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'group']);
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'offset', 'bool', 'inf', 'nan']);

/**
 * The metric names a PromQL expression reads, after checking what a typo would break: brackets balanced,
 * strings closed, functions known. Not a PromQL parser; promtool is, when installed.
 */
export function metricNames(expr: string): string[] {
  const stack: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  let text = '';
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (c === '"' || c === "'") {
      const end = expr.indexOf(c, i + 1);
      if (end < 0) throw new Error(`unterminated string in ${expr}`);
      i = end;
      text += ' "" ';
      continue;
    }
    if ('([{'.includes(c)) stack.push(c);
    if (')]}'.includes(c) && stack.pop() !== pairs[c]) throw new Error(`unbalanced ${c} in ${expr}`);
    text += c;
  }
  if (stack.length) throw new Error(`unclosed ${stack.join('')} in ${expr}`);
  const bare = text
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/\boffset\s+\d+[smhdwy]/g, ' ');
  const names: string[] = [];
  for (const m of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?/g)) {
    const word = m[0].replace(/\s*\($/, '');
    const call = m[0].endsWith('(');
    if (call) {
      if (!FUNCTIONS.has(word) && !AGGREGATIONS.has(word)) throw new Error(`unknown function ${word} in ${expr}`);
      continue;
    }
    if (KEYWORDS.has(word.toLowerCase())) continue;
    // e.g. 1.5e9: the exponent's letter and digits
    if (/^e\d*$/.test(word) && /\d$/.test(bare.slice(0, m.index).trimEnd())) continue;
    names.push(word);
  }
  return names;
}

async function exposedNames(t: { teardown(fn: () => unknown): void }) {
  const token = 'scrape-' + randomBytes(24).toString('base64url');
  const server = await startTestServer(t, { metricsToken: token });
  await importSampleAreas(server.api, server.token);
  // A box, so that the province label is there for the dashboard's variable.
  await server.api('POST', '/api/v1/devices', { name: 'loa', areaCode: '99003' }, server.token);
  const res = await fetch(`${server.base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  const families = parseExposition(await res.text());
  const names = new Set<string>(PROMETHEUS_OWN);
  for (const f of families.values()) {
    names.add(f.name);
    if (f.type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(f.name + s);
  }
  return { names, families };
}

t.test('the name check catches a misspelt metric and an unknown function (so the checks below can fail)', async (t) => {
  t.same(metricNames('sum by (province) (loaxa_boxes_online{province=~"9.*"} offset 15m) < 0.8 * x_total'), ['loaxa_boxes_online', 'x_total']);
  t.same(metricNames('histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m]))) > 1.5e9'), ['h_bucket']);
  t.throws(() => metricNames('rate(x[5m]'), /unclosed/);
  t.throws(() => metricNames('rates(x[5m])'), /unknown function rates/);
  t.throws(() => metricNames('x{a="b}'), /unterminated/);
});

t.test('alert rules: valid YAML, each alert complete, every metric one the server exposes', async (t) => {
  const { names } = await exposedNames(t);
  const doc = parseYaml(await readFile(join(DEPLOY, 'prometheus/alerts.yml'), 'utf8')) as { groups: Array<{ name: string; rules: Array<Record<string, unknown>> }> };
  t.ok(doc.groups.length > 0);
  const alerts = new Set<string>();
  for (const g of doc.groups) {
    t.type(g.name, 'string');
    for (const r of g.rules) {
      const name = r.alert as string;
      t.match(name, /^Loaxa[A-Za-z]+$/, 'an alert name');
      t.notOk(alerts.has(name), `${name} once`);
      alerts.add(name);
      t.type(r.expr, 'string', `${name} has an expression`);
      if (r.for !== undefined) t.match(r.for, /^\d+[smh]$/, `${name}: for is a duration`);
      t.match((r.labels as Record<string, string>).severity, /^(critical|warning|info)$/, `${name}: severity`);
      t.type((r.annotations as Record<string, string>).summary, 'string', `${name}: summary`);
      for (const m of metricNames(r.expr as string)) t.ok(names.has(m), `${name}: ${m} is exposed`);
    }
  }
  // What issue 21 asks the rules to cover.
  for (const a of ['LoaxaServerDown', 'LoaxaBoxesOnlineDropping', 'LoaxaDeliveriesFailing', 'LoaxaIngestLatencyHigh', 'LoaxaTtsQueueStuck', 'LoaxaOutboxBacklogGrowing']) t.ok(alerts.has(a), a);
});

t.test('dashboard: every query names exposed metrics, and the province variable reads a label the server gives', async (t) => {
  const { names, families } = await exposedNames(t);
  const d = JSON.parse(await readFile(join(DEPLOY, 'grafana/loaxa-dashboard.json'), 'utf8')) as {
    panels: Array<{ title: string; type: string; targets?: Array<{ expr: string }> }>;
    templating: { list: Array<{ name: string; type: string; query?: { query: string } }> };
  };
  const province = d.templating.list.find((v) => v.name === 'province');
  t.ok(province, 'a province variable');
  const m = /^label_values\((\w+), (\w+)\)$/.exec(province!.query!.query);
  t.ok(m, 'read from label_values');
  t.ok(names.has(m![1]!), `${m![1]} is exposed`);
  t.ok(families.get(m![1]!)!.samples.some((s) => s.labels[m![2]!] === '99'), `and carries ${m![2]} (the sample province 99)`);
  let queries = 0;
  const used = new Set<string>();
  for (const p of d.panels) {
    if (p.type === 'row') continue;
    t.ok(p.targets?.length, `${p.title} has queries`);
    for (const q of p.targets ?? []) {
      queries++;
      for (const n of metricNames(q.expr)) {
        used.add(n.replace(/_(bucket|sum|count)$/, ''));
        t.ok(names.has(n), `${p.title}: ${n} is exposed`);
      }
    }
  }
  t.ok(queries >= 20);
  // Each family the server exposes has a panel (process_start_time_seconds is for Prometheus's own uptime sums).
  for (const f of families.keys()) if (!['loaxa_build_info', 'process_cpu_user_seconds_total', 'process_cpu_system_seconds_total', 'process_start_time_seconds', 'nodejs_heap_size_total_bytes'].includes(f)) t.ok(used.has(f), `${f} on the dashboard`);
});

t.test('promtool accepts the rules and the scrape configuration, and the rules fire on made-up series as they should', { skip: !hasPromtool && 'needs promtool (Debian package prometheus, or PROMTOOL=<path>)' }, async (t) => {
  const rules = await run(PROMTOOL, ['check', 'rules', join(DEPLOY, 'prometheus/alerts.yml')]);
  t.match(rules.stdout, /SUCCESS/);
  // The alerts fire on made-up series when they should, and not before (deploy/prometheus/alerts.test.yml).
  const unit = await run(PROMTOOL, ['test', 'rules', 'alerts.test.yml'], { cwd: join(DEPLOY, 'prometheus') });
  t.match(unit.stdout, /SUCCESS/);
  // The example reads its token from /etc/prometheus; promtool stats that file, so check a copy pointing at a temp one.
  const dir = await tempDir(t);
  await writeFile(join(dir, 'token'), 'x'.repeat(40));
  const config = (await readFile(join(DEPLOY, 'prometheus/prometheus.yml'), 'utf8')).replaceAll('/etc/prometheus/loaxa-metrics-token', join(dir, 'token'));
  await writeFile(join(dir, 'prometheus.yml'), config);
  await writeFile(join(dir, 'alerts.yml'), await readFile(join(DEPLOY, 'prometheus/alerts.yml')));
  const checked = await run(PROMTOOL, ['check', 'config', join(dir, 'prometheus.yml')]);
  t.match(checked.stdout, /SUCCESS/);
});
