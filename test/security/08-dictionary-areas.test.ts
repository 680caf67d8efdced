/**
 * Issue 13, finding 8: any operator rewrote the installation-wide pronunciation dictionary
 * (`PUT /api/v1/tts/dictionary/UBND {"reading":"…"}`), changing how every commune's bulletins, emergencies
 * included, are read aloud. Entries now belong to an area; a user writes only its own area's (or below), only
 * an installation-wide admin writes installation-wide ones, and a bulletin is read with the most local entry.
 *
 * What is asserted is what the TTS engine is sent: a cloud engine stand-in records every text it is asked to
 * speak, after the server's normalizer and dictionary, through the server's sentence cache.
 */
import t from 'tap';
import { join } from 'node:path';
import { loadConfig } from '../../server/src/config.js';
import { openDatabase } from '../../server/src/db/database.js';
import { migrations } from '../../server/src/db/migrations.js';
import { AreaRepository } from '../../server/src/repos/areas.js';
import { DictionaryRepository } from '../../server/src/repos/dictionary.js';
import { importSampleAreas, startTestServer, tempDir } from '../helpers/server.js';
import { json, sendAudio, startStandIn, tone, type StandIn } from '../server/audio/stand-in.js';

/** Zalo AI's documented answer shape; every `input` it is sent is recorded. */
async function zaloStandIn(t: { teardown(fn: () => unknown): void }): Promise<StandIn> {
  const s: StandIn = await startStandIn(async (req, res) => {
    if (req.path.startsWith('/audio/')) return sendAudio(res, await tone('mp3', 1), 'mp3');
    json(res, 200, { error_code: 0, error_message: 'Successful.', data: { url: `${s.url}/audio/${s.requests.length}.mp3` } });
  });
  t.teardown(() => s.close());
  return s;
}

interface AuditRow { method: string; route: string; status: number; username: string; object: { type: string; id: string } | null; before: any; after: any }

t.test('an operator writes only its own commune’s readings, and only that commune’s bulletins use them', async (t) => {
  const zalo = await zaloStandIn(t);
  const { api, token } = await startTestServer(t, {
    ttsSyncWaitMs: 30_000,
    tts: { ...loadConfig({}).tts, engines: ['zalo'], zalo: { apiKey: 'key', url: `${zalo.url}/v1/tts/synthesize` } },
  });
  await importSampleAreas(api, token);
  const loginAs = async (username: string, role: string, areaCode: string) => {
    const created = await api('POST', '/api/v1/users', { username, password: 'a-very-secret-pw', role, areaCode }, token);
    t.equal(created.status, 201, `user ${username} created`);
    return (await api('POST', '/api/v1/auth/login', { username, password: 'a-very-secret-pw' })).body.token as string;
  };
  const op3 = await loginAs('op3', 'operator', '99003');
  const op4 = await loginAs('op4', 'operator', '99004');
  const viewer3 = await loginAs('viewer3', 'viewer', '99003');
  const admin99 = await loginAs('admin99', 'province-admin', '99');

  /** Every text the engine was sent while `act` ran: what the loudspeakers will say. */
  const sentDuring = async (act: () => Promise<unknown>) => {
    const from = zalo.requests.length;
    await act();
    return zalo.requests.slice(from).filter((r) => !r.path.startsWith('/audio/')).map((r) => new URLSearchParams(r.body.toString('utf8')).get('input')).join(' ');
  };
  const bulletin = (text: string, as: string) =>
    sentDuring(async () => {
      const b = await api('POST', '/api/v1/bulletins', { title: 'Thông báo', text }, as);
      t.equal(b.status, 201, b.status === 201 ? 'made' : JSON.stringify(b.body));
      t.equal(b.body.status, 'ready', 'synthesized');
    });
  const preview = async (as: string) => (await api('POST', '/api/v1/tts/preview', { text: 'UBND thông báo.' }, as)).body.words as string;

  // Before any entry: the shipped reading, for 99004 as for everyone.
  t.match(await bulletin('UBND thông báo họp.', op4), /ủy ban nhân dân thông báo họp/);

  // Refused, each leaving the dictionary as it was: installation-wide, another commune, the province above.
  const refused: Array<[string, Record<string, unknown>, string]> = [
    ['the installation-wide entry', { reading: 'ai đó ở xã khác', areaCode: null }, op3],
    ['another commune’s entry', { reading: 'ai đó ở xã khác', areaCode: '99004' }, op3],
    ['the province’s entry, above its commune', { reading: 'ai đó ở xã khác', areaCode: '99' }, op3],
    ['a viewer, even for its own commune', { reading: 'ai đó ở xã khác' }, viewer3],
    ['a province admin bound to a province, the installation-wide entry', { reading: 'ai đó ở xã khác', areaCode: null }, admin99],
  ];
  for (const [what, body, as] of refused) t.equal((await api('PUT', '/api/v1/tts/dictionary/UBND', body, as)).status, 403, `refused: ${what}`);
  t.equal((await api('DELETE', '/api/v1/tts/dictionary/UBND?areaCode=99004', undefined, op3)).status, 403, 'refused: deleting another commune’s entry');
  t.same((await api('GET', '/api/v1/tts/dictionary', undefined, token)).body.items, [], 'the refused writes stored nothing');
  t.match(await preview(op4), /ủy ban nhân dân/);

  // Its own commune's entry (the very request of the finding, which now means "my commune").
  const own = await api('PUT', '/api/v1/tts/dictionary/UBND', { reading: 'Ủy ban xã Tân Lập' }, op3);
  t.equal(own.status, 200);
  t.same(own.body, { term: 'UBND', reading: 'ủy ban xã tân lập', areaCode: '99003' });
  t.equal((await api('PUT', '/api/v1/tts/dictionary/UBND', { reading: 'ban tự quản thôn đông', areaCode: '9900301' }, op3)).status, 200, 'and a village inside it');

  // The same text as 99004's bulletin, now from 99003: read with 99003's entry, not served from the sentence
  // cache of the other reading.
  t.match(await bulletin('UBND thông báo họp.', op3), /ủy ban xã tân lập thông báo họp/, 'a 99003 bulletin uses 99003’s reading');
  const other = await bulletin('UBND thông báo họp chợ.', op4);
  t.match(other, /ủy ban nhân dân thông báo họp chợ/, 'a 99004 bulletin does not');
  t.notMatch(other, /tân lập/);
  t.notMatch(await bulletin('UBND thông báo họp dân.', token), /tân lập/, 'nor does an installation-wide bulletin');

  // The most local entry wins: the province's applies where no commune entry does.
  const province = await api('PUT', '/api/v1/tts/dictionary/UBND', { reading: 'ủy ban tỉnh mẫu' }, admin99);
  t.same([province.status, province.body.areaCode], [200, '99'], 'a province admin writes its province’s');
  t.match(await preview(op4), /ủy ban tỉnh mẫu/, '99004 reads the province’s entry');
  t.match(await preview(op3), /ủy ban xã tân lập/, '99003 keeps its own, more local one');

  // Each sees its own chain and below, not a sibling commune's entries.
  const listed = async (as: string) => ((await api('GET', '/api/v1/tts/dictionary', undefined, as)).body.items as Array<{ areaCode: string | null }>).map((e) => e.areaCode).sort();
  t.same(await listed(op4), ['99'], '99004 does not see 99003’s entries');
  t.same(await listed(op3), ['99', '99003', '9900301']);
  t.same(await listed(admin99), ['99', '99003', '9900301']);
  t.same((await api('GET', '/api/v1/tts/dictionary?areaCode=9900301', undefined, op3)).body.items.map((e: { reading: string }) => e.reading), ['ban tự quản thôn đông'], 'filtered by area');
  t.equal((await api('PUT', '/api/v1/tts/dictionary/UBND', { reading: 'không có', areaCode: '12345' }, admin99)).status, 400, 'an unknown area is refused');

  // Its own entry removed: the province's applies again.
  t.equal((await api('DELETE', '/api/v1/tts/dictionary/UBND', undefined, op3)).status, 204);
  t.match(await preview(op3), /ủy ban tỉnh mẫu/);

  // Every attempt is in the audit log; each change names the area's entry with its state before and after.
  const log = ((await api('GET', '/api/v1/audit?limit=200', undefined, token)).body.items as AuditRow[]).filter((r) => r.route === '/api/v1/tts/dictionary/:term');
  t.equal(log.filter((r) => r.status === 403).length, refused.length + 1, 'every refused attempt is recorded');
  const changes = log.filter((r) => r.status < 300).reverse();
  t.same(
    changes.map((r) => [r.username, r.method, r.object?.type, r.before?.area_code ?? null, r.before?.reading ?? null, r.after?.area_code ?? null, r.after?.reading ?? null]),
    [
      ['op3', 'PUT', 'dictionary-entry', null, null, '99003', 'ủy ban xã tân lập'],
      ['op3', 'PUT', 'dictionary-entry', null, null, '9900301', 'ban tự quản thôn đông'],
      ['admin99', 'PUT', 'dictionary-entry', null, null, '99', 'ủy ban tỉnh mẫu'],
      ['op3', 'DELETE', 'dictionary-entry', '99003', 'ủy ban xã tân lập', null, null],
    ],
    'every change is audited with the entry of its area',
  );
  t.equal(new Set(changes.map((r) => r.object?.id)).size, 3, 'entries of one term in different areas are different objects');
});

t.test('entries made before areas existed become installation-wide, and the key is the term in its area', async (t) => {
  const file = join(await tempDir(t), 'loaxa.sqlite');
  // The schema as it was before entries had an area (migration 16).
  const old = openDatabase(file, migrations.filter((m) => m.version < 16));
  old.prepare("INSERT INTO areas (code, parent_code, name, type, level, imported_at) VALUES ('99', NULL, 'Tỉnh Mẫu', 'tỉnh', 'province', 0), ('99003', '99', 'Xã Tân Lập', 'xã', 'commune', 0)").run();
  old.prepare("INSERT INTO dictionary_entries (term, reading, updated_by, updated_at) VALUES ('HTX', 'hợp tác xã', NULL, 1)").run();
  old.close();

  const db = openDatabase(file);
  t.teardown(() => db.close());
  t.same(db.prepare('SELECT term, area_code, reading FROM dictionary_entries').all(), [{ term: 'HTX', area_code: null, reading: 'hợp tác xã' }], 'the old entry is installation-wide');
  const areas = new AreaRepository(db);
  const dictionary = new DictionaryRepository(db, areas);
  dictionary.upsert('HTX', '99003', 'hợp tác xã tân lập', null);
  dictionary.upsert('HTX', null, 'hợp tác xã kiểu mới', null);
  t.same(dictionary.list().map((e) => [e.areaCode, e.reading]), [[null, 'hợp tác xã kiểu mới'], ['99003', 'hợp tác xã tân lập']], 'one entry per term and area, installation-wide included');
  t.equal(dictionary.readingsFor('99003').HTX, 'hợp tác xã tân lập');
  t.equal(dictionary.readingsFor('99').HTX, 'hợp tác xã kiểu mới');
  dictionary.upsert('HTX', '99', 'hợp tác xã tỉnh mẫu', null);
  t.ok(dictionary.delete('HTX', '99003'));
  t.equal(dictionary.readingsFor('99003').HTX, 'hợp tác xã tỉnh mẫu', 'without its own entry, the province’s');
  // An area re-imported under another province reads with its new chain's entries, with no dictionary write between.
  areas.upsertMany([{ code: '98', parentCode: null, name: 'Tỉnh Khác', type: 'tỉnh', level: 'province', validFrom: null, validUntil: null }, { code: '99003', parentCode: '98', name: 'Xã Tân Lập', type: 'xã', level: 'commune', validFrom: null, validUntil: null }]);
  t.equal(dictionary.readingsFor('99003').HTX, 'hợp tác xã kiểu mới', 'no longer under 99: the province’s entry does not apply');
});
