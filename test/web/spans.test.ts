import t from 'tap';
import { highlightSegments, previewSource } from '../../web/src/logic/spans.js';
import type { ReportSpan } from '../../web/src/api/types.js';

const span = (start: number, end: number, rule = 'r', reading?: string): ReportSpan => ({ start, end, text: '', rule, ...(reading ? { reading } : {}) });
const kinds = (segs: ReturnType<typeof highlightSegments>) => segs.map((s) => `${s.kind}:${s.text}`);

t.test('spans are code point offsets: an emoji before a span does not shift it', async (t) => {
  // "👍" is one code point but two UTF-16 units; the span [4, 6) is "20" in code points.
  const text = '👍 Họp 20 giờ';
  const cps = Array.from(text);
  t.equal(cps.slice(6, 8).join(''), '20');
  const segs = highlightSegments(text, { rewritten: [span(6, 8, 'number', 'hai mươi')], unread: [] });
  t.same(kinds(segs), ['plain:👍 Họp ', 'rewritten:20', 'plain: giờ']);
  t.equal(segs[1]!.span!.reading, 'hai mươi', 'the span travels with its segment');
});

t.test('the preview source is the trimmed NFC text the server read', async (t) => {
  const decomposed = '  Xã Tân Lập\u0323 '.normalize('NFD');
  const src = previewSource(decomposed);
  t.equal(src, src.normalize('NFC'));
  t.notOk(/^\s|\s$/.test(src));
  // In NFD "ậ" is three code points; in NFC one: offsets must be applied to the NFC form.
  const nfc = previewSource('Lập 5');
  t.same(kinds(highlightSegments(nfc, { rewritten: [span(4, 5)], unread: [] })), ['plain:Lập ', 'rewritten:5']);
});

t.test('unread wins where spans overlap; adjacent spans stay separate', async (t) => {
  const text = 'UBND xã ABCXYZ 749/QĐ';
  const segs = highlightSegments(text, { rewritten: [span(0, 4, 'abbr'), span(8, 14, 'letters')], unread: [span(11, 14, 'unknown')] });
  t.same(kinds(segs), ['rewritten:UBND', 'plain: xã ', 'rewritten:ABC', 'unread:XYZ', 'plain: 749/QĐ']);
  const adjacent = highlightSegments('ab', { rewritten: [span(0, 1), span(1, 2)], unread: [] });
  t.equal(adjacent.length, 2, 'two spans side by side are two marks');
});

t.test('offsets outside the text are clamped, empty and inverted spans ignored', async (t) => {
  const segs = highlightSegments('abc', { rewritten: [span(2, 99), span(1, 1), span(3, 1)], unread: [span(-5, 1)] });
  t.same(kinds(segs), ['unread:a', 'plain:b', 'rewritten:c']);
  t.same(highlightSegments('', { rewritten: [span(0, 3)], unread: [] }), []);
});

t.test('guessed spans are marked apart: over rewritten ones, under unread ones', async (t) => {
  const text = 'Tải Zentrix ☺ về';
  const segs = highlightSegments(text, { rewritten: [span(0, 3, 'word', 'tải'), span(4, 11, 'loanword')], guessed: [span(4, 11, 'loanword-guess', 'den trích'), span(12, 13, 'x')], unread: [span(12, 13, 'unknown-symbol')] });
  t.same(kinds(segs), ['rewritten:Tải', 'plain: ', 'guessed:Zentrix', 'plain: ', 'unread:☺', 'plain: về']);
  t.equal(segs[2]!.span!.reading, 'den trích', 'the guess carries its reading');
  t.same(kinds(highlightSegments('ab', { rewritten: [], unread: [] })), ['plain:ab'], 'the guessed list is optional');
});
