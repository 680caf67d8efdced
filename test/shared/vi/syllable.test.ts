/**
 * Issue 19, "A syllable check": a token is read as a Vietnamese word only if Vietnamese phonotactics
 * allow it — onset, medial, nucleus, coda, a closed syllable (-p, -t, -c, -ch) with sắc or nặng only,
 * and the tone mark on the vowel that carries it. Everything else is reported.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { normalizeVietnamese } from '../../../shared/src/vi/index.js';
import { isSyllable, isSyllableShape, parseSyllable } from '../../../shared/src/vi/syllable.js';

t.test('real syllables pass, including the hard spellings', async (t) => {
  const words = [
    'a', 'ý', 'gì', 'gìn', 'gia', 'giữa', 'giếng', 'Giêng', 'nghiêng', 'nghỉ', 'ghế', 'quốc', 'quý', 'quyết', 'quyền',
    'khuya', 'khuỷu', 'ngoài', 'ngoẹo', 'người', 'hươu', 'tuổi', 'chuyện', 'Nguyễn', 'huỳnh', 'oanh', 'khuếch', 'thuở',
    'hoặc', 'tuần', 'xoong', 'Đắk', 'Lắk', 'Kon', 'tháp', 'sách', 'lệnh', 'tính', 'mía', 'của', 'máy', 'cứu', 'chịu',
    'hoà', 'hòa', 'khoẻ', 'khỏe', 'thuỷ', 'thủy', 'THÔNG', 'BÁO', 'KHẨN', 'ĐỘC', 'LẬP',
  ];
  for (const w of words) t.ok(isSyllable(w), w);
});

t.test('tokens that cannot be one Vietnamese syllable are rejected, each for its rule', async (t) => {
  const cases: [string, string][] = [
    ['top', 'closed by p without sắc or nặng'],
    ['hoat', 'closed by t without sắc or nặng'],
    ['chat', 'closed by t without sắc or nặng'],
    ['sàch', 'closed by ch with huyền'],
    ['Qoffice', 'q without u'],
    ['ce', 'c before e (ke is written with k)'],
    ['nge', 'ng before e (nghe)'],
    ['gha', 'gh before a'],
    ['ge', 'g before e'],
    ['quu', 'qu then u'],
    ['tiê', 'iê needs a coda'],
    ['ă', 'ă needs a coda'],
    ['aim', 'ai takes no coda'],
    ['bêng', 'êng is no rhyme'],
    ['loch', 'och is no rhyme'],
    ['qúa', 'tone on the u of qu'],
    ['hòan', 'before a coda the tone sits on the last vowel'],
    ['mùa'.normalize('NFD').replace('\u0300', '\u0300\u0301'), 'two tone marks'],
    ['Facebook', 'not one syllable'],
  ];
  for (const [w, why] of cases) t.notOk(isSyllable(w), `${w}: ${why}`);
});

t.test('toneless text still has the shape of syllables (web addresses, names written together)', async (t) => {
  for (const w of ['dich', 'vu', 'cong', 'hoat', 'quang', 'nam']) t.ok(isSyllableShape(w), w);
  for (const w of ['xyz', 'Qoffice', 'ce']) t.notOk(isSyllableShape(w), w);
  t.same(parseSyllable('Quyết'), { onset: 'qu', vowels: 'yê', coda: 't', tone: '\u0301' });
  t.same(parseSyllable('giếng'), { onset: 'g', vowels: 'iê', coda: 'ng', tone: '\u0301' });
});

t.test('every word of the benchmark bulletin with a Vietnamese letter is a syllable (no false alarm)', async (t) => {
  const text = readFileSync(new URL('../../../bench/bulletin-vi.txt', import.meta.url), 'utf8').normalize('NFC');
  const flagged = new Set<string>();
  for (const w of text.match(/\p{L}+/gu) ?? []) {
    // Abbreviations (QĐ, UBND) are not meant to be syllables; words of lower-case letters are.
    if (/\p{Ll}/u.test(w) && /[^a-z]/iu.test(w) && !isSyllable(w)) flagged.add(w);
  }
  t.same([...flagged], []);
  const r = normalizeVietnamese(text);
  t.same(r.unread, [], 'nothing unread');
  t.same(r.guessed, [], 'nothing guessed');
});

t.test('a non-syllable is never passed on as a Vietnamese word: it is read as a loanword and reported', async (t) => {
  const r = normalizeVietnamese('Lọt top 10, hoat động tốt');
  t.equal(r.text, 'lọt tốp mười, hoát động tốt');
  t.same(r.rewritten.find((s) => s.text === 'top')?.rule, 'loanword');
  t.same(r.guessed.map((s) => [s.text, s.rule, s.reading]), [['hoat', 'loanword-guess', 'hoát']]);
});
