import t from 'tap';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runFfmpeg } from '../../server/src/audio/index.js';
import { startTestServer } from '../helpers/server.js';

/** A real recording: 3 s of a voice-like tone, encoded by ffmpeg in the given container. */
async function recording(format: 'mp3' | 'wav' | 'm4a'): Promise<Buffer> {
  const codec = { mp3: ['-c:a', 'libmp3lame', '-f', 'mp3'], wav: ['-c:a', 'pcm_s16le', '-f', 'wav'], m4a: ['-c:a', 'aac', '-f', 'ipod'] }[format];
  const args = ['-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=300:sample_rate=44100:duration=3', '-af', 'volume=-20dB', '-ac', '1', ...codec];
  if (format === 'm4a') {
    // MP4 needs a seekable output: write to a file and read it back.
    const { mkdtemp, readFile, rm } = await import('node:fs/promises');
    const dir = await mkdtemp('/tmp/loaxa-rec-');
    await runFfmpeg([...args, join(dir, 'r.m4a')]);
    const b = await readFile(join(dir, 'r.m4a'));
    await rm(dir, { recursive: true, force: true });
    return b;
  }
  return (await runFfmpeg([...args, 'pipe:1'])).stdout;
}

function form(fields: Record<string, string>, file?: { name: string; bytes: Buffer; type: string }): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.set(k, v);
  if (file) f.set('file', new Blob([file.bytes], { type: file.type }), file.name);
  return f;
}

t.test('recordings in MP3, WAV and M4A become broadcast audio; anything else is refused and leaves nothing', async (t) => {
  const { token, base, dataDir } = await startTestServer(t, { uploadLimitBytes: 2 * 1024 * 1024 });
  const post = (body: FormData) => fetch(`${base}/api/v1/bulletins/upload`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body });
  for (const fmt of ['mp3', 'wav', 'm4a'] as const) {
    const res = await post(form({ title: `Ghi âm ${fmt}`, category: 'general' }, { name: `../../evil.${fmt}`, bytes: await recording(fmt), type: 'audio/mpeg' }));
    const body = (await res.json()) as any;
    t.equal(res.status, 201, `${fmt}: ${JSON.stringify(body)}`);
    t.ok(Math.abs(body.audio.durationMs - 3000) < 200, `${fmt}: ${body.audio.durationMs} ms`);
    const got = (await (await fetch(`${base}/api/v1/bulletins/${body.id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as any;
    t.equal(got.audio.engine, 'recording');
    t.ok(got.audio.lufs >= -17 && got.audio.lufs <= -15, `${fmt}: brought to broadcast loudness (${got.audio.lufs} LUFS)`);
  }
  const fake = await post(form({ title: 'Không phải âm thanh' }, { name: 'song.mp3', bytes: Buffer.from('this is a text file pretending to be an mp3'), type: 'audio/mpeg' }));
  t.equal(fake.status, 415, 'checked by decoding, not by the name');
  t.match(((await fake.json()) as any).error.message, /not an audio file/);
  const big = await post(form({ title: 'Quá lớn' }, { name: 'big.wav', bytes: Buffer.alloc(3 * 1024 * 1024, 1), type: 'audio/wav' }));
  t.equal(big.status, 413);
  const noFile = await post(form({ title: 'Không có tệp' }));
  t.equal(((await noFile.json()) as any).error.fields[0].path, 'file');
  const noTitle = await post(form({}, { name: 'a.wav', bytes: await recording('wav'), type: 'audio/wav' }));
  t.equal(((await noTitle.json()) as any).error.fields[0].path, 'title');
  const json = await fetch(`${base}/api/v1/bulletins/upload`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
  t.equal(json.status, 415);
  t.same(await readdir(join(dataDir, 'uploads')), [], 'no upload is left behind, processed or refused');
});
