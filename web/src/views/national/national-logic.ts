/**
 * What the national link page says in words (issue 17): the upstream link's state, an outbox message, the
 * province's answer (MoTa) out of the body it sent, ages, and whether a child's last report is stale.
 */
import { ApiFailure } from '../../api/client.js';
import type { NationalLinkStatus, NationalOutboxItem, NationalPeer } from '../../api/types.js';
import { errorMessage } from '../../app/errors.js';
import { t } from '../../i18n/vi.js';
import { fmtDateTime } from '../../logic/format.js';

const s = t.national;

/** A child's boxes are online when heard within 15 minutes (ARCHITECTURE.md § Coverage): so is its report. */
export const STALE_MS = 15 * 60_000;

export type LinkTone = 'ok' | 'off' | 'wait' | 'bad';

/** The link's state: a short word, its tone, and the sentences that explain it. */
export function linkState(l: NationalLinkStatus): { tone: LinkTone; label: string; lines: string[] } {
  if (!l.configured) return { tone: 'off', label: s.up.notConfigured, lines: [s.up.notConfiguredHint] };
  const failing = l.lastErrorAt !== null && (l.lastSuccessAt === null || Date.parse(l.lastErrorAt) > Date.parse(l.lastSuccessAt));
  if (failing) {
    const lines = [l.lastSuccessAt ? s.up.failingSince(fmtDateTime(l.lastSuccessAt)) : s.up.neverOk, s.up.lastError(fmtDateTime(l.lastErrorAt), l.lastError ?? '—')];
    if (l.nextAttemptAt) lines.push(s.up.nextAttempt(fmtDateTime(l.nextAttemptAt)));
    return { tone: 'bad', label: s.up.failing, lines };
  }
  if (l.lastSuccessAt) return { tone: 'ok', label: s.up.connected, lines: [s.up.connectedSince(fmtDateTime(l.lastSuccessAt))] };
  return { tone: 'wait', label: s.up.waiting, lines: [s.up.waitingHint] };
}

/** 75 → "1 phút" … "2 ngày 3 giờ". */
export function fmtAge(seconds: number): string {
  const sec = Math.max(0, Math.round(seconds));
  if (sec < 60) return s.ageSeconds(sec);
  const min = Math.floor(sec / 60);
  if (min < 60) return s.ageMinutes(min);
  const h = Math.floor(min / 60);
  if (h < 24) return s.ageHours(h, min % 60);
  return s.ageDays(Math.floor(h / 24), h % 24);
}

/** An outbox message in words; `titles` names bulletins that came down by their upstream id. */
export function describeEvent(e: NationalOutboxItem['event'], titles: ReadonlyMap<string, string>): string {
  switch (e.kind) {
    case 'box-status':
      return s.events.boxStatus(e.box.name || e.box.nationalId, s.events.operating[e.operating] ?? e.operating);
    case 'airing-start':
      return s.events.airingStart(e.bulletin.title, e.box.name || e.box.nationalId) + (e.relay ? ` (${s.events.relay})` : '');
    case 'airing-end':
      return s.events.airingEnd(e.bulletin.title, e.box.name || e.box.nationalId, e.ok) + (e.reason ? ` — ${e.reason}` : '');
    case 'schedule-ack':
      return s.events.ack(titles.get(e.bulletinId) ?? e.bulletinId, e.accepted, s.events.ackDetails[e.detail] ?? e.detail);
  }
}

/** The MoTa (or Description/Message) of a province's answer as received; the text itself when it is not JSON. */
export function answerText(answer: string | null): string | null {
  if (!answer) return null;
  try {
    const body = JSON.parse(answer) as unknown;
    if (body && typeof body === 'object') {
      for (const [k, v] of Object.entries(body)) if (/^(mota|description|message)$/i.test(k) && typeof v === 'string' && v.trim()) return v;
    }
  } catch {
    /* not JSON: shown as it came */
  }
  return answer;
}

/** Whether a child's last report is older than 15 minutes (or never came). */
export function isStale(lastReportAt: string | null, now = Date.now()): boolean {
  return lastReportAt === null || now - Date.parse(lastReportAt) > STALE_MS;
}

/** Working coverage in percent, or null without communes that have boxes. */
export function coveragePct(covered: number, withBoxes: number): number | null {
  return withBoxes > 0 ? (covered / withBoxes) * 100 : null;
}

/**
 * The server's refusals on these routes are written in Vietnamese (an unknown area, a user name taken, a child
 * without an address): shown as they are; anything else as usual.
 */
export function nationalError(err: unknown): string {
  if (err instanceof ApiFailure) {
    if (err.status === 403) return s.forbidden;
    if ((err.status === 400 || err.status === 409) && /[^ -~]/.test(err.message)) return err.status === 400 ? `${t.errors.invalid} ${err.message}` : err.message;
  }
  return errorMessage(err);
}

/** The peers of the page, and how its panels name a peer and an area (NationalView gives it to each panel). */
export interface PeerLookup {
  peers: NationalPeer[];
  nameOf: (id: string | null) => string;
  areaName: (code: string) => string;
}
