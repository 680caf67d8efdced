/**
 * A strict reader of the Prometheus text format 0.0.4, stricter than Prometheus itself: it throws, naming
 * the line, on anything the format does not allow and on what Prometheus would accept but a dashboard would
 * trip on — a family's samples before its TYPE, a family declared twice or split in two, a series twice,
 * a counter not ending in `_total`, histogram buckets out of order, not cumulative, without `le="+Inf"`,
 * or whose +Inf bucket differs from `_count`.
 */
export type Labels = Record<string, string>;
export interface ParsedSample {
  name: string;
  labels: Labels;
  value: number;
}
export interface ParsedFamily {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string | null;
  samples: ParsedSample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(s: string, where: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`${where}: bad value ${JSON.stringify(s)}`);
  return Number(s);
}

/** `{a="x",b="y\"z"}` from position `i` of `line` (at the `{`); answers the labels and the position after `}`. */
function parseLabels(line: string, i: number, where: string): { labels: Labels; end: number } {
  const labels: Labels = {};
  i++; // {
  for (;;) {
    if (line[i] === '}') return { labels, end: i + 1 };
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(i));
    if (!m) throw new Error(`${where}: bad label at ${JSON.stringify(line.slice(i, i + 20))}`);
    const key = m[1]!;
    if (key in labels) throw new Error(`${where}: label ${key} twice`);
    i += m[0].length;
    let value = '';
    for (;;) {
      const c = line[i];
      if (c === undefined) throw new Error(`${where}: unterminated label value`);
      if (c === '"') break;
      if (c === '\\') {
        const n = line[i + 1];
        if (n === '\\') value += '\\';
        else if (n === '"') value += '"';
        else if (n === 'n') value += '\n';
        else throw new Error(`${where}: bad escape \\${n ?? ''} in a label value`);
        i += 2;
      } else {
        value += c;
        i++;
      }
    }
    labels[key] = value;
    i++; // closing quote
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw new Error(`${where}: expected , or } after label ${key}`);
  }
}

/** The family a sample name belongs to, given the families declared so far. */
function familyOf(name: string, families: Map<string, ParsedFamily>): ParsedFamily | undefined {
  const direct = families.get(name);
  if (direct && direct.type !== 'histogram' && direct.type !== 'summary') return direct;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const f = families.get(name.slice(0, -suffix.length));
    if (f && (f.type === 'histogram' || (f.type === 'summary' && suffix !== '_bucket'))) return f;
  }
  return undefined;
}

export function parseExposition(text: string): Map<string, ParsedFamily> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, ParsedFamily>();
  const series = new Set<string>();
  const closed = new Set<string>();
  let current: string | null = null;
  const enter = (name: string, where: string) => {
    if (current === name) return;
    if (closed.has(name)) throw new Error(`${where}: family ${name} resumes after another family`);
    if (current) closed.add(current);
    current = name;
  };
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, n) => {
      const where = `line ${n + 1}`;
      if (line === '') throw new Error(`${where}: empty line`);
      if (line.startsWith('#')) {
        const m = new RegExp(`^# (HELP|TYPE) (${NAME}) (.*)$`).exec(line);
        if (!m) throw new Error(`${where}: a comment other than HELP or TYPE: ${line}`);
        const [, what, name, rest] = m as unknown as [string, 'HELP' | 'TYPE', string, string];
        enter(name, where);
        let f = families.get(name);
        if (what === 'TYPE') {
          if (!TYPES.has(rest)) throw new Error(`${where}: unknown type ${rest}`);
          if (f?.samples.length) throw new Error(`${where}: TYPE of ${name} after its samples`);
          if (f && f.type !== 'untyped') throw new Error(`${where}: TYPE of ${name} twice`);
          if (rest === 'counter' && !name.endsWith('_total')) throw new Error(`${where}: counter ${name} does not end in _total`);
          if (f) f.type = rest as ParsedFamily['type'];
          else families.set(name, { name, type: rest as ParsedFamily['type'], help: null, samples: [] });
        } else {
          if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ''))) throw new Error(`${where}: bad escape in HELP`);
          if (f?.help != null) throw new Error(`${where}: HELP of ${name} twice`);
          if (!f) families.set(name, (f = { name, type: 'untyped', help: null, samples: [] }));
          f.help = rest.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
        }
        return;
      }
      const m = new RegExp(`^(${NAME})`).exec(line);
      if (!m) throw new Error(`${where}: bad sample: ${line}`);
      const name = m[1]!;
      let i = name.length;
      let labels: Labels = {};
      if (line[i] === '{') ({ labels, end: i } = parseLabels(line, i, where));
      const rest = line.slice(i);
      const v = /^ (\S+)( -?\d+)?$/.exec(rest);
      if (!v) throw new Error(`${where}: bad value part ${JSON.stringify(rest)}`);
      const f = familyOf(name, families);
      if (!f || f.type === 'untyped') throw new Error(`${where}: sample ${name} before a TYPE declares its family`);
      enter(f.name, where);
      const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
      if (series.has(key)) throw new Error(`${where}: series ${key} twice`);
      series.add(key);
      const value = parseValue(v[1]!, where);
      if (f.type === 'counter' && !(value >= 0)) throw new Error(`${where}: counter ${name} is ${value}`);
      f.samples.push({ name, labels, value });
    });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function checkHistogram(f: ParsedFamily): void {
  const groups = new Map<string, { buckets: Array<[number, number]>; sum?: number; count?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { buckets: [] }));
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new Error(`${f.name}: a bucket without le`);
      g.buckets.push([parseValue(le, f.name), s.value]);
    } else if (le !== undefined) throw new Error(`${f.name}: le on ${s.name}`);
    else if (s.name === `${f.name}_sum`) g.sum = s.value;
    else g.count = s.value;
  }
  for (const [key, g] of groups) {
    const what = `${f.name}${key}`;
    if (g.sum === undefined || g.count === undefined) throw new Error(`${what}: _sum or _count missing`);
    if (!g.buckets.length || g.buckets.at(-1)![0] !== Infinity) throw new Error(`${what}: buckets do not end with le="+Inf"`);
    for (let i = 1; i < g.buckets.length; i++) {
      if (!(g.buckets[i]![0] > g.buckets[i - 1]![0])) throw new Error(`${what}: bucket bounds not ascending`);
      if (g.buckets[i]![1] < g.buckets[i - 1]![1]) throw new Error(`${what}: buckets not cumulative`);
    }
    if (g.buckets.at(-1)![1] !== g.count) throw new Error(`${what}: +Inf bucket ${g.buckets.at(-1)![1]} is not _count ${g.count}`);
  }
}

/** One sample's value by family and labels (a subset match), or undefined. */
export function valueOf(families: Map<string, ParsedFamily>, name: string, labels: Labels = {}, sampleName = name): number | undefined {
  return families.get(name)?.samples.find((s) => s.name === sampleName && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
