/**
 * The web app's programme logic (issue 15; web/src/logic/programmes.ts): items added, moved and removed,
 * what is sent for each kind (checked against the contract's own schema), the form's refusals, the total
 * shown while building (with "until 18:30" for open-ended relay segments), the preview's length; the
 * server's refusals on the item they name (web/src/logic/programme-errors.ts); and on the air
 * (web/src/logic/programme-runs.ts): the as-run report's airings and where each box is on the live page.
 */
import t from 'tap';
import { programmeDraftSchema } from '../../shared/src/api/programmes.js';
import {
  addItem,
  BELL_MS,
  checkDraft,
  itemFromInput,
  itemLengthMs,
  itemToInput,
  moveItem,
  newItem,
  parseNumber,
  previewLengthMs,
  PREVIEW_MARKER_MS,
  PROGRAMME_MAX_ITEMS,
  removeItem,
  savedLength,
  totalLength,
  updateItem,
  type ItemDraft,
} from '../../web/src/logic/programmes.js';
import { errorsOf, programmeErrors } from '../../web/src/logic/programme-errors.js';
import { itemReasonLabel, laterItemEvent, playedItems, programmeAirings } from '../../web/src/logic/programme-runs.js';

const item = (kind: ItemDraft['kind'], patch: Partial<ItemDraft> = {}): ItemDraft => ({ ...newItem(kind), ...patch });

t.test('items are added at the end, moved with the arrows or a drag, removed; edits return new lists', async (t) => {
  const a = item('bulletin');
  const b = item('pause');
  const c = item('relay');
  t.not(a.key, b.key, 'each item has its own key');
  t.same(moveItem([a, b, c], 2, 1), [a, c, b], 'up one');
  t.same(moveItem([a, b, c], 0, 1), [b, a, c], 'down one');
  t.same(moveItem([a, b, c], 0, 2), [b, c, a], 'a drag from first to last');
  t.same(moveItem([a, b, c], 0, -1), [a, b, c], 'the first cannot go higher');
  t.same(moveItem([a, b, c], 2, 3), [a, b, c], 'the last cannot go lower');
  t.same(removeItem([a, b, c], 1), [a, c]);
  const list = [a, b];
  t.equal(addItem(list, 'chime').length, 3);
  t.equal(addItem(list, 'chime')[2]!.kind, 'chime');
  t.same(list, [a, b], 'the old list is not mutated');
  t.equal(updateItem(list, 1, { pauseSeconds: '7' })[1]!.pauseSeconds, '7');
  t.equal(list[1]!.pauseSeconds, '3');
  const full = Array.from({ length: PROGRAMME_MAX_ITEMS }, () => item('pause'));
  t.equal(addItem(full, 'pause').length, PROGRAMME_MAX_ITEMS, 'no item beyond the server’s limit of 100');
});

t.test('what is sent for each kind passes the contract’s schema; a stored item comes back to the same form', async (t) => {
  const items = [
    item('bulletin', { bulletinId: 'bt-1' }),
    item('chime', { chime: 'intro' }),
    item('chime', { chime: 'recording', bulletinId: 'bt-jingle' }),
    item('music', { musicBulletinId: 'bt-music', speechBulletinId: 'bt-1', duckDb: '12,5', leadInSeconds: '2', tailSeconds: '4,5' }),
    item('relay', { sourceId: 'src-1', minutes: '1,5' }),
    item('relay', { sourceId: 'src-1', relayMode: 'until', until: '18:30' }),
    item('pause', { pauseSeconds: '0,5' }),
  ];
  const r = checkDraft('Chương trình tối thứ Bảy', items);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  t.same(r.items, [
    { kind: 'bulletin', bulletinId: 'bt-1' },
    { kind: 'chime', bell: 'intro' },
    { kind: 'chime', bulletinId: 'bt-jingle' },
    { kind: 'music', musicBulletinId: 'bt-music', speechBulletinId: 'bt-1', duckDb: 12.5, leadInMs: 2000, tailMs: 4500 },
    { kind: 'relay', sourceId: 'src-1', durationMs: 90_000 },
    { kind: 'relay', sourceId: 'src-1', until: '18:30' },
    { kind: 'pause', durationMs: 500 },
  ]);
  t.ok(programmeDraftSchema.safeParse({ title: 'x', items: r.items }).success, 'the server’s schema accepts it');
  for (const [i, input] of r.items.entries()) {
    const back = itemToInput(itemFromInput(input), i);
    t.same(back.ok && back.input, input, `item ${i} (${input.kind}) round-trips through the form`);
  }
});

t.test('the form refuses, on the item and field, what the server would', async (t) => {
  const fieldsOf = (d: ItemDraft) => {
    const r = itemToInput(d, 4);
    return r.ok ? [] : r.errors.map((e) => [e.index, e.field]);
  };
  t.same(fieldsOf(item('bulletin')), [[4, 'bulletinId']], 'no bulletin chosen');
  t.same(fieldsOf(item('chime', { chime: 'recording' })), [[4, 'bulletinId']], 'a recorded chime needs its recording');
  t.same(fieldsOf(item('chime', { chime: 'outro' })), [], 'the built-in bell needs nothing');
  t.same(fieldsOf(item('music', { duckDb: '2', leadInSeconds: '31' })), [[4, 'musicBulletinId'], [4, 'speechBulletinId'], [4, 'duckDb'], [4, 'leadInMs']]);
  t.same(fieldsOf(item('music', { musicBulletinId: 'a', speechBulletinId: 'b', duckDb: '41' })), [[4, 'duckDb']], 'at most 40 dB');
  t.same(fieldsOf(item('relay', { sourceId: 's', minutes: '0,5' })), [[4, 'durationMs']], 'a relay segment lasts at least a minute');
  t.same(fieldsOf(item('relay', { sourceId: 's', minutes: '721' })), [[4, 'durationMs']], 'and at most 12 hours');
  t.same(fieldsOf(item('relay', { sourceId: 's', relayMode: 'until', until: '25:00' })), [[4, 'until']]);
  t.same(fieldsOf(item('relay')), [[4, 'sourceId']]);
  t.same(fieldsOf(item('pause', { pauseSeconds: '0,4' })), [[4, 'durationMs']], 'a pause lasts at least 0.5 s');
  t.same(fieldsOf(item('pause', { pauseSeconds: '601' })), [[4, 'durationMs']], 'and at most 10 minutes');
  t.same(fieldsOf(item('pause', { pauseSeconds: 'năm' })), [[4, 'durationMs']]);
  const whole = checkDraft('  ', []);
  t.same(whole.ok ? [] : whole.errors.map((e) => e.field), ['title', 'items'], 'a title and at least one item');
  t.ok(checkDraft(null, [item('pause')]).ok, 'the preview needs no title');
  t.match(itemToInput(item('pause', { pauseSeconds: '0' }), 0), { ok: false, errors: [{ message: /0,5 giây đến 10 phút/ }] }, 'in Vietnamese');
  t.equal(parseNumber(' 2,5 '), 2.5);
  t.ok(Number.isNaN(parseNumber('2,5,1')));
});

t.test('the total while building: known lengths summed, the bell, music under speech, "until 18:30", unknowns counted', async (t) => {
  const lengths = new Map([
    ['bt-1', 62_000],
    ['bt-jingle', 5_000],
  ]);
  const items = [
    item('bulletin', { bulletinId: 'bt-1' }),
    item('pause', { pauseSeconds: '3' }),
    item('relay', { sourceId: 's', minutes: '5' }),
    item('chime', { chime: 'outro' }),
    item('music', { musicBulletinId: 'bt-jingle', speechBulletinId: 'bt-1', leadInSeconds: '3', tailSeconds: '3' }),
  ];
  t.equal(itemLengthMs(items[4]!, lengths), 3000 + 62_000 + 3000, 'music: lead-in, the speech, the tail');
  t.same(totalLength(items, lengths), { knownMs: 62_000 + 3000 + 300_000 + BELL_MS + 68_000, unknown: 0, until: null });
  const open = [...items, item('relay', { sourceId: 's', relayMode: 'until', until: '18:30' }), item('bulletin', { bulletinId: 'bt-unknown' })];
  t.same(totalLength(open, lengths), { knownMs: 62_000 + 3000 + 300_000 + BELL_MS + 68_000, unknown: 1, until: '18:30' }, 'an open-ended segment ends at 18:30; a bulletin not found has no length yet');
  t.equal(previewLengthMs(items, lengths), 62_000 + 3000 + PREVIEW_MARKER_MS + BELL_MS + 68_000, 'the preview plays a marker for the relay segment');
  t.equal(previewLengthMs([item('pause', { pauseSeconds: '60' })], lengths), 10_000, 'and cuts long pauses to 10 s');
  t.equal(previewLengthMs(open, lengths), null, 'unknown while a length is unknown');
  t.same(
    savedLength({ durationMs: 120_000, openEnded: true, items: [{ input: { kind: 'relay', sourceId: 's', until: '06:00' } }, { input: { kind: 'relay', sourceId: 's', until: '18:30' } }] }),
    { ms: 120_000, until: '18:30', openEnded: true },
  );
});

t.test('the server’s refusals land on the item and field they name, in Vietnamese', async (t) => {
  const items = [item('bulletin'), item('pause'), item('relay'), item('chime')];
  const errs = programmeErrors(
    {
      status: 400,
      message: 'body/items/0/bulletinId unknown bulletin',
      fields: [
        { path: 'items.0.bulletinId', message: 'unknown bulletin bt-x' },
        { path: 'items.1.durationMs', message: 'a pause lasts at least 0.5 s' },
        { path: 'items.2.sourceId', message: 'unknown source src-9' },
        { path: 'items.3.bulletinId', message: 'must be a recording' },
        { path: 'items.2.durationMs', message: 'a relay segment lasts durationMs or runs until a time of day (until), one of the two' },
        { path: 'title', message: 'Too small' },
        { path: 'weird', message: 'what' },
      ],
    },
    items,
  );
  t.same(
    errs.map((e) => [e.index, e.field]),
    [
      [0, 'bulletinId'],
      [1, 'durationMs'],
      [2, 'sourceId'],
      [3, 'bulletinId'],
      [2, 'durationMs'],
      [null, 'title'],
      [null, 'items'],
    ],
  );
  t.match(errorsOf(errs, 0)[0]!.message, /Không tìm thấy bản tin/);
  t.match(errorsOf(errs, 1)[0]!.message, /Khoảng lặng/);
  t.match(errorsOf(errs, 2)[0]!.message, /nguồn tiếp sóng/);
  t.match(errorsOf(errs, 3)[0]!.message, /bản ghi âm/);
  t.match(errorsOf(errs, null)[1]!.message, /weird: what/, 'anything unknown is shown, not dropped');
  t.match(programmeErrors({ status: 400, fields: [{ path: 'items.0.bulletinId', message: 'a relay, not audio' }], message: '' }, items)[0]!.message, /Tiếp sóng/);
  t.match(programmeErrors({ status: 400, fields: [{ path: 'items.0.bulletinId', message: 'not ready (synthesizing)' }], message: '' }, items)[0]!.message, /chưa có âm thanh/);
  t.match(programmeErrors({ status: 400, fields: [{ path: 'items.0.bulletinId', message: 'a programme, not audio' }], message: '' }, items)[0]!.message, /chương trình khác/);
  t.match(programmeErrors({ status: 400, fields: [{ path: 'items', message: 'too long to preview' }], message: '' }, items)[0]!.message, /nghe thử từng phần/);
  t.match(programmeErrors({ status: 409, fields: [], message: 'programme bt-1 has approved broadcasts still to air: ask an approver' }, items), [{ index: null, message: /người phê duyệt[\s\S]*bản sao/ }], 'the 409 says what to do');
  t.match(programmeErrors({ status: 409, fields: [], message: 'programme bt-1 was changed by someone else meanwhile' }, items), [{ index: null, message: /tải lại/ }], 'an edit that crossed another');
  t.same(programmeErrors({ status: 500, fields: [], message: 'boom' }, items), [], 'not a refusal of the form: the caller shows the usual message');
  t.match(programmeErrors({ status: 400, fields: [], message: 'odd' }, items), [{ index: null, message: /odd/ }]);
});

t.test('programme airings of the as-run report, newest first, items in order, played counted', async (t) => {
  const it = (index: number, state: 'played' | 'failed' | null) => ({ index, kind: 'pause' as const, title: `Mục ${index}`, state, startedAt: null, endedAt: null, airedMs: null, reason: null });
  const base = { priority: 'normal', state: 'played', startedAt: null, endedAt: null, reason: null };
  const airings = programmeAirings({
    communes: [
      {
        code: '99003', name: 'Xã Tân Lập', scheduled: 0, played: 0, missed: 0, failed: 0, cancelled: 0, expired: 0, pending: 0, airtimeMs: 0,
        devices: [
          {
            deviceId: 'dev-1', name: 'Cụm 1', scheduled: 0, played: 0, missed: 0, failed: 0, cancelled: 0, expired: 0, pending: 0, airtimeMs: 0,
            items: [
              { ...base, broadcastId: 'bc-1', title: 'Bản tin lẻ', occurrenceAt: '2026-12-07T10:00:00.000Z' },
              { ...base, broadcastId: 'bc-2', title: 'Chương trình sáng', occurrenceAt: '2026-12-07T01:00:00.000Z', programme: { version: 2, items: [it(1, 'failed'), it(0, 'played')] } },
              { ...base, broadcastId: 'bc-3', title: 'Chương trình tối', occurrenceAt: '2026-12-07T11:00:00.000Z', programme: { version: 1, items: [it(0, null)] } },
            ],
          },
        ],
      },
    ],
  });
  t.same(airings.map((a) => a.title), ['Chương trình tối', 'Chương trình sáng'], 'only programmes, newest first');
  t.same(airings[1]!.items.map((i) => i.index), [0, 1], 'items in programme order');
  t.equal(playedItems(airings[1]!.items), 1);
  t.match(airings[1], { commune: 'Xã Tân Lập', deviceName: 'Cụm 1', version: 2 });
});

t.test('the live page keeps, per box, the event that says where it is now', async (t) => {
  const ev = (occurrenceAt: string, index: number, at: string, state = 'playing') => ({ occurrenceAt, index, at, state });
  const a = ev('2026-12-07T11:00:00Z', 1, '2026-12-07T11:01:00Z');
  t.equal(laterItemEvent(undefined, a), a, 'the first one');
  const next = ev('2026-12-07T11:00:00Z', 2, '2026-12-07T11:02:00Z');
  t.equal(laterItemEvent(a, next), next, 'a later item');
  t.equal(laterItemEvent(next, a), next, 'an earlier item arriving late does not go back');
  const done = ev('2026-12-07T11:00:00Z', 2, '2026-12-07T11:03:00Z', 'played');
  t.equal(laterItemEvent(next, done), done, 'the same item, later: played');
  t.equal(laterItemEvent(done, next), done, 'a late playing does not hide played');
  const tomorrow = ev('2026-12-08T11:00:00Z', 0, '2026-12-08T11:00:05Z');
  t.equal(laterItemEvent(done, tomorrow), tomorrow, 'a later occurrence starts over');
  t.equal(laterItemEvent(tomorrow, done), tomorrow);
});

t.test('why an item went as it did, in Vietnamese, from the box’s reason', async (t) => {
  t.equal(itemReasonLabel('LOAXA_DOWNLOAD_FAILED: HTTP 404 from http://x/media/abc'), 'cụm loa không tải được tệp âm thanh');
  t.equal(itemReasonLabel('continued at item 2 after emergency bc-9'), 'phát tiếp từ mục 3 sau khi bị ngắt', 'items count from 1 for people');
  t.equal(itemReasonLabel('the programme was stopped: cancelled'), 'chương trình bị dừng');
  t.equal(itemReasonLabel('LOAXA_PLAYBACK_FAILED: aplay exited 1'), 'cụm loa không phát được');
  t.equal(itemReasonLabel('something new'), null, 'unknown: the page shows the box’s words alone');
  t.equal(itemReasonLabel(null), null);
});
