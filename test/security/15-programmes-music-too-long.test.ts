/**
 * Issue 15 review (hostile): music under speech lasts lead-in + speech + tail, and nothing checks that against
 * the pipeline's 30-minute limit (MAX_AUDIO_MS). A recording may be up to 30 minutes (MAX_RECORDING_MS), so a
 * 29.5-minute speech with the allowed 30 s lead-in and tail is a valid item by the contract; the server decodes
 * both files and mixes 30.5 minutes of PCM (hundreds of MB) before the mastering refuses it with an
 * AudioTooLongError nobody turns into a 400: the caller gets a 500, after the work.
 * (The recording is put in place through the repositories, as an upload of it would leave it: uploading and
 * mastering 29.5 minutes here would take longer than this test may.)
 */
import t from 'tap';
import { runFfmpeg } from '../../server/src/audio/index.js';
import { securityServer, rssPeak } from './helpers.js';
import { uploadTone } from '../helpers/programmes.js';

t.test('music under a long speech is a 400 naming the item, not a 500', async (t) => {
  const { api, base, server, login } = await securityServer(t, { sourceCheckSeconds: 0 });
  const op = await login('operator', '99003');
  const music = await uploadTone(base, op.token, { hz: 440, seconds: 2, title: 'Nhạc nền' });
  // A 29.5-minute recording, ready, by the operator (a valid upload: recordings may last 30 minutes).
  const seconds = 1770;
  const { stdout } = await runFfmpeg(['-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', `sine=f=300:r=8000:d=${seconds}`, '-ac', '1', '-c:a', 'libmp3lame', '-b:a', '8k', '-f', 'mp3', 'pipe:1']);
  const stored = await server.ctx.media.put(stdout, 'mp3');
  const id = 'bt-longspeech0001';
  server.ctx.bulletins.insert({ id, title: 'Hội nghị', text: '', category: null, voice: 'vi', speed: 1, createdBy: op.id, areaCode: '99003', source: 'recording' });
  server.ctx.bulletins.markReady(id, { sha256: stored.sha256, bytes: stored.bytes, durationMs: seconds * 1000, engine: 'recording', lufs: -16, truePeakDb: -1 });

  const item = { kind: 'music', musicBulletinId: music.id, speechBulletinId: id, leadInMs: 30_000, tailMs: 30_000 };
  const started = performance.now();
  const rssBefore = process.memoryUsage.rss();
  const rss = rssPeak();
  const res = await api('POST', '/api/v1/programmes', { title: 'Hội nghị có nhạc', items: [item] }, op.token);
  t.comment(`resident memory grew by ${Math.round((rss.stop() - rssBefore) / 1e6)} MB while the server mixed it`);
  t.comment(`answered ${res.status} after ${Math.round(performance.now() - started)} ms: ${JSON.stringify(res.body).slice(0, 200)}`);
  t.equal(res.status, 400, 'too long for one file: a 400 naming the item');
  t.match(JSON.stringify(res.body), /items\.0/, 'naming items.0');
});
