import t from 'tap';
import type { ServerResponse } from 'node:http';
import { TtsRateLimitError, TtsTimeoutError, ViettelTtsEngine, VIETTEL_MAX_CHARS } from '../../../server/src/audio/index.js';
import { json, pause, refuse, seconds, sendAudio, startStandIn, tone, type RecordedRequest, type StandIn } from './stand-in.js';

const TOKEN = 'viettel-test-token';
const VOICES = new Set(['hn-quynhanh', 'hue-maingoc', 'hcm-diemmy', 'hn-thanhtung']);
type Mode = 'ok' | 'json-error' | 'rate-limit' | 'hang';
let mode: Mode = 'ok';

/** Viettel AI's documented request shape, enforced: JSON {text, voice, speed, tts_return_option, token, without_filter}. */
async function viettel(s: StandIn, req: RecordedRequest, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST') return refuse(s, res, `method ${req.method}`, 405);
  if (req.path !== '/tts/speech_synthesis') return refuse(s, res, `path ${req.path}`, 404);
  if (!String(req.headers['content-type']).startsWith('application/json')) return refuse(s, res, `content-type ${req.headers['content-type']}`, 415);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(req.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return refuse(s, res, 'body is not JSON');
  }
  const keys = Object.keys(body).sort().join(',');
  if (keys !== 'speed,text,token,tts_return_option,voice,without_filter') return refuse(s, res, `fields ${keys}`);
  if (body.token !== TOKEN) return refuse(s, res, 'missing or wrong token', 401);
  if (typeof body.text !== 'string' || body.text.length === 0 || body.text.length > VIETTEL_MAX_CHARS) return refuse(s, res, 'text');
  if (typeof body.voice !== 'string' || !VOICES.has(body.voice)) return refuse(s, res, `voice ${String(body.voice)}`);
  if (typeof body.speed !== 'number' || body.speed < 0.7 || body.speed > 1.3) return refuse(s, res, `speed ${String(body.speed)}`);
  if (body.tts_return_option !== 2 && body.tts_return_option !== 3) return refuse(s, res, `tts_return_option ${String(body.tts_return_option)}`);
  if (typeof body.without_filter !== 'boolean') return refuse(s, res, 'without_filter is not a boolean');

  if (mode === 'hang') return pause(60_000); // never answers within any test's timeout
  if (mode === 'rate-limit') return json(res, 429, { code: 429, en_message: 'Too many requests' });
  if (mode === 'json-error') return json(res, 200, { code: 4001, vi_message: 'Giọng đọc không tồn tại', en_message: 'Voice is not available' });
  const format = body.tts_return_option === 2 ? 'wav' : 'mp3';
  sendAudio(res, await tone(format, 0.4, 16000), format);
}

async function setup(t: { teardown(fn: () => unknown): void }): Promise<{ s: StandIn; url: string }> {
  mode = 'ok';
  const s: StandIn = await startStandIn((req, res) => viettel(s, req, res));
  t.teardown(() => s.close());
  return { s, url: `${s.url}/tts/speech_synthesis` };
}
const synth = (e: ViettelTtsEngine, text = 'Xin chào bà con.', speed = 1, voice = 'vi') => e.synthesize({ text, voice, speed });

t.test('the stand-in refuses requests outside the documented shape', async (t) => {
  const { s, url } = await setup(t);
  const good = { text: 'Xin chào', voice: 'hn-quynhanh', speed: 1, tts_return_option: 3, token: TOKEN, without_filter: false };
  const post = (body: unknown, ct = 'application/json', method = 'POST') =>
    fetch(url, { method, headers: { 'content-type': ct }, body: method === 'GET' ? undefined : JSON.stringify(body) }).then((r) => r.status);
  t.equal(await post(good), 200, 'the documented shape is accepted');
  t.equal(await post(good, 'application/json', 'GET'), 405, 'wrong method');
  t.equal(await post(good, 'application/x-www-form-urlencoded'), 415, 'form body');
  t.equal(await post({ ...good, token: undefined }), 400, 'no token');
  t.equal(await post({ ...good, speed: 2 }), 400, 'speed out of range');
  t.equal(await post({ ...good, text: 'a'.repeat(VIETTEL_MAX_CHARS + 1) }), 400, 'text too long');
  t.equal(s.violations.length, 5);
});

t.test('sends exactly the documented JSON and decodes the audio bytes it answers', async (t) => {
  const { s, url } = await setup(t);
  const pcm = await synth(new ViettelTtsEngine({ token: TOKEN, url }), 'Ngày mai cắt điện.', 0.9, 'vi-vn-x-central');
  t.same(s.violations, []);
  t.same(JSON.parse(s.requests[0]!.body.toString()), {
    text: 'Ngày mai cắt điện.', voice: 'hue-maingoc', speed: 0.9, tts_return_option: 3, token: TOKEN, without_filter: false,
  });
  t.equal(pcm.sampleRate, 16000, 'the provider rate is kept');
  // MP3 frames pad the end (576-sample frames at 16 kHz plus encoder delay), so allow ~0.15 s more.
  t.ok(seconds(pcm) >= 0.39 && seconds(pcm) < 0.55, `MP3 decoded: ${seconds(pcm).toFixed(3)} s`);

  const wav = await synth(new ViettelTtsEngine({ token: TOKEN, url, format: 'wav', withoutFilter: true, voices: { vi: 'hn-thanhtung' } }));
  t.match(JSON.parse(s.requests[1]!.body.toString()), { tts_return_option: 2, without_filter: true, voice: 'hn-thanhtung' });
  t.ok(Math.abs(seconds(wav) - 0.4) < 0.01, 'WAV decoded exactly');
});

t.test('long texts split under the limit, within the concurrency', async (t) => {
  const { s, url } = await setup(t);
  const text = 'Thông báo lịch tiêm phòng cho đàn gia súc, gia cầm tại nhà văn hóa thôn. '.repeat(70);
  await synth(new ViettelTtsEngine({ token: TOKEN, url, concurrency: 2, maxChars: 1000 }), text);
  t.same(s.violations, []);
  const texts = s.requests.map((r) => (JSON.parse(r.body.toString()) as { text: string }).text);
  t.ok(texts.length >= 5 && texts.every((x) => x.length <= 1000), `${texts.length} requests of ≤ 1000 characters`);
  t.equal(texts.join(' '), text.trim());
  t.ok(s.maxInFlight <= 2, `in flight ≤ 2 (${s.maxInFlight})`);
});

t.test('failures: JSON error instead of audio, rate limit, timeout, unsupported speed', async (t) => {
  const { s, url } = await setup(t);
  const engine = new ViettelTtsEngine({ token: TOKEN, url, timeoutMs: 250 });
  mode = 'json-error';
  await t.rejects(synth(engine), { kind: 'provider', message: /viettel-ai: code 4001: Voice is not available/ });
  mode = 'rate-limit';
  const limited = await synth(engine).catch((e: unknown) => e);
  t.ok(limited instanceof TtsRateLimitError);
  t.match(limited, { status: 429, retryAfterMs: undefined });
  mode = 'hang';
  const started = Date.now();
  const timedOut = await synth(engine).catch((e: unknown) => e);
  t.ok(timedOut instanceof TtsTimeoutError, 'a hanging provider is a timeout');
  t.ok(Date.now() - started < 1000, `bounded (${Date.now() - started} ms)`);
  const before = s.requests.length;
  await t.rejects(synth(engine, 'Xin chào.', 1.8), { kind: 'unsupported', message: /speed 1.8/ });
  t.equal(s.requests.length, before, 'not sent');
  t.throws(() => new ViettelTtsEngine({ token: '' }), /token is required/);
});
