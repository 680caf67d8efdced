/**
 * Offers from the province to a commune's inbox (issue 4; Circular 39/2020/TT-BTTTT):
 * - `normal`: waits in the inbox until the commune accepts and schedules it;
 * - `priority`: airs, unless it collides with the commune's own `priority` items — then it waits for the
 *   commune to set the order;
 * - `emergency`: airs at once.
 * Pure: the caller passes `now` and the commune's items; nothing here reads a clock or a store.
 */
import { mayBeDeclined, needsAcceptance, playsAtOnce, sameRank, type Priority } from '@loaxa/shared';

export interface Offer {
  id: string;
  bulletinId: string;
  areaCode: string;
  priority: Priority;
  offeredAt: number;
  /** Requested air time, epoch ms; none (or one already past) means "as soon as possible". */
  startAt?: number;
  durationMs: number;
  /** After this instant a pending or accepted offer can only expire. */
  expiresAt?: number;
}

/** One of the commune's own scheduled occurrences. */
export interface CommuneItem {
  broadcastId: string;
  priority: Priority;
  startAt: number;
  durationMs: number;
}

export type OfferAction = 'wait-for-accept' | 'air' | 'wait-for-order';

export interface OfferDecision {
  action: OfferAction;
  reason: string;
  /** When it would air: the requested time, or `now` if none or already past. */
  airAt: number;
  /** For `wait-for-order`: the commune's priority broadcasts it collides with. */
  collidesWith?: string[];
}

/** What happens to a fresh offer arriving in a commune's inbox at `now`. */
export function decideOffer(offer: Offer, communeItems: readonly CommuneItem[], now: number): OfferDecision {
  const airAt = Math.max(offer.startAt ?? now, now);
  if (playsAtOnce(offer.priority)) {
    return { action: 'air', airAt, reason: 'Tin khẩn cấp được phát ngay và ngắt mọi nội dung đang phát (Thông tư 39)' };
  }
  if (needsAcceptance(offer.priority)) {
    return { action: 'wait-for-accept', airAt, reason: 'Tin thường chỉ phát khi xã nhận và xếp lịch (Thông tư 39)' };
  }
  const end = airAt + offer.durationMs;
  // Items of the same rank neither interrupt nor yield to each other, so the commune orders them; its
  // normal items are interrupted and its emergencies go first, by rank alone.
  const collidesWith = [
    ...new Set(
      communeItems
        .filter((c) => sameRank(c.priority, offer.priority) && c.startAt < end && c.startAt + c.durationMs > airAt)
        .map((c) => c.broadcastId),
    ),
  ].sort();
  if (collidesWith.length) {
    return {
      action: 'wait-for-order', airAt, collidesWith,
      // Issue 20, broken 5: the inbox showed this English text with raw ids; the ids stay in `collidesWith`.
      reason: `Trùng giờ với ${collidesWith.length} bản tin ưu tiên của xã; xã quyết định thứ tự phát (Thông tư 39)`,
    };
  }
  return { action: 'air', airAt, reason: 'Tin ưu tiên được phát theo lịch, trừ khi trùng bản tin ưu tiên của xã (Thông tư 39)' };
}

// ---- state of an offer in one commune's inbox ---------------------------------------------------------

export type OfferStatus = 'pending' | 'accepted' | 'declined' | 'expired' | 'scheduled';
export const TERMINAL_OFFER_STATUSES: readonly OfferStatus[] = ['declined', 'expired', 'scheduled'];

export interface OfferState {
  offerId: string;
  priority: Priority;
  expiresAt?: number;
  status: OfferStatus;
  /** When the current status was entered. */
  since: number;
  reason?: string;
  /** The commune broadcast that airs it, once `scheduled`. */
  broadcastId?: string;
}

export type OfferEvent =
  | { type: 'accept'; at: number }
  | { type: 'decline'; at: number; reason: string }
  | { type: 'expire'; at: number }
  /** The commune (or, for `air` decisions, the server) puts it on air as `broadcastId`. */
  | { type: 'schedule'; at: number; broadcastId: string };

export type OfferTransition = { ok: true; state: OfferState } | { ok: false; error: string };

export function initialOfferState(offer: Offer): OfferState {
  const s: OfferState = { offerId: offer.id, priority: offer.priority, status: 'pending', since: offer.offeredAt };
  if (offer.expiresAt !== undefined) s.expiresAt = offer.expiresAt;
  return s;
}

export function isOfferDue(state: OfferState, now: number): boolean {
  return state.expiresAt !== undefined && now >= state.expiresAt;
}

/**
 * pending ─accept→ accepted ─schedule→ scheduled
 * pending ─schedule→ scheduled        (priority / emergency only: they air without acceptance)
 * pending | accepted ─decline→ declined (normal only: Circular 39 gives no refusal of the others)
 * pending | accepted ─expire→ expired   (only once expiresAt has passed; nothing else is possible then)
 * declined, expired and scheduled are final.
 */
export function transitionOffer(state: OfferState, event: OfferEvent): OfferTransition {
  const fail = (error: string): OfferTransition => ({ ok: false, error });
  if (TERMINAL_OFFER_STATUSES.includes(state.status)) return fail(`offer is already ${state.status}`);
  const due = isOfferDue(state, event.at);
  const to = (status: OfferStatus, extra: Partial<OfferState> = {}): OfferTransition =>
    ({ ok: true, state: { ...state, status, since: event.at, ...extra } });
  switch (event.type) {
    case 'expire':
      return due ? to('expired', { reason: 'Hết hạn mà xã chưa xếp lịch' }) : fail('offer has not reached its expiry');
    case 'accept':
      if (due) return fail('offer has expired');
      if (state.status !== 'pending') return fail(`cannot accept an offer that is ${state.status}`);
      return to('accepted');
    case 'decline':
      if (due) return fail('offer has expired');
      if (!mayBeDeclined(state.priority)) return fail(`a ${state.priority} offer cannot be declined (Circular 39)`);
      return to('declined', { reason: event.reason });
    case 'schedule':
      if (due) return fail('offer has expired');
      if (state.status === 'pending' && needsAcceptance(state.priority)) return fail('a normal offer must be accepted before it is scheduled');
      return to('scheduled', { broadcastId: event.broadcastId });
  }
}
