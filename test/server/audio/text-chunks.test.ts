import t from 'tap';
import { splitIntoChunks } from '../../../server/src/audio/index.js';
import { packChunks } from '../../../server/src/audio/text-chunks.js';

const texts = (s: string, max?: number) => splitIntoChunks(s, max).map((c) => c.text);

t.test('splits on sentence ends and line breaks', async (t) => {
  t.same(texts('Một. Hai! Ba? Bốn; năm\nsáu'), ['Một.', 'Hai!', 'Ba?', 'Bốn;', 'năm', 'sáu']);
  t.same(texts('Thật sao?! Vâng... Được.'), ['Thật sao?!', 'Vâng...', 'Được.']);
});

t.test('dots inside numbers and times do not end a sentence', async (t) => {
  t.same(texts('Hỗ trợ 1.000.000 đồng lúc 7.30 sáng. Hết.'), ['Hỗ trợ 1.000.000 đồng lúc 7.30 sáng.', 'Hết.']);
});

t.test('drops empty and punctuation-only pieces, squeezes whitespace', async (t) => {
  t.same(texts('  \n\n Xin   chào.\n...\n  '), ['Xin chào.']);
  t.same(texts(''), []);
  t.same(texts(' \t\n'), []);
});

t.test('sentence pauses after sentences, shorter pauses inside a split sentence', async (t) => {
  const long = 'Đề nghị bà con khẩn trương di dời, ' + 'chằng chống nhà cửa trước khi bão đổ bộ '.repeat(3) + 'và theo dõi loa.';
  const chunks = splitIntoChunks(`${long} Xin cảm ơn.`, 80);
  t.ok(chunks.length >= 3);
  for (const c of chunks) t.ok(c.text.length <= 80, `"${c.text}" fits`);
  t.equal(chunks[0]!.text, 'Đề nghị bà con khẩn trương di dời,', 'prefers a comma');
  t.equal(chunks[0]!.pauseAfterMs, 150);
  t.equal(chunks.at(-2)!.pauseAfterMs, 350, 'end of the long sentence');
  t.same(chunks.at(-1), { text: 'Xin cảm ơn.', pauseAfterMs: 350 });
  t.equal(chunks.map((c) => c.text).join(' '), `${long} Xin cảm ơn.`, 'no words lost');
});

t.test('a sentence without commas splits on spaces, a single huge word is cut', async (t) => {
  const words = Array.from({ length: 60 }, (_, i) => `từ${i}`).join(' ');
  const chunks = texts(words, 50);
  t.ok(chunks.every((c) => c.length <= 50));
  t.equal(chunks.join(' '), words);
  t.same(texts('a'.repeat(120), 50).map((c) => c.length), [50, 50, 20]);
});

t.test('default chunk size stays under 500 characters', async (t) => {
  const text = ('Câu rất dài không có dấu chấm nào cả ' .repeat(40)) + '.';
  t.ok(splitIntoChunks(text).every((c) => c.text.length <= 500));
});

t.test('packing whole sentences into provider-sized requests', async (t) => {
  const chunks = splitIntoChunks('Một hai. Ba bốn năm. Sáu.\nBảy tám chín mười.');
  const packed = packChunks(chunks, 20);
  t.same(packed.map((c) => c.text), ['Một hai. Ba bốn năm.', 'Sáu.', 'Bảy tám chín mười.']);
  t.ok(packed.every((c) => c.text.length <= 20));
  t.same(packChunks(chunks, 1000).map((c) => c.text), ['Một hai. Ba bốn năm. Sáu. Bảy tám chín mười.']);
  t.equal(chunks[0]!.text, 'Một hai.', 'the input chunks are not modified');
});
