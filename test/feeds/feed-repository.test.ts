/**
 * Which bulletins a commune's page publishes (issue 22), on a real SQLite file with the real migrations: only
 * public ones (an actual disaster warning's bulletin is flagged public by the warning service), only once a box of that commune (or of a village inside it)
 * played them, dated by their first playing there.
 */
import t from 'tap';
import { join } from 'node:path';
import { openDatabase } from '../../server/src/db/database.js';
import { AIRED_OF, FeedRepository } from '../../server/src/feeds/feed-repository.js';
import { tempDir } from '../helpers/server.js';

t.test('public, aired in the commune, first air time; warnings public by nature unless an exercise', async (t) => {
  const dir = await tempDir(t, 'loaxa-feeds-repo-');
  const db = openDatabase(join(dir, 'loaxa.db'));
  t.teardown(() => db.close());
  const now = 1_800_000_000_000;
  const area = db.prepare("INSERT INTO areas (code, parent_code, name, type, level, imported_at) VALUES (?, ?, ?, ?, ?, 0)");
  area.run('99', null, 'Tỉnh Mẫu', 'tỉnh', 'province');
  area.run('99003', '99', 'Xã Tân Lập', 'xã', 'commune');
  area.run('9900301', '99003', 'Thôn Đông', 'thôn', 'village');
  area.run('99004', '99', 'Xã Hưng Đạo', 'xã', 'commune');
  const device = db.prepare("INSERT INTO devices (id, name, area_code, secret_hash, created_at) VALUES (?, ?, ?, 'x', 0)");
  device.run('d-commune', 'Loa UBND', '99003');
  device.run('d-village', 'Loa thôn Đông', '9900301');
  device.run('d-other', 'Loa Hưng Đạo', '99004');
  const bulletin = db.prepare(
    "INSERT INTO bulletins (id, title, text, voice, speed, status, audio_sha256, audio_bytes, duration_ms, mp3_sha256, created_at, updated_at, public) VALUES (?, ?, 'nội dung', 'vi', 1, 'ready', ?, 100, 5000, ?, 0, 0, ?)",
  );
  const sha = (c: string) => c.repeat(64);
  bulletin.run('b-public', 'Công khai', sha('a'), sha('b'), 1);
  bulletin.run('b-private', 'Nội bộ', sha('c'), null, 0);
  bulletin.run('b-unaired', 'Chưa phát', sha('d'), null, 1);
  bulletin.run('b-elsewhere', 'Xã khác', sha('e'), null, 1);
  bulletin.run('b-warning', 'Cảnh báo lũ', sha('f'), null, 1);
  bulletin.run('b-exercise', 'Diễn tập', sha('0'), null, 0);
  const broadcast = db.prepare("INSERT INTO broadcasts (id, bulletin_id, priority, target_json, start_at, window_ms, status, media_base_url, created_at) VALUES (?, ?, 'normal', '{}', 0, 0, 'approved', '', 0)");
  for (const b of ['public', 'private', 'unaired', 'elsewhere', 'warning', 'exercise']) broadcast.run(`c-${b}`, `b-${b}`);
  const event = db.prepare('INSERT INTO delivery_events (broadcast_id, device_id, occurrence_at, state, at, received_at) VALUES (?, ?, 0, ?, ?, ?)');
  // b-public: played on the village box first, then on the commune's own; a scheduled-only state before.
  event.run('c-public', 'd-commune', 'cached', now - 9000, now);
  event.run('c-public', 'd-village', 'playing', now - 5000, now);
  event.run('c-public', 'd-commune', 'playing', now - 4000, now);
  event.run('c-private', 'd-commune', 'playing', now - 3000, now);
  event.run('c-unaired', 'd-commune', 'cached', now - 3000, now);
  event.run('c-elsewhere', 'd-other', 'playing', now - 3000, now);
  event.run('c-warning', 'd-commune', 'playing', now - 1000, now);
  event.run('c-exercise', 'd-commune', 'playing', now - 500, now);
  const warning = db.prepare(
    "INSERT INTO warnings (id, source_name, identifier, sender, status, event, severity, urgency, certainty, state, announcement, bulletin_id, created_at, updated_at) VALUES (?, 'NCHMF', ?, 's', ?, 'Lũ', 'Severe', 'Immediate', 'Observed', 'aired', 'x', ?, 0, 0)",
  );
  warning.run('w1', 'id-1', 'Actual', 'b-warning');
  warning.run('w2', 'id-2', 'Exercise', 'b-exercise');

  const repo = new FeedRepository(db);
  t.same(repo.commune('99003'), { code: '99003', name: 'Xã Tân Lập', type: 'xã', parentName: 'Tỉnh Mẫu' });
  t.equal(repo.commune('9900301'), null, 'a village has no page of its own');
  t.equal(repo.commune('99'), null, 'nor a province');
  t.equal(repo.commune('12345'), null);

  const aired = repo.aired('99003', 50);
  t.same(
    aired.map((b) => [b.id, b.firstAiredAt, b.warning]),
    [
      ['b-warning', now - 1000, true],
      ['b-public', now - 5000, false],
    ],
    'the actual warning and the public bulletin, newest first; not the private, unaired, exercise or other commune’s',
  );
  t.match(aired[1], { audioSha256: sha('b'), audioExt: 'mp3' }, 'the MP3 rendition when there is one');
  t.match(aired[0], { audioSha256: sha('f'), audioExt: 'ogg' }, 'else the Opus original');
  t.same(repo.aired('99004', 50).map((b) => b.id), ['b-elsewhere']);
  t.equal(repo.airedOne('99003', 'b-private'), null);
  t.equal(repo.airedOne('99004', 'b-public'), null, 'a bulletin of another commune is not found here');
  t.equal(repo.airedOne('99003', 'b-public')?.title, 'Công khai');
  t.same(repo.aired('99003', 1).map((b) => b.id), ['b-warning'], 'the limit holds');
});

t.test('no lookup reads the whole as-run log (review of issue 22: any unauthenticated request scanned delivery_events)', async (t) => {
  const dir = await tempDir(t, 'loaxa-feeds-plan-');
  const db = openDatabase(join(dir, 'loaxa.db'));
  t.teardown(() => db.close());
  for (const [name, sql] of [['a commune’s feed', AIRED_OF('1')], ['one bulletin', AIRED_OF('t.id = @id')]] as const) {
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ code: '99003', id: 'bt-0', limit: 1 }) as Array<{ detail: string }>).map((r) => r.detail);
    t.notOk(plan.some((d) => /^SCAN (e|delivery_events)\b/.test(d)), `${name}: delivery_events searched by index (${plan.join(' | ')})`);
    t.notOk(plan.some((d) => /^SCAN (t|bulletins)\b(?! USING INDEX bulletins_public)/.test(d)), `${name}: bulletins read through the public index (public rows only) or the id`);
  }
});
