/**
 * Review of issue 20 (search and filters): a list request reads at most 20 batches of 500 broadcasts. A commune
 * viewer in a province of many broadcasts it may not see no longer makes one request walk the whole table; the
 * answer's cursor goes on from where the reading stopped, so the client still reaches every broadcast it may see.
 */
import t from 'tap';
import { importSampleAreas, startTestServer } from '../helpers/server.js';
import { userToken } from '../helpers/programmes.js';

t.test('a list stops after 10,000 rows it may not show and gives a cursor to go on', async (t) => {
  const s = await startTestServer(t);
  await importSampleAreas(s.api, s.token);
  const viewer = await userToken(s.api, s.token, 'xem.tanlap', 'viewer', '99003');
  const db = s.server.ctx.db;
  db.prepare("INSERT INTO bulletins (id, title, text, voice, speed, status, created_at, updated_at) VALUES ('bt-0000000000000001', 'Lịch họp', 'x', 'vi', 1, 'ready', 0, 0)").run();
  const insert = db.prepare("INSERT INTO broadcasts (id, bulletin_id, priority, target_json, start_at, window_ms, status, media_base_url, created_at) VALUES (?, 'bt-0000000000000001', 'normal', ?, 0, 0, 'approved', '', 0)");
  db.transaction(() => {
    // Another commune's broadcasts first (ids sort first), then the viewer's own, past the first 10,000 rows.
    for (let i = 0; i < 12_000; i++) insert.run(`bc-a${String(i).padStart(15, '0')}`, '{"areaCodes":["99004"]}');
    insert.run('bc-zzzzzzzzzzzzzzzz', '{"areaCodes":["99003"]}');
  })();
  const first = await s.api('GET', '/api/v1/broadcasts?status=all&limit=5', undefined, viewer);
  t.equal(first.status, 200);
  t.same(first.body.items, [], 'nothing it may see in the first 10,000 rows');
  t.ok(first.body.next, 'a cursor to go on from');
  const second = await s.api('GET', `/api/v1/broadcasts?status=all&limit=5&cursor=${first.body.next}`, undefined, viewer);
  t.same(second.body.items.map((b: { id: string }) => b.id), ['bc-zzzzzzzzzzzzzzzz'], 'its commune’s broadcast is on the next page');
  t.equal(second.body.next, null, 'and the list ends');
});
