import t from 'tap';
import {
  decideOffer, initialOfferState, transitionOffer, type CommuneItem, type Offer, type OfferEvent, type OfferState, type OfferStatus,
} from '../../../server/src/scheduling/inbox.js';
import type { Priority } from '@loaxa/shared';

const MIN = 60_000;
const NOW = Date.parse('2026-03-10T08:00:00+07:00');
const offer = (priority: Priority, extra: Partial<Offer> = {}): Offer => ({
  id: 'o1', bulletinId: 'bulletin-1', areaCode: '99003', priority, offeredAt: NOW - MIN, durationMs: 10 * MIN, ...extra,
});
const own = (priority: Priority, startOffsetMin: number, durationMin: number, broadcastId = `own-${priority}-${startOffsetMin}`): CommuneItem =>
  ({ broadcastId, priority, startAt: NOW + startOffsetMin * MIN, durationMs: durationMin * MIN });

t.test('Circular 39 decisions for offers', async (t) => {
  const table: { name: string; offer: Offer; items: CommuneItem[]; action: string; collidesWith?: string[] }[] = [
    { name: 'normal waits for the commune to accept', offer: offer('normal'), items: [], action: 'wait-for-accept' },
    { name: 'normal waits even with a free schedule', offer: offer('normal', { startAt: NOW + 60 * MIN }), items: [own('normal', 0, 5)], action: 'wait-for-accept' },
    { name: 'priority airs when nothing collides', offer: offer('priority'), items: [], action: 'air' },
    { name: 'priority airs over the commune’s normal items', offer: offer('priority'), items: [own('normal', 0, 30)], action: 'air' },
    { name: 'priority waits for the order when it meets a commune priority item', offer: offer('priority'), items: [own('priority', 5, 10, 'flood-drill')], action: 'wait-for-order', collidesWith: ['flood-drill'] },
    { name: 'a commune priority item already playing collides too', offer: offer('priority'), items: [own('priority', -5, 10, 'now-on')], action: 'wait-for-order', collidesWith: ['now-on'] },
    { name: 'back to back is no collision', offer: offer('priority'), items: [own('priority', 10, 10), own('priority', -10, 10)], action: 'air' },
    { name: 'the requested time is what collides', offer: offer('priority', { startAt: NOW + 60 * MIN }), items: [own('priority', 0, 10), own('priority', 65, 10, 'late')], action: 'wait-for-order', collidesWith: ['late'] },
    { name: 'emergency airs at once whatever the commune has', offer: offer('emergency'), items: [own('priority', 0, 30), own('emergency', 0, 30)], action: 'air' },
  ];
  for (const row of table) {
    const d = decideOffer(row.offer, row.items, NOW);
    t.equal(d.action, row.action, row.name);
    t.same(d.collidesWith, row.collidesWith, `${row.name}: collisions`);
    t.ok(d.reason.length > 0);
  }
  t.equal(decideOffer(offer('emergency'), [], NOW).airAt, NOW, 'emergency: now');
  t.equal(decideOffer(offer('priority', { startAt: NOW - 30 * MIN }), [], NOW).airAt, NOW, 'a requested time already past means now');
  t.equal(decideOffer(offer('priority', { startAt: NOW + 30 * MIN }), [], NOW).airAt, NOW + 30 * MIN);
});

t.test('offer state machine', async (t) => {
  const EXP = NOW + 60 * MIN;
  const state = (priority: Priority, status: OfferStatus = 'pending'): OfferState => ({ ...initialOfferState(offer(priority, { expiresAt: EXP })), status });
  const accept: OfferEvent = { type: 'accept', at: NOW };
  const decline: OfferEvent = { type: 'decline', at: NOW, reason: 'not relevant here' };
  const schedule: OfferEvent = { type: 'schedule', at: NOW, broadcastId: 'bc-1' };
  const expireEarly: OfferEvent = { type: 'expire', at: EXP - 1 };
  const expire: OfferEvent = { type: 'expire', at: EXP };
  const table: [Priority, OfferStatus, OfferEvent, OfferStatus | 'error'][] = [
    ['normal', 'pending', accept, 'accepted'],
    ['normal', 'pending', decline, 'declined'],
    ['normal', 'accepted', decline, 'declined'],
    ['normal', 'accepted', schedule, 'scheduled'],
    ['normal', 'pending', schedule, 'error'], // must be accepted first
    ['normal', 'accepted', accept, 'error'],
    ['priority', 'pending', schedule, 'scheduled'], // airs, or the commune set the order
    ['emergency', 'pending', schedule, 'scheduled'],
    ['priority', 'pending', decline, 'error'],
    ['emergency', 'pending', decline, 'error'],
    ['normal', 'pending', expire, 'expired'],
    ['normal', 'accepted', expire, 'expired'],
    ['normal', 'pending', expireEarly, 'error'],
    ['normal', 'pending', { type: 'accept', at: EXP }, 'error'],
    ['normal', 'accepted', { type: 'schedule', at: EXP + 1, broadcastId: 'bc-1' }, 'error'],
    ['normal', 'pending', { type: 'decline', at: EXP, reason: 'late' }, 'error'],
    ['normal', 'declined', accept, 'error'],
    ['normal', 'expired', accept, 'error'],
    ['priority', 'scheduled', schedule, 'error'],
    ['normal', 'scheduled', expire, 'error'],
  ];
  for (const [priority, from, event, want] of table) {
    const r = transitionOffer(state(priority, from), event);
    t.equal(r.ok ? r.state.status : 'error', want, `${priority}: ${from} --${event.type}@${event.at - NOW}--> ${want}`);
  }
  const s0 = state('normal');
  const r = transitionOffer(s0, schedule);
  t.notOk(r.ok);
  t.equal(s0.status, 'pending', 'the input state is never mutated');
  const accepted = transitionOffer(s0, accept);
  const scheduled = accepted.ok ? transitionOffer(accepted.state, { type: 'schedule', at: NOW + MIN, broadcastId: 'bc-9' }) : accepted;
  t.match(scheduled, { ok: true, state: { status: 'scheduled', since: NOW + MIN, broadcastId: 'bc-9', offerId: 'o1' } });
  t.match(transitionOffer(s0, decline), { ok: true, state: { status: 'declined', reason: 'not relevant here' } });
  t.match(transitionOffer(initialOfferState(offer('normal')), { type: 'expire', at: NOW + 1e12 }), { ok: false }, 'without expiresAt an offer never expires');
});
