/**
 * The commune's podcast and notices (issue 22) end to end: a real server with eSpeak and ffmpeg, two simulated
 * boxes of Xã Tân Lập running the real device agent. A public bulletin that aired is in the commune's RSS
 * podcast and Atom feed, read by a real feed parser and checked element by element, with an enclosure that
 * downloads at the announced length; a private one, an unaired one and another commune's are not, and their
 * audio is 404. Answers are cached (304 by ETag and by date; a second request reads no SQLite) until an airing
 * or a change of the public flag.
 */
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pino } from 'pino';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { parseFeed } from '@rowanmanning/feed-parser';
import { startSimulation } from '../../firmware-sim/src/index.js';
import { startTestServer, importSampleAreas, tempDir, ADMIN_PASSWORD } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const TRICKY_TITLE = 'Họp dân <khẩn> & "thôn Đông" ]]> \'mai\'';
const TEXT = 'Ủy ban nhân dân xã thông báo: tối nay họp dân lúc 19 giờ tại nhà văn hóa thôn Đông. Mức nước sông < 3 m & trời mưa ]]> mang áo mưa.';
const ITUNES = 'http://www.itunes.com/dtds/podcast-1.0.dtd';
const ATOM = 'http://www.w3.org/2005/Atom';
const ATOM_RNG = fileURLToPath(new URL('./fixtures/atom.rng', import.meta.url));

/**
 * Well-formed XML (or a thrown error), as plain objects: elements by their qualified name, attributes under `@`,
 * text under `#text`; repeated elements always arrays where the test counts them. fast-xml-parser, not a DOM:
 * the test project has no DOM types (xmldom's would bring them to every test).
 */
function parseXml(xml: string): Record<string, any> {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`not well-formed: ${valid.err.msg} at line ${valid.err.line}`);
  return new XMLParser({ htmlEntities: true, ignoreAttributes: false, attributeNamePrefix: '@', textNodeName: '#text', parseTagValue: false, isArray: (name) => ['item', 'entry', 'title', 'link', 'description', 'language'].includes(name) }).parse(xml);
}
const text = (v: any): string => (typeof v === 'object' && v !== null ? v['#text'] : v);

t.test('a public bulletin aired on simulated boxes is in the commune’s podcast with a fetchable enclosure; a private one is not', async (t) => {
  const { api, token, base, server } = await startTestServer(t);
  await importSampleAreas(api, token);
  const simDir = await tempDir(t, 'loaxa-feeds-sim-');
  const sim = await startSimulation({ serverUrl: base, count: 2, areaCode: '99003', stateFile: join(simDir, 'state.json'), logger: pino({ level: 'silent' }), username: 'admin', password: ADMIN_PASSWORD, startSpreadMs: 50 });
  t.teardown(() => sim.stop());
  t.equal(await sim.waitForConnections(10_000), 2, 'two boxes connected');
  await waitFor('presence', async () => ((await api('GET', '/api/v1/devices?state=online', undefined, token)).body.total === 2 ? true : null), 5000);

  const create = async (title: string, isPublic: boolean) => {
    const r = await api('POST', '/api/v1/bulletins', { title, text: TEXT, category: 'local-direction', ...(isPublic ? { public: true } : {}) }, token);
    t.ok(r.status === 201 || r.status === 202, `${title} created`);
    // 202 when the machine is busy: synthesis goes on in the background.
    return waitFor(`${title} synthesized`, async () => {
      const b = (await api('GET', `/api/v1/bulletins/${r.body.id}`, undefined, token)).body as { id: string; status: string; audio: { durationMs: number } };
      return b.status === 'ready' ? b : null;
    }, 60_000);
  };
  const pub = await create(TRICKY_TITLE, true);
  const priv = await create('Bản tin nội bộ', false);
  const unaired = await create('Chưa phát', true);
  t.equal((await api('GET', `/api/v1/bulletins/${pub.id}`, undefined, token)).body.public, true, 'the flag set when composing is on the bulletin');
  t.equal((await api('GET', `/api/v1/bulletins/${priv.id}`, undefined, token)).body.public, false);

  // Before any airing: the commune's podcast is valid and empty, and cached.
  const empty = await fetch(`${base}/xa/99003/podcast.xml`);
  t.equal(empty.status, 200);
  t.equal(parseFeed(await empty.text()).items.length, 0, 'nothing aired yet');

  for (const b of [pub, priv]) {
    const cast = await api('POST', '/api/v1/broadcasts', { bulletinId: b.id, priority: 'normal', target: { areaCodes: ['99003'] }, readingChecked: true }, token);
    t.equal(cast.status, 201, JSON.stringify(cast.body));
    await waitFor(
      'both boxes played',
      async () => {
        const d = (await api('GET', `/api/v1/broadcasts/${cast.body.id}`, undefined, token)).body.deliveries as { state: string }[];
        return d.length === 2 && d.every((x) => x.state === 'played') ? true : null;
      },
      b.audio.durationMs * 2 + 30_000,
    );
  }

  const res = await fetch(`${base}/xa/99003/podcast.xml`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^application\/rss\+xml; charset=utf-8/);
  t.match(res.headers.get('cache-control'), /^public, max-age=\d+/);
  const etag = res.headers.get('etag')!;
  const lastModified = res.headers.get('last-modified')!;
  t.ok(etag && lastModified, 'ETag and Last-Modified');
  const xml = await res.text();
  if (existsSync('/usr/bin/xmllint')) execFileSync('/usr/bin/xmllint', ['--noout', '-'], { input: xml });

  // A real feed parser reads it.
  const feed = parseFeed(xml);
  t.equal(feed.title, 'Bản tin Xã Tân Lập');
  t.equal(feed.language, 'vi');
  t.equal(feed.url, `${base}/xa/99003/nhung`);
  t.equal(feed.items.length, 1, 'only the public bulletin that aired');
  const item = feed.items[0]!;
  t.equal(item.title, TRICKY_TITLE, 'the title survives <, &, quotes and ]]>');
  t.match(item.description, 'Mức nước sông < 3 m & trời mưa ]]> mang áo mưa.', 'so does the text');
  const media = item.media[0]!;
  t.equal(media.mimeType, 'audio/mpeg');
  t.equal(media.url, `${base}/xa/99003/ban-tin/${pub.id}/audio.mp3`);

  // Every element RSS 2.0 and the iTunes podcast tags require, checked one by one.
  const rss = parseXml(xml).rss;
  t.equal(rss['@version'], '2.0');
  t.equal(rss['@xmlns:itunes'], ITUNES);
  const channel = rss.channel;
  for (const name of ['title', 'link', 'description', 'language']) t.equal(channel[name]?.length, 1, `channel has one <${name}>`);
  t.equal(text(channel.language[0]), 'vi');
  t.equal(text(channel['itunes:author']), 'UBND Xã Tân Lập');
  t.match(channel['itunes:image']['@href'], /^http:\/\/.+\/xa\/anh-podcast\.png$/);
  t.ok([channel['itunes:category']].flat()[0]['@text'], 'an iTunes category');
  t.equal(text(channel['itunes:explicit']), 'false');
  t.equal(channel.item.length, 1);
  const el = channel.item[0];
  for (const name of ['title', 'link', 'description', 'guid', 'pubDate', 'enclosure', 'itunes:duration']) t.ok(el[name] !== undefined, `item has <${name}>`);
  const enclosure = el.enclosure;
  const length = Number(enclosure['@length']);
  t.ok(length > 1000, 'the enclosure has a length');
  t.equal(enclosure['@type'], 'audio/mpeg');
  t.equal(enclosure['@url'], media.url);
  t.equal(text(el.guid), `tag:loaxa.vn,2026:xa/99003/ban-tin/${pub.id}`);
  t.equal(el.guid['@isPermaLink'], 'false');
  t.equal(text(el.title[0]), TRICKY_TITLE);
  t.match(text(el['itunes:duration']), /^0:00:\d\d$/);
  t.equal(el['podcast:transcript']['@url'], `${base}/xa/99003/ban-tin/${pub.id}/loi.txt`);
  const firstPlaying = server.ctx.db
    .prepare("SELECT MIN(e.at) AS at FROM delivery_events e JOIN broadcasts b ON b.id = e.broadcast_id WHERE b.bulletin_id = ? AND e.state = 'playing'")
    .get(pub.id) as { at: number };
  const pubDate = text(el.pubDate);
  t.match(pubDate, /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/, 'RFC 822');
  t.equal(Date.parse(pubDate), Math.floor(firstPlaying.at / 1000) * 1000, 'pubDate is the first airing in the commune');

  // The enclosure downloads, at the announced length, as MP3, without a login; ranges work.
  const audio = await fetch(media.url);
  t.equal(audio.status, 200);
  t.equal(audio.headers.get('content-type'), 'audio/mpeg');
  t.match(audio.headers.get('cache-control'), /^public, max-age=\d+$/);
  const bytes = Buffer.from(await audio.arrayBuffer());
  t.equal(bytes.length, length, 'the enclosure is as long as announced');
  t.ok(bytes.subarray(0, 3).toString('latin1') === 'ID3' || (bytes[0] === 0xff && (bytes[1]! & 0xe0) === 0xe0), 'an MP3');
  const part = await fetch(media.url, { headers: { range: 'bytes=0-99' } });
  t.equal(part.status, 206);
  t.equal((await part.arrayBuffer()).byteLength, 100);
  t.equal((await fetch(media.url, { headers: { 'if-none-match': audio.headers.get('etag')! } })).status, 304);

  // Not public, not aired, another commune, a village, nonsense: the same Vietnamese 404.
  for (const path of [`/xa/99003/ban-tin/${priv.id}/audio.mp3`, `/xa/99003/ban-tin/${unaired.id}/audio.mp3`, `/xa/99004/ban-tin/${pub.id}/audio.mp3`, `/xa/99003/ban-tin/${priv.id}`, `/xa/99004/ban-tin/${pub.id}`, '/xa/9900301/podcast.xml', '/xa/12345/podcast.xml', '/xa/12345/nhung', '/xa/99003/khong-co']) {
    const r = await fetch(base + path);
    t.equal(r.status, 404, `${path} is 404`);
    t.match(await r.text(), /Không tìm thấy trang/, 'in Vietnamese');
  }
  t.equal(parseFeed(await (await fetch(`${base}/xa/99004/podcast.xml`)).text()).items.length, 0, 'another commune’s podcast does not list it');

  // Cached: 304 by ETag and by date, and a second request reads nothing from SQLite.
  t.equal((await fetch(`${base}/xa/99003/podcast.xml`, { headers: { 'if-none-match': etag } })).status, 304);
  t.equal((await fetch(`${base}/xa/99003/podcast.xml`, { headers: { 'if-modified-since': lastModified } })).status, 304);
  t.equal((await fetch(`${base}/xa/99003/podcast.xml`, { headers: { 'if-none-match': '"other"' } })).status, 200);
  const repo = server.feeds.repository;
  await fetch(`${base}/xa/99003/thong-bao.xml`);
  const queries = repo.queries;
  for (const path of ['podcast.xml', 'thong-bao.xml']) t.equal((await fetch(`${base}/xa/99003/${path}`)).status, 200);
  t.equal((await fetch(media.url)).status, 200);
  t.equal(repo.queries, queries, 'answered from memory: no query');

  // Taken off: gone from the feed and its audio at once (the cache is dropped), with a new ETag.
  const off = await api('PATCH', `/api/v1/bulletins/${pub.id}/public`, { public: false }, token);
  t.same(off.body, { id: pub.id, public: false });
  const after = await fetch(`${base}/xa/99003/podcast.xml`, { headers: { 'if-none-match': etag } });
  t.equal(after.status, 200, 'the old ETag no longer matches');
  t.equal(parseFeed(await after.text()).items.length, 0);
  t.equal((await fetch(media.url)).status, 404);
  await api('PATCH', `/api/v1/bulletins/${pub.id}/public`, { public: true }, token);
  t.equal(parseFeed(await (await fetch(`${base}/xa/99003/podcast.xml`)).text()).items.length, 1, 'and back');

  // The Atom feed of notices: the same bulletin as text.
  const atomRes = await fetch(`${base}/xa/99003/thong-bao.xml`);
  t.match(atomRes.headers.get('content-type'), /^application\/atom\+xml/);
  const atomXml = await atomRes.text();
  const atom = parseFeed(atomXml);
  t.equal(atom.items.length, 1);
  t.equal(atom.items[0]!.title, TRICKY_TITLE);
  t.equal(atom.items[0]!.content, TEXT);
  const adoc = parseXml(atomXml).feed;
  t.equal(adoc['@xmlns'], ATOM);
  for (const name of ['id', 'title', 'updated', 'author']) t.ok(adoc[name] !== undefined, `feed has <${name}>`);
  t.equal(adoc.link.find((l: any) => l['@rel'] === 'self')['@href'], `${base}/xa/99003/thong-bao.xml`);
  const entry = adoc.entry[0];
  for (const name of ['id', 'title', 'updated', 'published', 'summary', 'content']) t.ok(entry[name] !== undefined, `entry has <${name}>`);
  t.match(text(entry.updated), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'RFC 3339');
  t.equal(entry.link.find((l: any) => l['@rel'] === 'enclosure')['@href'], media.url);

  // RFC 4287 Appendix B's schema (test/feeds/fixtures/atom.rng): the feed validates, and the schema does check —
  // the same feed without an entry's id does not.
  if (existsSync('/usr/bin/xmllint')) {
    const lint = (doc: string) => spawnSync('/usr/bin/xmllint', ['--noout', '--relaxng', ATOM_RNG, '-'], { input: doc, encoding: 'utf8' });
    const good = lint(atomXml);
    t.equal(good.status, 0, `the Atom feed validates against RFC 4287's RELAX NG schema ${good.stderr}`);
    t.not(lint(atomXml.replace(/<entry>\n<id>[^<]*<\/id>/, '<entry>')).status, 0, 'an entry without its id does not');
  } else {
    await t.test('the Atom feed against RFC 4287’s RELAX NG schema', { skip: 'xmllint is missing (apt-get install libxml2-utils): the Atom feed was checked element by element only' }, async () => undefined);
  }

  // The transcript the podcast points to.
  const transcript = await fetch(`${base}/xa/99003/ban-tin/${pub.id}/loi.txt`);
  t.equal(transcript.status, 200);
  t.equal(await transcript.text(), `${TRICKY_TITLE}\n\n${TEXT}\n`);
});
