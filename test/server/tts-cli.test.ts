/**
 * Issue 19, "Nothing misread in silence": `tts synth` prints the reading report after the render's figures,
 * and `tts normalize` prints it on stderr, each span with its rule's Vietnamese name.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runTtsCli } from '../../server/src/tts-cli.js';

function capture(): { out: string[]; err: string[]; io: { stdout: (s: string) => void; stderr: (s: string) => void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (s) => out.push(s), stderr: (s) => err.push(s) } };
}

t.test('synth prints the figures as JSON, then every unread, guessed and rewritten span', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'loaxa-tts-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const input = join(dir, 'in.txt');
  const output = join(dir, 'out.ogg');
  await writeFile(input, 'Nền tảng SmartCity # ra mắt ngày 03/6/2024./.');
  const c = capture();
  t.equal(await runTtsCli(['synth', '--in', input, '--out', output], c.io), 0);
  const lines = c.out.join('').trimEnd().split('\n');
  const figures = JSON.parse(lines[0]!) as { durationMs: number; engine: string };
  t.ok(figures.durationMs > 1000, 'audio was rendered');
  t.same(lines.slice(1), [
    'báo cáo đọc: 1 đoạn chưa đọc được, 1 đoạn đoán, 2 đoạn viết lại',
    '  chưa đọc 19-20 "#" (ký hiệu không đọc được)',
    '  đoán     9-18 "SmartCity" → "xờ mát xi ti" (từ nước ngoài, đoán cách đọc)',
    '  viết lại 33-42 "03/6/2024" → "ba tháng sáu năm hai nghìn không trăm hai mươi tư" (ngày tháng)',
    '  viết lại 42-45 "./." → "" (dấu kết thúc bài, bỏ qua)',
  ]);
  t.ok((await readFile(output)).length > 0);
});

t.test('normalize prints the reading on stdout and the report on stderr', async (t) => {
  const c = capture();
  t.equal(await runTtsCli(['normalize', 'Họp qua Zoom lúc 7h'], c.io), 0);
  t.equal(c.out.join(''), 'họp qua dum lúc bảy giờ\n');
  t.equal(
    c.err.join(''),
    'báo cáo đọc: 0 đoạn chưa đọc được, 0 đoạn đoán, 2 đoạn viết lại\n' +
      '  viết lại 8-12 "Zoom" → "dum" (từ mượn, theo từ điển)\n' +
      '  viết lại 17-19 "7h" → "bảy giờ" (giờ)\n',
  );
});
