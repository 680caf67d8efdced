import t from 'tap';
import type { ServerResponse } from 'node:http';
import { FptTtsEngine, FPT_MAX_CHARS, TtsRateLimitError, TtsTimeoutError } from '../../../server/src/audio/index.js';
import { json, refuse, seconds, sendAudio, startStandIn, tone, type RecordedRequest, type StandIn } from './stand-in.js';

const KEY = 'fpt-test-key';
const VOICES = new Set(['banmai', 'lannhi', 'leminh', 'myan', 'thuminh', 'giahuy', 'linhsan']);
type Mode = 'ok' | 'error' | 'rate-limit' | 'never-ready' | 'gone';
let mode: Mode = 'ok';
/** Polls answered 404 before the audio "appears". */
let notReadyPolls = 2;
const polls = new Map<string, number[]>(); // audio id → times of its polls

/** FPT.AI v5's documented shape: raw UTF-8 text body, headers api-key, voice, speed; then an async URL. */
async function fpt(s: StandIn, req: RecordedRequest, res: ServerResponse): Promise<void> {
  if (req.path.startsWith('/audio/')) {
    const times = polls.get(req.path) ?? [];
    times.push(Date.now());
    polls.set(req.path, times);
    if (mode === 'gone') return json(res, 500, { message: 'storage error' });
    if (mode === 'never-ready' || times.length <= notReadyPolls) return json(res, 404, { message: 'Not Found' });
    return sendAudio(res, await tone('mp3', 0.3), 'mp3');
  }
  if (req.method !== 'POST') return refuse(s, res, `method ${req.method}`, 405);
  if (req.path !== '/hmi/tts/v5') return refuse(s, res, `path ${req.path}`, 404);
  const ct = String(req.headers['content-type'] ?? '');
  if (ct.includes('json') || ct.includes('form')) return refuse(s, res, `content-type ${ct}: the body is raw text`, 415);
  if (req.headers['api-key'] !== KEY) return refuse(s, res, 'missing or wrong api-key header', 401);
  if (!VOICES.has(String(req.headers.voice))) return refuse(s, res, `voice ${req.headers.voice}`);
  if (!/^-?[0-3]$/.test(String(req.headers.speed))) return refuse(s, res, `speed ${req.headers.speed}`);
  const text = req.body.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(req.body)) return refuse(s, res, 'body is not UTF-8');
  if (text.length < 3 || text.length > FPT_MAX_CHARS) return refuse(s, res, `text of ${text.length} characters`);

  if (mode === 'rate-limit') {
    res.writeHead(429, { 'retry-after': '2' });
    return void res.end('Too Many Requests');
  }
  if (mode === 'error') return json(res, 200, { error: 1, message: 'Số ký tự vượt quá hạn mức', request_id: 'r-err' });
  const id = `/audio/${s.requests.length}.mp3`;
  json(res, 200, { async: `${s.url}${id}`, error: 0, message: 'The content will be returned after a few seconds under the async link.', request_id: `r-${s.requests.length}` });
}

async function setup(t: { teardown(fn: () => unknown): void }): Promise<{ s: StandIn; url: string }> {
  mode = 'ok';
  notReadyPolls = 2;
  polls.clear();
  const s: StandIn = await startStandIn((req, res) => fpt(s, req, res));
  t.teardown(() => s.close());
  return { s, url: `${s.url}/hmi/tts/v5` };
}
const fast = { pollIntervalMs: 50, maxPollIntervalMs: 200 };
const synth = (e: FptTtsEngine, text = 'Xin chào bà con.', speed = 1, voice = 'vi') => e.synthesize({ text, voice, speed });

t.test('the stand-in refuses requests outside the documented shape', async (t) => {
  const { s, url } = await setup(t);
  const post = (headers: Record<string, string>, body: string, method = 'POST') =>
    fetch(url, { method, headers: { 'api-key': KEY, voice: 'banmai', speed: '0', 'content-type': 'text/plain; charset=utf-8', ...headers }, body: method === 'GET' ? undefined : body }).then((r) => r.status);
  t.equal(await post({}, 'Xin chào'), 200, 'the documented shape is accepted');
  t.equal(await post({}, '', 'GET'), 405, 'wrong method');
  t.equal(await post({ 'content-type': 'application/json' }, '{"text":"Xin chào"}'), 415, 'JSON body');
  t.equal(await post({ 'api-key': '' }, 'Xin chào'), 401, 'no api-key');
  t.equal(await post({ speed: '5' }, 'Xin chào'), 400, 'speed out of range');
  t.equal(await post({}, 'a'.repeat(FPT_MAX_CHARS + 1)), 400, 'text too long');
  t.equal(s.violations.length, 5);
});

t.test('sends the raw text with the documented headers, then polls the async URL with backoff', async (t) => {
  const { s, url } = await setup(t);
  notReadyPolls = 3;
  const pcm = await synth(new FptTtsEngine({ apiKey: KEY, url, ...fast }), 'Lúa đang trổ bông, bà con chú ý.', 1.2, 'vi-vn-x-south');
  t.same(s.violations, []);
  const post = s.requests[0]!;
  t.equal(post.body.toString('utf8'), 'Lúa đang trổ bông, bà con chú ý.', 'raw UTF-8 body');
  t.match(post.headers, { 'api-key': KEY, voice: 'lannhi', speed: '2' }, 'speed 1.2 → +2 on FPT\'s -3…3 scale');
  const times = [...polls.values()][0]!;
  t.equal(times.length, 4, 'three 404s, then the audio');
  const gaps = times.slice(1).map((at, i) => at - times[i]!);
  t.ok(gaps.every((g, i) => i === 0 || g >= gaps[i - 1]! - 15), `waits grow: ${gaps.join(', ')} ms`);
  t.ok(Math.abs(seconds(pcm) - 0.3) < 0.1, `decoded ${seconds(pcm).toFixed(3)} s`);
});

t.test('audio that never appears is a bounded timeout; other failures are typed', async (t) => {
  const { s, url } = await setup(t);
  mode = 'never-ready';
  const engine = new FptTtsEngine({ apiKey: KEY, url, ...fast, pollTimeoutMs: 600 });
  const started = Date.now();
  const err = await synth(engine).catch((e: unknown) => e);
  const took = Date.now() - started;
  t.ok(err instanceof TtsTimeoutError);
  t.match(err, { message: /fpt-ai: audio for request r-\d+ did not appear within 600 ms/ });
  t.ok(took >= 550 && took < 1500, `gave up after ${took} ms`);
  t.ok([...polls.values()][0]!.length <= 8, 'polled a bounded number of times');

  mode = 'error';
  await t.rejects(synth(engine), { kind: 'provider', message: /error 1: Số ký tự vượt quá hạn mức/ });
  mode = 'rate-limit';
  const limited = await synth(engine).catch((e: unknown) => e);
  t.ok(limited instanceof TtsRateLimitError);
  t.match(limited, { retryAfterMs: 2000 });
  mode = 'gone';
  await t.rejects(synth(engine), { kind: 'http', status: 500, message: /audio download \(attempt 1\) failed with HTTP 500/ });
  const before = s.requests.length;
  await t.rejects(synth(engine, 'Xin chào.', 0.5), { kind: 'unsupported', message: /speed 0.5 is outside the provider's range 0.7–1.3/ });
  t.equal(s.requests.length, before, 'unsupported speed not sent');
});

t.test('a cancelled render stops polling', async (t) => {
  const { url } = await setup(t);
  mode = 'never-ready';
  const ac = new AbortController();
  const engine = new FptTtsEngine({ apiKey: KEY, url, ...fast, pollTimeoutMs: 10_000 });
  setTimeout(() => ac.abort(new Error('broadcast cancelled')), 200);
  const started = Date.now();
  await t.rejects(engine.synthesize({ text: 'Xin chào.', voice: 'vi', speed: 1, signal: ac.signal }));
  t.ok(Date.now() - started < 1000, 'stopped soon after the abort');
});
