/**
 * Uploading a recording instead of typing a bulletin: the browser's own checks on the chosen file, then in
 * chromium against a real server — a real WAV made by ffmpeg becomes a playable bulletin that goes on to be
 * scheduled; a text file renamed .mp3 and a file over the server's limit come back as Vietnamese errors.
 * The browser part uses the built app in web/dist and skips, saying why, without it or without chromium.
 */
import t from 'tap';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { runFfmpeg } from '../../server/src/audio/index.js';
import { fmtBytes } from '../../web/src/logic/format.js';
import { recordingProblem, UPLOAD_MAX_BYTES } from '../../web/src/logic/upload.js';
import { ADMIN_PASSWORD, importSampleAreas } from '../helpers/server.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, startWebServer } from './helpers.js';

const skip = browserSkipReason();
t.setTimeout(180_000);

/** The parts of an HTMLAudioElement the test touches (the tests compile without the DOM types). */
interface AudioLike {
  readyState: number;
  duration: number;
  currentTime: number;
  addEventListener(type: string, listener: () => unknown): void;
  load(): void;
  pause(): void;
}

/** A real recording made by ffmpeg: a voice-like tone, `seconds` long, WAV (PCM 16-bit). */
async function wav(seconds: number, channels = 1): Promise<Buffer> {
  const args = ['-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', `sine=frequency=300:sample_rate=44100:duration=${seconds}`, '-af', 'volume=-20dB', '-ac', String(channels), '-c:a', 'pcm_s16le', '-f', 'wav', 'pipe:1'];
  return (await runFfmpeg(args)).stdout;
}

t.test('the browser refuses only the obvious before sending: empty, plainly not audio, over the limit', async (t) => {
  const file = (name: string, type: string, size = 1000) => ({ name, type, size });
  t.equal(recordingProblem(file('thong-bao.mp3', 'audio/mpeg')), null);
  t.equal(recordingProblem(file('thong-bao.m4a', 'audio/x-m4a')), null);
  t.equal(recordingProblem(file('thong-bao.m4a', 'video/mp4')), null, 'M4A that a system labels as video');
  t.equal(recordingProblem(file('ghi-am', '')), null, 'no type and no extension: the server decides');
  t.equal(recordingProblem(file('ghi-am.amr', 'application/octet-stream')), null);
  t.equal(recordingProblem(file('bai-hat.mp3', 'audio/mpeg', 0)), 'empty');
  t.equal(recordingProblem(file('ghi-chu.txt', 'text/plain')), 'type');
  t.equal(recordingProblem(file('anh.jpg', 'image/jpeg')), 'type');
  t.equal(recordingProblem(file('bai-hat.mp3', 'text/plain')), null, 'an audio name is given the benefit of the doubt');
  t.equal(recordingProblem(file('dai.wav', 'audio/wav', UPLOAD_MAX_BYTES + 1)), 'size');
  t.equal(recordingProblem(file('vua.wav', 'audio/wav', UPLOAD_MAX_BYTES)), null);
  t.equal(recordingProblem(file('nho.wav', 'audio/wav', 2000), 1000), 'size');
  t.equal(fmtBytes(UPLOAD_MAX_BYTES), '100 MB');
  t.equal(fmtBytes(2_516_582), '2,4 MB');
});

t.test('upload a recording in chromium: progress, ready and playable, scheduled; wrong files refused in Vietnamese', { skip: skip ?? false }, async (t) => {
  const { chromium } = await import('playwright-core');
  // A small limit, so a file the browser lets through can still be refused by the server (413).
  const { base, api, token } = await startWebServer(t, { uploadLimitBytes: 1024 * 1024 });
  await importSampleAreas(api, token);
  t.equal((await api('POST', '/api/v1/devices', { name: 'Cụm loa Tân Lập 1', areaCode: '99003' }, token)).status, 201);

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  const page: Page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  const uploads: string[] = [];
  page.on('request', (req) => {
    if (req.url().endsWith('/api/v1/bulletins/upload')) uploads.push(req.method());
  });

  await page.goto(base + '/');
  await page.getByLabel('Tên đăng nhập').fill('admin');
  await page.getByLabel('Mật khẩu').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.getByTestId('whoami').waitFor();
  await page.getByRole('link', { name: 'Soạn bản tin' }).click();

  // Switch from typing to uploading: the text stays for when the operator switches back.
  await page.getByLabel('Nội dung').fill('Bản nháp giữ lại.');
  await page.getByRole('radio', { name: 'Tải bản ghi âm' }).check();
  t.equal(await page.getByLabel('Nội dung').isVisible(), false, 'the text box gives way to the file input');
  const input = page.getByLabel('Tệp ghi âm');
  t.equal(await input.getAttribute('accept'), 'audio/*,.mp3,.wav,.m4a');
  t.match(await page.locator('#file-hint').innerText(), /MP3, WAV, M4A.*tối đa 100 MB/);
  await page.getByRole('radio', { name: 'Gõ văn bản' }).check();
  t.equal(await page.getByLabel('Nội dung').inputValue(), 'Bản nháp giữ lại.', 'switching back keeps the typed text');
  await page.getByRole('radio', { name: 'Tải bản ghi âm' }).check();
  await page.getByLabel('Tiêu đề').fill('Thông báo của trưởng thôn');
  await page.getByLabel('Chuyên mục').selectOption('local-direction');

  // Plainly not audio: refused by the browser, nothing sent.
  await input.setInputFiles({ name: 'ghi-chu.txt', mimeType: 'text/plain', buffer: Buffer.from('không phải âm thanh') });
  await page.getByText('Tệp “ghi-chu.txt” không phải là tệp âm thanh. Hãy chọn tệp MP3, WAV hoặc M4A.').waitFor();
  t.equal(await input.getAttribute('aria-invalid'), 'true');
  t.equal(await page.getByRole('button', { name: 'Tải lên và tạo bản tin' }).isDisabled(), true);
  t.same(uploads, [], 'the browser sent nothing');

  // A text file renamed .mp3 passes the browser's look and is refused by the server's decoding (415).
  await input.setInputFiles({ name: 'bai-hat.mp3', mimeType: 'audio/mpeg', buffer: Buffer.from('this is a text file pretending to be an mp3') });
  await page.getByTestId('file-chosen').filter({ hasText: 'bai-hat.mp3' }).waitFor();
  await page.getByRole('button', { name: 'Tải lên và tạo bản tin' }).click();
  await page.getByRole('alert').filter({ hasText: 'Máy chủ từ chối: tệp này không phải là âm thanh đọc được' }).waitFor({ timeout: 30_000 });
  t.same(uploads, ['POST'], 'the server judged it');

  // Over the server's (configured) limit, under the browser's: the server's 413, in Vietnamese.
  await input.setInputFiles({ name: 'dai-qua.wav', mimeType: 'audio/wav', buffer: await wav(8, 2) });
  await page.getByRole('button', { name: 'Tải lên và tạo bản tin' }).click();
  await page.getByRole('alert').filter({ hasText: 'Máy chủ từ chối: tệp ghi âm vượt quá dung lượng cho phép' }).waitFor({ timeout: 30_000 });

  // A real WAV, sent slowly enough to watch the upload progress.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 150 * 1024 });
  const recording = await wav(3);
  await input.setInputFiles({ name: 'thong-bao.wav', mimeType: 'audio/wav', buffer: recording });
  await page.getByTestId('file-chosen').filter({ hasText: `thong-bao.wav (${fmtBytes(recording.length)})` }).waitFor();
  await page.getByRole('button', { name: 'Tải lên và tạo bản tin' }).click();
  const progress = page.getByTestId('upload-progress');
  await progress.waitFor({ timeout: 10_000 });
  const seen = new Set<string>();
  while ((await progress.count()) > 0) {
    const text = await progress.innerText().catch(() => '');
    if (text) seen.add(text.trim());
    await page.waitForTimeout(50);
  }
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  t.ok([...seen].some((s) => /^Đang tải lên: \d{1,2}%$/.test(s)), `the upload's progress was shown (${[...seen].join(' | ')})`);

  // Ready: the same next steps as a text bulletin — hear it, then schedule it.
  await page.getByRole('heading', { name: 'Lên lịch phát' }).waitFor({ timeout: 60_000 });
  t.match(await page.getByRole('status').filter({ hasText: 'Bản tin đã sẵn sàng' }).innerText(), /Bản tin đã sẵn sàng \(0:03\)/);
  const audio = page.getByTestId('recording-audio');
  t.equal(await audio.getAttribute('aria-label'), 'Âm thanh bản tin “Thông báo của trưởng thôn”');
  const src = await audio.getAttribute('src');
  t.match(src, /^\/media\/[0-9a-f]{64}\?exp=\d+&u=[\w-]+&sig=[\w-]{43}$/, 'a signed, expiring link');
  const media = await page.request.get(base + src);
  t.equal(media.status(), 200, 'the broadcast audio is served with its signed link');
  t.equal(media.headers()['content-type'], 'audio/ogg');
  // No named functions inside: the test runner's transform would wrap them in a helper the page lacks.
  const duration = await audio.evaluate((el) => {
    const a = el as unknown as AudioLike;
    return new Promise<number>((resolve) => {
      if (a.readyState >= 1) return resolve(a.duration);
      a.addEventListener('loadedmetadata', () => resolve(a.duration));
      a.addEventListener('error', () => resolve(-1));
      a.load();
    });
  });
  t.ok(Math.abs(duration - 3) < 0.3, `chromium decodes the bulletin's audio (${duration} s)`);
  await page.getByTestId('play-recording').click();
  const played = await audio.evaluate((el) => {
    const a = el as unknown as AudioLike;
    return new Promise<number>((resolve) => {
      a.addEventListener('timeupdate', () => a.currentTime > 0.2 && resolve(a.currentTime));
      a.addEventListener('error', () => resolve(-1));
      setTimeout(() => resolve(a.currentTime), 5000);
    });
  });
  t.ok(played > 0.2, `it plays (${played} s in)`);
  await audio.evaluate((el) => {
    const a = el as unknown as AudioLike;
    a.pause();
    a.currentTime = 0;
  });
  await page.mouse.wheel(0, -5000);
  await page.screenshot({ path: join(SCREENSHOTS, 'compose-upload.png') });

  await page.getByLabel('Lọc địa bàn').fill('tan lap');
  await page.getByRole('checkbox', { name: /Xã Tân Lập/ }).check();
  await page.getByRole('button', { name: 'Kiểm tra lịch' }).click();
  await page.getByTestId('check-report').waitFor();
  t.match(await page.getByTestId('check-report').innerText(), /1 cụm loa nhận bản tin/);
  await page.getByRole('button', { name: 'Phát', exact: true }).click();
  await page.waitForURL(/\/luot-phat\/bc-/);
  const broadcastId = page.url().split('/').pop()!;
  const bc = await api<{ bulletinId: string }>('GET', `/api/v1/broadcasts/${broadcastId}`, undefined, token);
  const bt = await api<{ title: string; audio: { engine: string; url: string } }>('GET', `/api/v1/bulletins/${bc.body.bulletinId}`, undefined, token);
  t.equal(bt.body.title, 'Thông báo của trưởng thôn');
  t.equal(bt.body.audio.engine, 'recording', 'the broadcast carries the uploaded recording');
  t.equal(bt.body.audio.url, src!.split('?')[0], 'the page plays a signed link to that audio');
  t.same(errors, [], 'no script errors in the page');
});
