import t from 'tap';
import { loadConfig, ConfigError } from '../../server/src/config.js';
import { startTestServer } from '../helpers/server.js';
import { json, sendAudio, startStandIn, tone, type StandIn } from './audio/stand-in.js';

t.test('TTS engines are configured by name and need their credentials', async (t) => {
  t.same(loadConfig({}).tts.engines, ['espeak']);
  t.same(loadConfig({ LOAXA_TTS_ENGINES: 'zalo, espeak', LOAXA_TTS_ZALO_API_KEY: 'k' }).tts.engines, ['zalo', 'espeak']);
  t.throws(() => loadConfig({ LOAXA_TTS_ENGINES: 'zalo' }), new ConfigError('invalid configuration:\n  LOAXA_TTS_ZALO_API_KEY: required because LOAXA_TTS_ENGINES lists zalo'));
  t.throws(() => loadConfig({ LOAXA_TTS_ENGINES: 'piper', LOAXA_TTS_PIPER_MODEL: '/m.onnx' }), /LOAXA_TTS_PIPER_TOKENS: required/);
  t.throws(() => loadConfig({ LOAXA_TTS_ENGINES: 'google' }), /LOAXA_TTS_ENGINES/);
  t.throws(() => loadConfig({ LOAXA_TTS_ZALO_URL: 'ftp://x' }), /LOAXA_TTS_ZALO_URL/);
  t.throws(() => loadConfig({ LOAXA_HTTP_PORT: '70000' }), /LOAXA_HTTP_PORT/);
});

/** A minimal Zalo AI stand-in: the documented answer shape, audio served at the returned URL. */
async function zaloStandIn(t: { teardown(fn: () => unknown): void }, fail: boolean): Promise<StandIn> {
  const s: StandIn = await startStandIn(async (req, res) => {
    if (req.path.startsWith('/audio/')) return sendAudio(res, await tone('mp3', 1), 'mp3');
    if (fail) return json(res, 503, { error_code: -1, error_message: 'maintenance' });
    if (req.headers.apikey !== 'key') return json(res, 401, { error_code: -401, error_message: 'bad key' });
    json(res, 200, { error_code: 0, error_message: 'Successful.', data: { url: `${s.url}/audio/${s.requests.length}.mp3` } });
  });
  t.teardown(() => s.close());
  return s;
}

t.test('a bulletin is made by the preferred cloud engine, and by eSpeak NG when it fails', async (t) => {
  for (const fail of [false, true]) {
    const zalo = await zaloStandIn(t, fail);
    const { api, token } = await startTestServer(t, {
      tts: { ...loadConfig({}).tts, engines: ['zalo'], zalo: { apiKey: 'key', url: `${zalo.url}/v1/tts/synthesize` } },
    });
    const b = await api('POST', '/api/v1/bulletins', { title: 't', text: 'Thông báo lịch tiêm chủng.' }, token);
    t.equal(b.status, 201);
    const got = await api('GET', `/api/v1/bulletins/${b.body.id}`, undefined, token);
    t.equal(got.body.audio.engine, fail ? 'espeak-ng' : 'zalo-ai', fail ? 'fell back to the embedded engine' : 'made by the cloud engine');
    t.ok(zalo.requests.length >= 1, 'the cloud engine was asked');
  }
});

t.test('a configured intro chime is heard before every synthesized bulletin', async (t) => {
  const text = { title: 't', text: 'Thông báo lịch tiêm chủng.' };
  const plain = await startTestServer(t);
  const withChime = await startTestServer(t, { tts: { ...loadConfig({}).tts, chimeIntro: 'default' } });
  const a = (await plain.api('POST', '/api/v1/bulletins', text, plain.token)).body;
  const b = (await withChime.api('POST', '/api/v1/bulletins', text, withChime.token)).body;
  t.ok(b.audio.durationMs - a.audio.durationMs > 500, `the chime adds ${b.audio.durationMs - a.audio.durationMs} ms`);
  t.equal(loadConfig({}).tts.chimeIntro, undefined, 'no chime unless configured');
  t.equal(loadConfig({ LOAXA_TTS_CHIME_OUTRO: '/srv/chimes/end.wav' }).tts.chimeOutro, '/srv/chimes/end.wav');
});
