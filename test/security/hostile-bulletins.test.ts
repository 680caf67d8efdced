/**
 * Issue 13, hostile input: very long bulletins. Rendering holds several 48 kHz copies of the whole audio in
 * memory (~60 MB a minute): a 50,000-character bulletin was 59 minutes of speech, 72 s of work and 3.4 GB of
 * server memory, and nothing limited how many ran at once. Now the text is limited (20,000 characters at
 * speed 1, fewer when slower) with a 400 that names the limit, the spoken audio to 30 minutes whatever the
 * text expands to (digits are read as words), renders share a memory budget, and the server answers other
 * requests while one runs.
 */
import t from 'tap';
import { AudioTooLongError, EspeakEngine, renderSpeech, type Pcm, type TtsEngine } from '../../server/src/audio/index.js';
import { WeightedLimiter } from '../../server/src/audio/concurrency.js';
import { responsiveness, securityServer } from './helpers.js';
import { waitFor } from '../helpers/wait.js';

const SENTENCE = 'Ủy ban nhân dân xã thông báo lịch tiêm phòng cho trẻ em vào sáng thứ Hai tại trạm y tế xã. ';
const textOf = (chars: number, unit = SENTENCE) => unit.repeat(Math.ceil(chars / unit.length)).slice(0, chars);

t.test('a 50,000-character bulletin is refused at once with a 400 naming the limit; nothing is stored', async (t) => {
  const { api, token, server } = await securityServer(t, { ttsSyncWaitMs: 5000 });
  const count = () => (server.ctx.db.prepare('SELECT COUNT(*) AS n FROM bulletins').get() as { n: number }).n;
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['50,000 characters', { title: 'Rất dài', text: textOf(50_000) }, /at most 20000 characters/],
    ['20,001 characters', { title: 'Quá một chữ', text: textOf(20_001) }, /at most 20000 characters/],
    ['15,000 characters read at half speed', { title: 'Chậm', text: textOf(15_000), speed: 0.5 }, /at most 10000 characters at speed 0\.5/],
    ['12,001 characters at speed 0.6', { title: 'Chậm', text: textOf(12_001), speed: 0.6 }, /at most 12000 characters at speed 0\.6/],
  ];
  for (const [what, body, limit] of cases) {
    const started = performance.now();
    const res = await api('POST', '/api/v1/bulletins', body, token);
    const ms = performance.now() - started;
    t.equal(res.status, 400, `${what}: 400`);
    t.equal(res.body.error.code, 'LOAXA_BAD_REQUEST');
    t.match(res.body.error.message, limit, `${what}: the message names the limit (${res.body.error.message})`);
    t.equal(res.body.error.fields?.[0]?.path, 'text', `${what}: and the field`);
    t.ok(ms < 2000, `${what}: answered in ${Math.round(ms)} ms`);
  }
  t.equal(count(), 0, 'nothing was stored');
});

t.test('text that expands into hours of speech is refused before synthesis, in seconds', async (t) => {
  const { api, token, base } = await securityServer(t, { ttsSyncWaitMs: 10_000 });
  // 12-digit numbers are read as ~85 letters of words: 19,500 characters become ~3 hours of speech.
  const text = textOf(19_500, '999999999999 ');
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  const res = await api('POST', '/api/v1/bulletins', { title: 'Toàn số', text }, token);
  const ms = performance.now() - started;
  t.equal(res.status, 422, `refused (${JSON.stringify(res.body).slice(0, 300)})`);
  t.match(res.body.error.message, /takes at least [\d.]+ minutes to read at speed 1, over the limit of 30 minutes/, 'says how long, and the limit');
  t.ok(ms < 5000, `in ${Math.round(ms)} ms (synthesizing it would take minutes)`);
  const grew = (process.memoryUsage().rss - rssBefore) / 1048576;
  t.ok(grew < 300, `server memory grew ${Math.round(grew)} MB`);
  t.equal((await fetch(`${base}/healthz`)).status, 200);
});

t.test('while a long bulletin is synthesized for real, the server answers everyone else promptly', async (t) => {
  const { api, token, base } = await securityServer(t, { ttsSyncWaitMs: 0 });
  const pinger = responsiveness(base, api, token);
  const started = performance.now();
  const made = await api('POST', '/api/v1/bulletins', { title: 'Bản tin dài', text: textOf(3000) }, token);
  t.equal(made.status, 202, 'accepted, synthesized in the background');
  const ready = await waitFor('the bulletin', async () => {
    const b = await api('GET', `/api/v1/bulletins/${made.body.id}`, undefined, token);
    return b.body.status === 'synthesizing' ? null : b.body;
  }, 40_000, 200);
  const ms = performance.now() - started;
  const latencies = await pinger.stop();
  t.equal(ready.status, 'ready', `ready (${ready.error ?? ''})`);
  t.ok(ready.audio.durationMs > 150_000, `${Math.round(ready.audio.durationMs / 1000)} s of speech, rendered in ${Math.round(ms / 1000)} s`);
  t.ok(latencies.length >= 10, `${latencies.length} pairs of /healthz and /api/v1/me answered meanwhile`);
  const worst = latencies.at(-1)!;
  t.ok(worst < 1500, `the slowest pair took ${Math.round(worst)} ms (median ${Math.round(latencies[latencies.length >> 1]!)} ms)`);
});

t.test('the pipeline: audio over the limit is refused before mastering, text far over it before synthesis', async (t) => {
  const NOTICE = 'Ủy ban nhân dân xã thông báo: ngày mai cắt điện từ bảy giờ đến mười một giờ.';
  const progress: number[] = [];
  const err = await renderSpeech({ engine: new EspeakEngine(), text: NOTICE, voice: 'vi', speed: 1, maxDurationMs: 3000, onProgress: (p) => progress.push(p) }).then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(err instanceof AudioTooLongError, 'AudioTooLongError');
  t.match((err as Error).message, /the audio would last \d+ seconds, over the limit of 3 seconds/);
  t.ok(Math.max(...progress) <= 50, 'mastering (50–100 %) never started');

  let calls = 0;
  const counting: TtsEngine = { name: 'counting', synthesize: async (): Promise<Pcm> => (calls++, { samples: new Int16Array(22050), sampleRate: 22050 }) };
  await t.rejects(renderSpeech({ engine: counting, text: textOf(60_000), voice: 'vi', speed: 1 }), AudioTooLongError, '60,000 spoken characters: refused');
  await t.rejects(renderSpeech({ engine: counting, text: textOf(30_000), voice: 'vi', speed: 0.5 }), AudioTooLongError, '30,000 at half speed: refused');
  t.equal(calls, 0, 'the engine was never called');
});

t.test('the mastering budget: heavy renders take turns, a light one passes a waiting heavy one', async (t) => {
  const budget = new WeightedLimiter(35);
  const log: string[] = [];
  const gate = () => {
    let open!: () => void;
    return { wait: new Promise<void>((r) => (open = r)), open: () => open() };
  };
  const first = gate();
  const second = gate();
  const a = budget.run(30, async () => (log.push('a start'), await first.wait, log.push('a end')));
  const b = budget.run(30, async () => (log.push('b start'), await second.wait, log.push('b end')));
  const c = budget.run(4, async () => log.push('c'));
  await c;
  t.same(log, ['a start', 'c'], 'b waits for a; the light c runs beside a at once');
  t.equal(budget.free, 5);
  // A waiter whose caller gives up leaves the queue and takes nothing.
  const ac = new AbortController();
  const d = budget.run(30, async () => log.push('d'), ac.signal);
  ac.abort(new Error('render cancelled'));
  await t.rejects(d, /render cancelled/);
  first.open();
  await a;
  await new Promise((r) => setImmediate(r));
  t.same(log, ['a start', 'c', 'a end', 'b start'], 'b starts when a ends; d never ran');
  second.open();
  await b;
  t.equal(budget.free, 35, 'everything given back');
  // Heavier than the whole budget: it runs alone rather than never.
  t.equal(await budget.run(100, async () => budget.free), 0);
});
