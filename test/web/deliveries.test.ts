import t from 'tap';
import { applyDeliveryEvent } from '../../web/src/logic/deliveries.js';
import type { BroadcastDetail, DeliveryEvent } from '../../web/src/api/types.js';

const OCC = '2026-12-15T10:00:00.000Z';
const detail: BroadcastDetail = {
  id: 'bc-1', bulletinId: 'bt-1', priority: 'normal', status: 'approved', startAt: OCC, schedule: null, target: { areaCodes: ['99003'] },
  createdAt: OCC, decisionReason: null, airsWhenApproved: false, lastStartAt: OCC, occurrenceAt: OCC, summary: { cached: 2 },
  deliveries: [
    { deviceId: 'spk-a', occurrenceAt: OCC, state: 'cached', at: OCC },
    { deviceId: 'spk-b', occurrenceAt: OCC, state: 'cached', at: OCC },
  ],
};
const ev = (patch: Partial<DeliveryEvent>): DeliveryEvent => ({ broadcastId: 'bc-1', deviceId: 'spk-a', occurrenceAt: OCC, state: 'playing', at: '2026-12-15T10:00:01.000Z', reason: null, ...patch });

t.test('an SSE delivery event moves one device forward and recounts the summary', async (t) => {
  const r = applyDeliveryEvent(detail, ev({}));
  t.equal(r.kind, 'updated');
  if (r.kind === 'updated') {
    t.equal(r.detail.deliveries[0]!.state, 'playing');
    t.same(r.detail.summary, { playing: 1, cached: 1 });
    t.equal(detail.deliveries[0]!.state, 'cached', 'the old detail is not mutated');
  }
  const failed = applyDeliveryEvent(detail, ev({ state: 'failed', reason: 'hash mismatch' }));
  if (failed.kind === 'updated') t.equal(failed.detail.deliveries[0]!.reason, 'hash mismatch');
});

t.test('late, repeated and foreign events are ignored; unknown ones ask for a re-read', async (t) => {
  t.equal(applyDeliveryEvent(detail, ev({ state: 'sent' })).kind, 'ignored', 'never backwards');
  t.equal(applyDeliveryEvent(detail, ev({ state: 'cached' })).kind, 'ignored', 'a repeat');
  t.equal(applyDeliveryEvent(detail, ev({ broadcastId: 'bc-2' })).kind, 'ignored');
  t.equal(applyDeliveryEvent(detail, ev({ deviceId: 'spk-new' })).kind, 'refetch');
  t.equal(applyDeliveryEvent(detail, ev({ occurrenceAt: '2026-12-16T10:00:00.000Z' })).kind, 'refetch', 'the next occurrence began');
  t.equal(applyDeliveryEvent(detail, ev({ occurrenceAt: '2026-12-14T10:00:00.000Z' })).kind, 'ignored', 'an old occurrence');
});
