/**
 * `npm run bench:reading` — how well the normalizer reads public-announcement text (issue 19):
 *
 * - accuracy: every sentence of bench/reading/corpus-*.tsv (written by the project: written text, class,
 *   and the reading an announcer gives, typed by hand, never copied from the normalizer) is normalized; the
 *   figure is the share read exactly, by class, with each misread listed and whether the report told the
 *   operator about it (a guessed or unread span in the sentence). Words are compared, since vi-reading.md
 *   calls pause marks illustrative; in the "pause" class, where the pauses are the point, the whole reading
 *   is compared, marks included.
 * - time: the 1,000-word bulletin (bench/bulletin-vi.txt) read by this normalizer and by the one before
 *   issue 19 (REFERENCE_COMMIT, taken from git into a temporary directory), interleaved, medians compared.
 *
 * Writes bench/results/reading.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalizeVietnamese } from '../shared/src/vi/index.js';

/** The last commit before issue 19's reading rules: the normalizer the 10 % time budget is measured against. */
const REFERENCE_COMMIT = '04220ad3f47364e755253dd36b60ebf0dfa2c25e';
const HERE = new URL('.', import.meta.url);
const ROOT = new URL('..', HERE);
const TARGET_EXACT = 0.97;
const TARGET_TIME_RATIO = 1.1;

const log = (s: string) => process.stdout.write(`${s}\n`);
const wordsOf = (s: string) => s.replace(/[.,;:!?]/gu, ' ').replace(/\s+/gu, ' ').trim();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

interface Sentence {
  file: string;
  line: number;
  cls: string;
  written: string;
  expected: string;
}

function loadCorpus(): Sentence[] {
  const dir = new URL('reading/', HERE);
  const out: Sentence[] = [];
  for (const file of readdirSync(dir).filter((f) => /^corpus-.*\.tsv$/u.test(f)).sort()) {
    readFileSync(new URL(file, dir), 'utf8').split('\n').forEach((row, i) => {
      if (!row.trim() || row.startsWith('#')) return;
      const [cls, written, expected] = row.split('\t');
      if (!cls || !written || expected === undefined) throw new Error(`${file}:${i + 1}: expected class, written, reading`);
      out.push({ file, line: i + 1, cls, written: written.replace(/\\n/gu, '\n'), expected });
    });
  }
  return out;
}

function accuracy(corpus: Sentence[]) {
  const classes: Record<string, { sentences: number; exact: number }> = {};
  const misreads: { at: string; class: string; written: string; expected: string; got: string; reported: boolean }[] = [];
  for (const s of corpus) {
    const r = normalizeVietnamese(s.written);
    const exact = s.cls === 'pause' ? r.text === s.expected : wordsOf(r.text) === wordsOf(s.expected);
    const c = (classes[s.cls] ??= { sentences: 0, exact: 0 });
    c.sentences++;
    if (exact) {
      c.exact++;
      continue;
    }
    const reported = r.guessed.length + r.unread.length > 0;
    misreads.push({ at: `${s.file}:${s.line}`, class: s.cls, written: s.written, expected: s.expected, got: r.text, reported });
  }
  const exact = corpus.length - misreads.length;
  return { sentences: corpus.length, exact, share: Number((exact / corpus.length).toFixed(4)), classes, misreads };
}

type Normalize = (text: string) => unknown;

/** The normalizer as it was at REFERENCE_COMMIT, loaded from a temporary copy of its sources. */
async function referenceNormalizer(dir: string): Promise<Normalize> {
  const tar = execFileSync('git', ['archive', REFERENCE_COMMIT, 'shared/src/vi'], { cwd: ROOT });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  const mod = (await import(join(dir, 'shared/src/vi/index.ts'))) as { normalizeVietnamese: Normalize };
  return mod.normalizeVietnamese;
}

function timing(ref: Normalize, text: string) {
  const sides: Record<'reference' | 'current', Normalize> = { reference: ref, current: (t) => normalizeVietnamese(t) };
  for (const f of Object.values(sides)) for (let i = 0; i < 50; i++) f(text); // warm-up: JIT, caches
  const ms: Record<'reference' | 'current', number[]> = { reference: [], current: [] };
  for (let round = 0; round < 40; round++) {
    for (const side of ['reference', 'current'] as const) {
      const t0 = performance.now();
      for (let i = 0; i < 10; i++) sides[side](text);
      ms[side].push((performance.now() - t0) / 10);
    }
  }
  const reference = median(ms.reference);
  const current = median(ms.current);
  return { words: text.split(/\s+/u).filter(Boolean).length, referenceMs: Number(reference.toFixed(2)), currentMs: Number(current.toFixed(2)), ratio: Number((current / reference).toFixed(3)) };
}

async function main(): Promise<void> {
  const corpus = loadCorpus();
  const acc = accuracy(corpus);
  log(`reading: ${acc.exact}/${acc.sentences} sentences read exactly (${(acc.share * 100).toFixed(1)} %, target ${TARGET_EXACT * 100} %)`);
  for (const [cls, c] of Object.entries(acc.classes)) log(`  ${cls.padEnd(8)} ${c.exact}/${c.sentences}`);
  const silent = acc.misreads.filter((m) => !m.reported);
  log(`misreads: ${acc.misreads.length}, of which not reported to the operator: ${silent.length}`);
  for (const m of acc.misreads) log(`  [${m.class}${m.reported ? '' : ', SILENT'}] ${m.at} ${JSON.stringify(m.written)}\n      want ${m.expected}\n      got  ${m.got}`);

  const dir = mkdtempSync(join(tmpdir(), 'loaxa-reading-ref-'));
  let time;
  try {
    const bulletin = readFileSync(new URL('bulletin-vi.txt', HERE), 'utf8');
    time = timing(await referenceNormalizer(dir), bulletin);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  log(`time: ${time.words}-word bulletin ${time.currentMs} ms, before issue 19 ${time.referenceMs} ms (ratio ${time.ratio}, budget ${TARGET_TIME_RATIO})`);

  const result = {
    date: new Date().toISOString(),
    targets: { exactShare: TARGET_EXACT, timeRatio: TARGET_TIME_RATIO },
    accuracy: { ...acc, silentMisreads: silent.length },
    time: { ...time, referenceCommit: REFERENCE_COMMIT },
  };
  writeFileSync(new URL('results/reading.json', HERE), `${JSON.stringify(result, null, 2)}\n`);
}

await main();
