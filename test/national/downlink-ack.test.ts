/**
 * After a bulletin from the parent is taken (or refused), the parent is told through the upstream link: a
 * schedule-ack queued in the outbox behind what is already waiting (issue 17), even while the link is down.
 */
import t from 'tap';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { addPeer, localDay, mediaServer, peerSession, toneWav } from './served-helpers.js';

t.test('what became of a bulletin from the parent goes up as a schedule-ack', async (t) => {
  const national = { url: 'http://127.0.0.1:9', mapping: 'vi', username: 'xa', password: 'mat-khau', passwordFile: undefined, sourceId: '99003', sourceName: 'Xã Tân Lập', vendorCode: 'LOAXA', vendorName: 'Loa Xã', statusSeconds: 3600, timeoutMs: 500, maxAnswerBytes: 65_536 };
  const { api, token, base, server } = await startTestServer(t, { national });
  await importSampleAreas(api, token);
  const media = await mediaServer(t, { '/a.wav': await toneWav(1) });
  const parent = await addPeer(api, token, { role: 'parent', name: 'HTTT nguồn tỉnh', sourceId: 'H99', username: 'httt-tinh', areaCodes: ['99003'] });
  const province = await peerSession(base, 'httt-tinh', parent.password);
  const day = localDay(0);
  const common = { kind: 'bulletin' as const, source: { id: 'H99', name: 'Sở' }, title: 'Thông báo', category: 'general' as const, summary: 'x', author: 'Sở', producedAt: Date.now(), durationS: 1, priority: 'normal' as const, playMode: 'now' as const, startDate: day.startMs, endDate: day.endMs, schedule: { kind: 'daily' as const, starts: ['07:00:00'], ends: [], days: [] }, contentType: 'audio' as const, createdBy: 'Tỉnh', areaCodes: ['99003'] };
  t.equal((await province.down({ ...common, bulletinId: 'TT-9', link: `${media.url}/a.wav` })).status, 200);
  t.equal((await province.down({ ...common, bulletinId: 'TT-10', link: `${media.url}/missing.wav` })).body.TrangThaiGui, 1);
  const acks = await waitFor('both acks in the outbox', () => {
    const rows = (server.ctx.db.prepare(`SELECT event_json AS e FROM national_outbox WHERE kind = 'schedule-ack' ORDER BY seq`).all() as Array<{ e: string }>).map((r) => JSON.parse(r.e));
    return rows.length >= 2 ? rows : null;
  }, 30_000);
  const byId = Object.fromEntries(acks.map((a: { bulletinId: string }) => [a.bulletinId, a]));
  t.match(byId['TT-9'], { accepted: true, source: { id: '99003' }, detail: /hộp thư/ });
  t.match(byId['TT-10'], { accepted: false, detail: /404/ });
});
