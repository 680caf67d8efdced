/**
 * The audio of programmes (issue 15), measured on what a listener would hear: music under speech is lowered
 * by about `duckDb` while the speech plays and the speech stays on top, the mix is at broadcast loudness
 * (−16 LUFS), and the preview lasts what the items last (relay segments as a 1.5 s marker, pauses ≤ 10 s).
 */
import t from 'tap';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { decodeFile, rmsDb, toneLevelDb, uploadTone } from '../helpers/programmes.js';
import { integratedLoudness, TARGET_LUFS } from '../../server/src/audio/loudness.js';
import { duckGain, mixUnderSpeech, RATE } from '../../server/src/services/programme-audio.js';

t.test('the duck curve: full music, −duckDb under the speech, 300 ms ramps', async (t) => {
  const o = { lead: 3 * RATE, speech: 5 * RATE, ramp: 0.3 * RATE, duckDb: 15 };
  t.equal(duckGain(RATE, o), 1, 'the lead-in is the music alone at full level');
  t.equal(20 * Math.log10(duckGain(5 * RATE, o)), -15, 'ducked while the speech plays');
  t.ok(duckGain(2.85 * RATE, o) < 1 && duckGain(2.85 * RATE, o) > 10 ** (-15 / 20), 'ramping down just before the speech');
  t.equal(duckGain(8.5 * RATE, o), 1, 'back up for the tail');
  const music = Int16Array.from({ length: RATE }, (_, i) => Math.round(10_000 * Math.sin((2 * Math.PI * 200 * i) / RATE)));
  const speech = new Int16Array(2 * RATE);
  t.equal(mixUnderSpeech(music, speech, { duckDb: 15, leadInMs: 3000, tailMs: 1000 }).length, 6 * RATE, 'one second of music looped to the lead-in, the speech and the tail');
});

t.test('music under speech: ducked by about duckDb, speech on top, −16 LUFS; the preview lasts the items', async (t) => {
  const { api, token, base, server } = await startTestServer(t, { sourceCheckSeconds: 0 });
  await importSampleAreas(api, token);
  // An 80 Hz "music" shorter than the mix (so it loops) under synthesized speech (eSpeak's voice has next to
  // nothing at 80 Hz), so the music is measured apart from the speech.
  const music = await uploadTone(base, token, { hz: 80, seconds: 4, title: 'Nhạc nền', tremoloHz: 2 });
  const spoken = (await api('POST', '/api/v1/bulletins', { title: 'Lời bình', text: 'Kính thưa bà con, sáng nay xã tổ chức tiêm phòng cho đàn gia súc tại nhà văn hóa thôn. Đề nghị các hộ chăn nuôi đưa gia súc đến đúng giờ.' }, token)).body;
  t.equal(spoken.status, 'ready');
  const speech = { id: spoken.id as string, durationMs: spoken.audio.durationMs as number };
  const made = await api('POST', '/api/v1/programmes', { title: 'Nhạc và lời', items: [{ kind: 'music', musicBulletinId: music.id, speechBulletinId: speech.id, duckDb: 15, leadInMs: 3000, tailMs: 2000 }] }, token);
  t.equal(made.status, 201, JSON.stringify(made.body));
  const item = made.body.items[0];
  t.ok(Math.abs(item.durationMs - (3000 + speech.durationMs + 2000)) < 100, `lead-in + speech + tail: ${item.durationMs} ms`);

  const v = server.ctx.programmes.version(made.body.id, 1)!;
  const file = server.ctx.media.path(v.rendered[0]!.media!.sha256)!;
  const pcm = await decodeFile(file);
  const musicAlone = toneLevelDb(pcm, 80, 0.5, 2.5);
  const musicUnder = toneLevelDb(pcm, 80, 4, 8);
  const speechRms = rmsDb(pcm, 4, 8);
  const musicTail = toneLevelDb(pcm, 80, 3 + speech.durationMs / 1000 + 0.5, 3 + speech.durationMs / 1000 + 1.5);
  t.ok(Math.abs(musicAlone - musicUnder - 15) < 3, `the music drops by about 15 dB under the speech: ${musicAlone.toFixed(1)} → ${musicUnder.toFixed(1)} dBFS`);
  // The 80 Hz component's amplitude is the music's; a sine's RMS is 3 dB under its amplitude.
  t.ok(speechRms - (musicUnder - 3) > 6, `the speech stays on top: ${speechRms.toFixed(1)} dBFS RMS over music at ${(musicUnder - 3).toFixed(1)}`);
  t.ok(Math.abs(musicTail - musicAlone) < 3, `the music comes back up for the tail: ${musicTail.toFixed(1)} dBFS`);
  const lufs = integratedLoudness(pcm.samples, pcm.sampleRate);
  t.ok(Math.abs(lufs - TARGET_LUFS) <= 1, `broadcast loudness: ${lufs.toFixed(2)} LUFS`);

  // The preview: the items joined; the relay a 1.5 s marker; a 30 s pause heard as 10 s.
  const src = (await api('POST', '/api/v1/sources', { name: 'VOV1', urls: ['http://radio.example/vov1.mp3'], areaCode: null }, token)).body;
  const items = [
    { kind: 'chime', bell: 'intro' },
    { kind: 'bulletin', bulletinId: speech.id },
    { kind: 'pause', durationMs: 30_000 },
    { kind: 'relay', sourceId: src.id, until: '18:30' },
    { kind: 'pause', durationMs: 1_000 },
    { kind: 'bulletin', bulletinId: music.id },
  ];
  const res = await fetch(`${base}/api/v1/programmes/preview`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ items }) });
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-type'), 'audio/mpeg');
  const mp3 = Buffer.from(await res.arrayBuffer());
  const heard = await decodeFile(mp3);
  const heardMs = (heard.samples.length / heard.sampleRate) * 1000;
  const bell = (await api('POST', '/api/v1/programmes', { title: 'chuông', items: [{ kind: 'chime', bell: 'intro' }] }, token)).body.items[0].durationMs;
  const expected = bell + speech.durationMs + 10_000 + 1_500 + 1_000 + music.durationMs;
  t.ok(Math.abs(heardMs - expected) < 150, `the preview lasts ${Math.round(heardMs)} ms, the items ${expected} ms`);
  // The marker is heard where the relay is: 880 Hz beeps right after the speech and the 10 s pause.
  const at = (bell + speech.durationMs + 10_000) / 1000;
  t.ok(toneLevelDb(heard, 880, at + 0.2, at + 0.45) > toneLevelDb(heard, 880, at - 2, at - 1) + 20, 'two beeps stand for the relay');
  t.equal((await api('GET', '/api/v1/programmes', undefined, token)).body.total, 2, 'a preview stores no programme');
});
