import t from 'tap';
import type { ServerResponse } from 'node:http';
import { TtsError, TtsRateLimitError, TtsTimeoutError, ZaloTtsEngine, ZALO_MAX_CHARS } from '../../../server/src/audio/index.js';
import { json, pause, refuse, seconds, sendAudio, startStandIn, tone, type RecordedRequest, type StandIn } from './stand-in.js';

const KEY = 'zalo-test-key';
type Mode = 'ok' | 'provider-error' | 'rate-limit' | 'slow' | 'garbage-audio' | 'server-error';
let mode: Mode = 'ok';
let delayMs = 0;

/** Zalo AI's documented request shape, enforced; anything else is refused and recorded. */
async function zalo(s: StandIn, req: RecordedRequest, res: ServerResponse): Promise<void> {
  if (req.path.startsWith('/audio/')) {
    if (mode === 'garbage-audio') return sendAudio(res, Buffer.from('this is not audio at all'), 'mp3');
    const format = req.path.endsWith('.wav') ? 'wav' : 'mp3';
    return sendAudio(res, await tone(format), format);
  }
  if (req.method !== 'POST') return refuse(s, res, `method ${req.method}`, 405);
  if (req.path !== '/v1/tts/synthesize') return refuse(s, res, `path ${req.path}`, 404);
  if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) return refuse(s, res, `content-type ${req.headers['content-type']}`, 415);
  if (req.headers.apikey !== KEY) return refuse(s, res, 'missing or wrong apikey header', 401);
  const form = new URLSearchParams(req.body.toString('utf8'));
  const fields = [...form.keys()].sort().join(',');
  if (fields !== 'encode_type,input,speaker_id,speed') return refuse(s, res, `fields ${fields}`);
  const input = form.get('input')!;
  if (input.length === 0 || input.length > ZALO_MAX_CHARS) return refuse(s, res, `input of ${input.length} characters`);
  if (!/^[1-6]$/.test(form.get('speaker_id')!)) return refuse(s, res, `speaker_id ${form.get('speaker_id')}`);
  const speed = Number(form.get('speed'));
  if (!(speed >= 0.8 && speed <= 1.2)) return refuse(s, res, `speed ${form.get('speed')}`);
  if (!/^[01]$/.test(form.get('encode_type')!)) return refuse(s, res, `encode_type ${form.get('encode_type')}`);

  if (delayMs) await pause(delayMs);
  if (mode === 'rate-limit') {
    res.writeHead(429, { 'retry-after': '7', 'content-type': 'application/json' });
    return void res.end(JSON.stringify({ error_code: -429, error_message: 'Too many requests' }));
  }
  if (mode === 'server-error') return json(res, 503, { error_code: -1, error_message: 'maintenance' });
  if (mode === 'provider-error') return json(res, 200, { error_code: -200, error_message: 'Input contains unsupported characters' });
  const ext = form.get('encode_type') === '0' ? 'wav' : 'mp3';
  json(res, 200, { error_code: 0, error_message: 'Successful.', data: { url: `${s.url}/audio/${s.requests.length}.${ext}` } });
}

async function setup(t: { teardown(fn: () => unknown): void }): Promise<StandIn> {
  mode = 'ok';
  delayMs = 0;
  const s: StandIn = await startStandIn((req, res) => zalo(s, req, res));
  t.teardown(() => s.close());
  return s;
}
const endpoint = (s: StandIn) => `${s.url}/v1/tts/synthesize`;
const synth = (e: ZaloTtsEngine, text = 'Xin chào bà con.', speed = 1, voice = 'vi') => e.synthesize({ text, voice, speed });

t.test('the stand-in refuses requests outside the documented shape', async (t) => {
  const s = await setup(t);
  const form = (o: Record<string, string>) => new URLSearchParams({ input: 'Xin chào', speaker_id: '2', speed: '1', encode_type: '1', ...o });
  const post = (headers: Record<string, string>, body: string | URLSearchParams, method = 'POST') =>
    fetch(endpoint(s), { method, headers, body: method === 'GET' ? undefined : body }).then((r) => r.status);
  t.equal(await post({ apikey: KEY }, form({})), 200, 'the documented shape is accepted');
  t.equal(await post({ apikey: KEY }, '', 'GET'), 405, 'wrong method');
  t.equal(await post({ apikey: KEY, 'content-type': 'application/json' }, JSON.stringify({ input: 'x' })), 415, 'JSON body');
  t.equal(await post({}, form({})), 401, 'no apikey header');
  t.equal(await post({ apikey: KEY }, form({ input: 'a'.repeat(2001) })), 400, 'input over 2000 characters');
  t.equal(await post({ apikey: KEY }, form({ speed: '1.5' })), 400, 'speed out of range');
  t.equal(await post({ apikey: KEY }, form({ speaker_id: '7' })), 400, 'speaker_id out of range');
  t.equal(s.violations.length, 6);
});

t.test('sends exactly the documented request and decodes the downloaded MP3', async (t) => {
  const s = await setup(t);
  const engine = new ZaloTtsEngine({ apiKey: KEY, url: endpoint(s) });
  const pcm = await synth(engine, 'Ủy ban nhân dân xã thông báo.', 1.1, 'vi-vn-x-south');
  t.same(s.violations, []);
  const [post, get] = s.requests;
  t.equal(post!.method, 'POST');
  t.same(Object.fromEntries(new URLSearchParams(post!.body.toString())), { input: 'Ủy ban nhân dân xã thông báo.', speaker_id: '1', speed: '1.1', encode_type: '1' });
  t.equal(get!.method, 'GET', 'then downloads data.url');
  t.equal(pcm.sampleRate, 22050);
  t.ok(Math.abs(seconds(pcm) - 0.5) < 0.1, `0.5 s tone decoded (${seconds(pcm).toFixed(3)} s)`);
  const wav = await synth(new ZaloTtsEngine({ apiKey: KEY, url: endpoint(s), format: 'wav' }));
  t.equal(new URLSearchParams(s.requests[2]!.body.toString()).get('encode_type'), '0', 'format wav → encode_type 0');
  t.ok(Math.abs(seconds(wav) - 0.5) < 0.01, 'WAV decoded to the same tone');
});

t.test('a long text is split at sentences under 2000 characters, in parallel within the limit, and joined', async (t) => {
  const s = await setup(t);
  delayMs = 100; // long enough for requests to overlap
  const engine = new ZaloTtsEngine({ apiKey: KEY, url: endpoint(s), concurrency: 2 });
  const sentence = 'Đề nghị bà con chủ động phòng chống bão, chằng chống nhà cửa và theo dõi thông tin trên loa. ';
  const text = sentence.repeat(60); // ~5,700 characters
  const pcm = await synth(engine, text);
  t.same(s.violations, [], 'every request fit the documented shape');
  const inputs = s.requests.filter((r) => r.method === 'POST').map((r) => new URLSearchParams(r.body.toString()).get('input')!);
  t.equal(inputs.length, 3, 'whole sentences packed into 3 requests, not 60');
  t.ok(inputs.every((i) => i.length <= ZALO_MAX_CHARS && i.endsWith('.')), 'each under the limit and cut at a sentence end');
  t.equal(inputs.join(' '), text.trim(), 'no text lost or reordered');
  t.ok(s.maxInFlight <= 2 && s.maxInFlight >= 2, `requests in flight peaked at ${s.maxInFlight}`);
  const expected = inputs.length * 0.5 + (inputs.length - 1) * 0.35;
  t.ok(Math.abs(seconds(pcm) - expected) < 0.1 * inputs.length, `joined: ${seconds(pcm).toFixed(2)} s ≈ ${expected.toFixed(2)} s`);
});

t.test('requests outside what Zalo supports are refused before sending', async (t) => {
  const s = await setup(t);
  const engine = new ZaloTtsEngine({ apiKey: KEY, url: endpoint(s) });
  await t.rejects(synth(engine, 'Xin chào.', 1.5), { kind: 'unsupported', message: /speed 1.5 is outside the provider's range 0.8–1.2/ });
  await t.rejects(synth(engine, 'Xin chào.', 1, 'vi-vn-x-central'), { kind: 'unsupported', message: /no voice configured for "vi-vn-x-central"/ });
  t.equal(s.requests.length, 0, 'nothing reached the provider');
  t.throws(() => new ZaloTtsEngine({ apiKey: '' }), /apiKey is required/);
  t.throws(() => new ZaloTtsEngine({ apiKey: KEY, voices: { vi: 9 } }), /speaker_id for "vi" must be 1–6/);
});

t.test('each failure is a clear, typed error', async (t) => {
  const s = await setup(t);
  const engine = new ZaloTtsEngine({ apiKey: KEY, url: endpoint(s) });

  mode = 'rate-limit';
  const limited = await synth(engine).catch((e: unknown) => e);
  t.ok(limited instanceof TtsRateLimitError, 'rate limit is its own error class');
  t.match(limited, { kind: 'rate-limit', retryAfterMs: 7000, message: /zalo-ai: rate limited \(HTTP 429\).*retry after 7 s/ });

  mode = 'provider-error';
  await t.rejects(synth(engine), { kind: 'provider', message: /error_code -200: Input contains unsupported characters/ });
  mode = 'server-error';
  await t.rejects(synth(engine), { kind: 'http', status: 503, message: /HTTP 503.*maintenance/ });
  mode = 'garbage-audio';
  await t.rejects(synth(engine), { kind: 'audio', message: /cannot be decoded/ });
  mode = 'ok';
  await t.rejects(synth(new ZaloTtsEngine({ apiKey: 'wrong', url: endpoint(s) })), { kind: 'config', status: 401, message: /refused the credentials \(HTTP 401\)/ });
  await t.rejects(synth(new ZaloTtsEngine({ apiKey: KEY, url: 'http://127.0.0.1:1/v1/tts/synthesize' })), { kind: 'http', message: /cannot reach 127.0.0.1:1/ });
});

t.test('a slow answer times out within the bound', async (t) => {
  const s = await setup(t);
  delayMs = 5_000;
  const engine = new ZaloTtsEngine({ apiKey: KEY, url: endpoint(s), timeoutMs: 300 });
  const started = Date.now();
  const err = await synth(engine).catch((e: unknown) => e);
  const took = Date.now() - started;
  t.ok(err instanceof TtsTimeoutError, 'a TtsTimeoutError');
  t.match(err, { message: /no complete answer from 127\.0\.0\.1:\d+ within 300 ms/ });
  t.ok(took >= 290 && took < 1000, `gave up after ${took} ms`);
  t.ok(err instanceof TtsError);
});
