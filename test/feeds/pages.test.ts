/**
 * The commune's pages (issue 22): the shareable page's Open Graph tags and picture for Zalo and Facebook, the
 * embeddable player's CSP (framable by the configured portals, no inline script or style, nothing else
 * framable), escaping in HTML, and who may publish a bulletin. The airing is written into the as-run log
 * directly here; podcast.test.ts airs on simulated boxes.
 */
import t from 'tap';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const TITLE = 'Lịch <b>tiêm</b> & "phòng" ]]> dại';
const TEXT = 'Trạm y tế xã tiêm vắc-xin dại cho chó, mèo vào sáng thứ Bảy. Bà con mang theo sổ tiêm. <script>alert(1)</script>';

const metaOf = (html: string, property: string) => {
  const m = new RegExp(`<meta property="${property}" content="([^"]*)">`).exec(html);
  return m ? m[1]!.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&') : null;
};

t.test('share page, player, picture and publishing rights', async (t) => {
  const { api, token, base, server } = await startTestServer(t, { embedAncestors: 'https://*.gov.vn https://portal.example' });
  await importSampleAreas(api, token);
  const login = async (username: string, role: string, areaCode: string) => {
    t.equal((await api('POST', '/api/v1/users', { username, password: 'a-very-secret-pw', role, areaCode }, token)).status, 201);
    return (await api('POST', '/api/v1/auth/login', { username, password: 'a-very-secret-pw' })).body.token as string;
  };
  const op = await login('op-tanlap', 'operator', '99003');
  const op2 = await login('op2-tanlap', 'operator', '99003');
  const viewer = await login('viewer-tanlap', 'viewer', '99003');
  const other = await login('op-hungdao', 'operator', '99004');

  const created = await api('POST', '/api/v1/bulletins', { title: TITLE, text: TEXT, category: 'knowledge' }, op);
  t.ok(created.status === 201 || created.status === 202, 'created');
  const id = created.body.id as string;
  // 202 when the machine is busy: synthesis goes on in the background.
  await waitFor('synthesized', async () => ((await api('GET', `/api/v1/bulletins/${id}`, undefined, op)).body.status === 'ready' ? true : null), 60_000);
  t.equal((await api('GET', `/api/v1/bulletins/${id}`, undefined, op)).body.public, false, 'not public by default');

  // Who may publish it: writers of its area; not a viewer, not another commune (which does not even see it).
  t.equal((await api('PATCH', `/api/v1/bulletins/${id}/public`, { public: true }, viewer)).status, 403);
  t.equal((await api('PATCH', `/api/v1/bulletins/${id}/public`, { public: true }, other)).status, 404);
  t.equal((await api('PATCH', `/api/v1/bulletins/${id}/public`, { public: 'yes' }, op2)).status, 400);
  t.equal((await api('PATCH', '/api/v1/bulletins/bt_unknown/public', { public: true }, op2)).status, 404);
  t.equal((await api('GET', `/api/v1/bulletins/${id}`, undefined, op)).body.public, false, 'refusals changed nothing');
  const ok = await api('PATCH', `/api/v1/bulletins/${id}/public`, { public: true }, op2);
  t.same(ok.body, { id, public: true }, 'another operator of the commune publishes it');

  // Public but not aired: nowhere yet.
  t.equal((await fetch(`${base}/xa/99003/ban-tin/${id}`)).status, 404);

  // It aired on a box of Thôn Đông (inside Xã Tân Lập).
  const at = Date.UTC(2026, 11, 7, 7, 5); // 14:05 in Vietnam
  const db = server.ctx.db;
  db.prepare("INSERT INTO devices (id, name, area_code, secret_hash, created_at) VALUES ('d-dong', 'Loa thôn Đông', '9900301', 'x', 0)").run();
  db.prepare("INSERT INTO broadcasts (id, bulletin_id, priority, target_json, start_at, window_ms, status, media_base_url, created_at) VALUES ('bc-1', ?, 'normal', '{}', ?, 0, 'approved', '', 0)").run(id, at);
  db.prepare("INSERT INTO delivery_events (broadcast_id, device_id, occurrence_at, state, at, received_at) VALUES ('bc-1', 'd-dong', ?, 'playing', ?, ?)").run(at, at, at);
  server.ctx.events.emit('delivery', { broadcastId: 'bc-1', deviceId: 'd-dong', occurrenceAt: at, state: 'playing', at, reason: null });

  const share = await fetch(`${base}/xa/99003/ban-tin/${id}`);
  t.equal(share.status, 200, 'the airing dropped the cached 404');
  t.match(share.headers.get('content-type'), /^text\/html; charset=utf-8/);
  t.match(share.headers.get('content-security-policy'), /frame-ancestors 'none'/, 'a shared page is not framable');
  const html = await share.text();
  t.equal(metaOf(html, 'og:title'), TITLE);
  t.match(metaOf(html, 'og:description'), /^Trạm y tế xã tiêm vắc-xin dại/);
  t.equal(metaOf(html, 'og:url'), `${base}/xa/99003/ban-tin/${id}`);
  t.equal(metaOf(html, 'og:audio'), `${base}/xa/99003/ban-tin/${id}/audio.mp3`);
  t.equal(metaOf(html, 'og:locale'), 'vi_VN');
  t.notMatch(html, '<script>alert(1)</script>', 'the text is escaped');
  t.notMatch(html, '<b>tiêm</b>', 'so is the title');
  t.match(html, 'Phát lúc 14:05 07/12/2026', 'the air time in Vietnam time');
  t.equal((html.match(/<script\b[^>]*>/g) ?? []).every((s) => /src="\/xa\/nhung\.js"/.test(s)), true, 'no inline script');
  t.notMatch(html, /<style|style="/, 'no inline style');
  const image = metaOf(html, 'og:image')!;
  t.equal(image, `${base}/xa/anh-bia.png`);
  const png = Buffer.from(await (await fetch(image)).arrayBuffer());
  t.same([png.subarray(1, 4).toString('latin1'), png.readUInt32BE(16), png.readUInt32BE(20)], ['PNG', 1200, 630], 'a 1200×630 PNG');
  t.same([metaOf(html, 'og:image:width'), metaOf(html, 'og:image:height')], ['1200', '630']);
  const square = Buffer.from(await (await fetch(`${base}/xa/anh-podcast.png`)).arrayBuffer());
  t.same([square.readUInt32BE(16), square.readUInt32BE(20)], [1400, 1400], 'the podcast’s square picture');

  const embed = await fetch(`${base}/xa/99003/nhung`);
  t.equal(embed.status, 200);
  const csp = embed.headers.get('content-security-policy')!;
  t.match(csp, "frame-ancestors https://*.gov.vn https://portal.example", 'the player may be framed by the configured portals');
  t.match(csp, "script-src 'self'");
  t.notMatch(csp, 'unsafe-inline');
  t.equal(embed.headers.get('x-frame-options'), null);
  const page = await embed.text();
  t.match(page, `<h2><a href="${base}/xa/99003/ban-tin/${id}" target="_blank" rel="noopener">Lịch &lt;b&gt;tiêm&lt;/b&gt; &amp; &quot;phòng&quot; ]]&gt; dại</a></h2>`);
  t.match(page, '<audio id="a0" controls preload="none" src="');
  t.notMatch(page, /<style|style="|<script>/, 'no inline script or style');
  for (const [path, type] of [['/xa/nhung.js', 'text/javascript'], ['/xa/nhung.css', 'text/css']] as const) {
    const r = await fetch(base + path);
    t.equal(r.status, 200);
    t.match(r.headers.get('content-type'), type);
    t.equal((await fetch(base + path, { headers: { 'if-none-match': r.headers.get('etag')! } })).status, 304);
  }
  t.match((await fetch(`${base}/xa/99003/podcast.xml`)).headers.get('content-security-policy'), "frame-ancestors 'none'");
  t.equal((await fetch(`${base}/xa/99003/podcast.xml`, { method: 'HEAD' })).status, 200, 'HEAD, as podcast apps ask');

  // Another commune's player does not list it.
  t.notMatch(await (await fetch(`${base}/xa/99004/nhung`)).text(), id);
});
