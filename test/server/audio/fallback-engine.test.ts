import t from 'tap';
import {
  EspeakEngine, FallbackEngine, renderSpeech, TtsError, TtsRateLimitError, ZaloTtsEngine,
  type Pcm, type SynthesisRequest, type TtsEngine,
} from '../../../server/src/audio/index.js';
import { fakeClock } from '../../helpers/clock.js';
import { pause, startStandIn } from './stand-in.js';

/** A stand-in engine: a tone at its own rate, or a scripted failure; it counts calls and sees the signal. */
class FakeEngine implements TtsEngine {
  calls = 0;
  aborted = 0;
  constructor(
    readonly name: string,
    private readonly behave: (req: SynthesisRequest, call: number) => 'ok' | 'hang' | Error = () => 'ok',
    private readonly sampleRate = 16000,
  ) {}

  async synthesize(req: SynthesisRequest): Promise<Pcm> {
    this.calls++;
    const what = this.behave(req, this.calls);
    if (what instanceof Error) throw what;
    if (what === 'hang') {
      req.signal?.addEventListener('abort', () => this.aborted++);
      return new Promise<never>(() => {}); // never settles, and ignores the signal
    }
    const samples = new Int16Array(Math.round(this.sampleRate * 0.04 * req.text.length));
    for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 300 * i) / this.sampleRate));
    return { samples, sampleRate: this.sampleRate };
  }
}

const req = { text: 'Xin chào bà con.', voice: 'vi', speed: 1 };

t.test('a failing engine falls back to the next, and the audio says who made it', async (t) => {
  const cloud = new FakeEngine('cloud', () => new TtsError('cloud', 'http', 'HTTP 503'));
  const local = new FakeEngine('local');
  const events: string[] = [];
  const engine = new FallbackEngine([cloud, local], { onFallback: (e) => events.push(`${e.failed}→${e.next}: ${e.error.message}`) });
  t.equal(engine.name, 'cloud>local');
  const pcm = await engine.synthesize(req);
  t.match(pcm, { engine: 'local', fallback: true, sampleRate: 16000 });
  t.same(events, ['cloud→local: cloud: HTTP 503']);
  const healthy = await new FallbackEngine([local, cloud]).synthesize(req);
  t.match(healthy, { engine: 'local', fallback: false }, 'the preferred engine is no fallback');
});

t.test('a slow engine is abandoned at its time limit, and told to stop', async (t) => {
  const slow = new FakeEngine('slow', () => 'hang');
  const local = new FakeEngine('local');
  const engine = new FallbackEngine([{ engine: slow, timeoutMs: 150 }, local], { timeoutMs: 5000 });
  const started = Date.now();
  const pcm = await engine.synthesize(req);
  const took = Date.now() - started;
  t.equal(pcm.engine, 'local');
  t.ok(took >= 140 && took < 1000, `moved on after ${took} ms`);
  t.equal(slow.aborted, 1, 'the slow engine got an abort signal');
});

t.test('a failed engine sits out its cooldown (longer for a Retry-After), then gets another go', async (t) => {
  let failing = true;
  const cloud = new FakeEngine('cloud', () => (failing ? new TtsError('cloud', 'http', 'down') : 'ok'));
  const local = new FakeEngine('local');
  const clock = fakeClock();
  const engine = new FallbackEngine([cloud, local], { cooldownMs: 200, now: clock.now });
  await engine.synthesize(req);
  await engine.synthesize(req);
  t.equal(cloud.calls, 1, 'not asked again during the cooldown');
  failing = false;
  clock.advance(250);
  t.equal((await engine.synthesize(req)).engine, 'cloud', 'back after the cooldown');

  const limited = new FakeEngine('limited', (_, n) => (n === 1 ? new TtsRateLimitError('limited', 'HTTP 429', { retryAfterMs: 400 }) : 'ok'));
  const withRetryAfter = new FallbackEngine([limited, local], { cooldownMs: 50, now: clock.now });
  await withRetryAfter.synthesize(req);
  clock.advance(100);
  t.equal((await withRetryAfter.synthesize(req)).engine, 'local', 'Retry-After outlasts the shorter cooldown');
  t.equal(limited.calls, 1);
});

t.test('a request an engine does not support costs it no cooldown', async (t) => {
  const cloud = new FakeEngine('cloud', (r) => (r.speed > 1.2 ? new TtsError('cloud', 'unsupported', 'speed') : 'ok'));
  const engine = new FallbackEngine([cloud, new FakeEngine('local')]);
  t.equal((await engine.synthesize({ ...req, speed: 1.5 })).engine, 'local');
  t.equal((await engine.synthesize(req)).engine, 'cloud');
});

t.test('when every engine fails, the error lists each reason', async (t) => {
  const engine = new FallbackEngine([
    new FakeEngine('a', () => new Error('a is down')),
    { engine: new FakeEngine('b', () => 'hang'), timeoutMs: 100 },
  ]);
  const err = await engine.synthesize(req).catch((e: unknown) => e);
  t.ok(err instanceof AggregateError);
  t.match((err as AggregateError).message, /every TTS engine failed: a is down; b: no audio within 100 ms/);
  t.equal((err as AggregateError).errors.length, 2);
});

t.test('a cancelled render does not fall back', async (t) => {
  const slow = new FakeEngine('slow', () => 'hang');
  const local = new FakeEngine('local');
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error('broadcast cancelled')), 50);
  await t.rejects(new FallbackEngine([slow, local]).synthesize({ ...req, signal: ac.signal }), /broadcast cancelled/);
  t.equal(local.calls, 0);
});

t.test('a hanging cloud provider falls back to eSpeak; the bulletin names eSpeak', async (t) => {
  const s = await startStandIn(() => pause(60_000)); // accepts the request, never answers
  t.teardown(() => s.close());
  const zalo = new ZaloTtsEngine({ apiKey: 'k', url: `${s.url}/v1/tts/synthesize`, timeoutMs: 10_000 });
  const engine = new FallbackEngine([{ engine: zalo, timeoutMs: 300 }, new EspeakEngine()]);
  const out = await renderSpeech({ engine, text: 'Ủy ban nhân dân xã thông báo. Ngày mai cắt điện.', voice: 'vi', speed: 1 });
  t.equal(out.engine, 'espeak-ng');
  t.ok(s.requests.length >= 1, 'the cloud was tried first');
});

t.test('chunks from engines with different rates are joined; the bulletin names both', async (t) => {
  // The preferred engine (16 kHz) fails on the second sentence only; eSpeak (22.05 kHz) reads that one.
  const cloud = new FakeEngine('cloud', (r) => (r.text.startsWith('Hai') ? new Error('flaky') : 'ok'));
  const engine = new FallbackEngine([cloud, new EspeakEngine()], { cooldownMs: 0 });
  const out = await renderSpeech({ engine, text: 'Một hai ba bốn. Hai người đến. Ba người về.', voice: 'vi', speed: 1 });
  t.equal(out.engine, 'cloud+espeak-ng');
  t.ok(out.durationMs > 1000, `${out.durationMs} ms`);
});
