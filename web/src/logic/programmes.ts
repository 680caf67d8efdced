/**
 * Programmes in the web app (issue 15 § Programmes): the builder's items as the official fills them, their
 * order, what is sent (`programmeDraftSchema` of shared/src/api/programmes.ts), the total length shown while
 * building and what the preview will last (the server's refusals: programme-errors.ts; airings:
 * programme-runs.ts). Pure, so every rule is unit-tested without a browser (test/web/programmes.test.ts).
 * Just over 300 lines: one item kind's rules next to the others'.
 */
import {
  MUSIC_DUCK_DEFAULT_DB,
  MUSIC_DUCK_MAX_DB,
  MUSIC_DUCK_MIN_DB,
  MUSIC_LEAD_DEFAULT_MS,
  MUSIC_LEAD_MAX_MS,
  PROGRAMME_MAX_ITEMS,
  PROGRAMME_PAUSE_MAX_MS,
  PROGRAMME_PAUSE_MIN_MS,
  RELAY_MAX_DURATION_MS,
  RELAY_MIN_DURATION_MS,
} from '@loaxa/shared/api';
import type { ProgrammeItem, ProgrammeItemInput, ProgrammeItemKind } from '../api/types.js';
import { t } from '../i18n/vi.js';

export { PROGRAMME_MAX_ITEMS };

/**
 * The built-in bell's length (server/src/audio/chime.ts: three 1.6 s notes 0.42 s apart = 2.44 s). Only for
 * the total shown while building; a saved version's lengths come from the server.
 */
export const BELL_MS = 2_440;
/**
 * What the preview airs instead of a relay segment (two beeps, server/src/services/programme-audio.ts
 * RELAY_MARKER_MS) and the longest pause it keeps.
 */
export const PREVIEW_MARKER_MS = 1_500;
export const PREVIEW_PAUSE_MAX_MS = 10_000;

export type ChimeChoice = 'intro' | 'outro' | 'recording';
export type RelayMode = 'minutes' | 'until';

/**
 * One item as typed. Flat (every kind's fields on every item) so switching an item's kind keeps what was
 * typed, and numbers stay text until sent, as the user typed them (a Vietnamese decimal comma included).
 */
export interface ItemDraft {
  /** Stable across reordering, for the list's keys and focus. */
  key: string;
  kind: ProgrammeItemKind;
  /** bulletin; chime when `chime` is 'recording'. */
  bulletinId: string;
  chime: ChimeChoice;
  musicBulletinId: string;
  speechBulletinId: string;
  duckDb: string;
  leadInSeconds: string;
  tailSeconds: string;
  sourceId: string;
  relayMode: RelayMode;
  minutes: string;
  /** HH:MM, Vietnam time. */
  until: string;
  pauseSeconds: string;
}

let counter = 0;
function nextKey(): string {
  counter += 1;
  return `it-${counter}`;
}

const secondsText = (ms: number) => String(ms / 1000).replace('.', ',');

export function newItem(kind: ProgrammeItemKind): ItemDraft {
  return {
    key: nextKey(),
    kind,
    bulletinId: '',
    chime: 'intro',
    musicBulletinId: '',
    speechBulletinId: '',
    duckDb: String(MUSIC_DUCK_DEFAULT_DB),
    leadInSeconds: secondsText(MUSIC_LEAD_DEFAULT_MS),
    tailSeconds: secondsText(MUSIC_LEAD_DEFAULT_MS),
    sourceId: '',
    relayMode: 'minutes',
    minutes: '30',
    until: '',
    pauseSeconds: '3',
  };
}

/** A stored item (a saved version) back into the form, to edit it. */
export function itemFromInput(input: ProgrammeItemInput): ItemDraft {
  const d = newItem(input.kind);
  switch (input.kind) {
    case 'bulletin':
      return { ...d, bulletinId: input.bulletinId };
    case 'chime':
      return input.bell ? { ...d, chime: input.bell } : { ...d, chime: 'recording', bulletinId: input.bulletinId ?? '' };
    case 'music':
      return {
        ...d,
        musicBulletinId: input.musicBulletinId,
        speechBulletinId: input.speechBulletinId,
        duckDb: String(input.duckDb ?? MUSIC_DUCK_DEFAULT_DB).replace('.', ','),
        leadInSeconds: secondsText(input.leadInMs ?? MUSIC_LEAD_DEFAULT_MS),
        tailSeconds: secondsText(input.tailMs ?? MUSIC_LEAD_DEFAULT_MS),
      };
    case 'relay':
      return input.until ? { ...d, sourceId: input.sourceId, relayMode: 'until', until: input.until } : { ...d, sourceId: input.sourceId, relayMode: 'minutes', minutes: secondsText((input.durationMs ?? 0) / 60) };
    case 'pause':
      return { ...d, pauseSeconds: secondsText(input.durationMs) };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Order: buttons that work with a thumb on a phone, and a drag on a desktop (both end in `moveItem`).

/** Item `from` moved to position `to` (the others shift); out-of-range moves change nothing. */
export function moveItem<T>(items: readonly T[], from: number, to: number): T[] {
  const out = items.slice();
  if (from < 0 || from >= items.length || to < 0 || to >= items.length || from === to) return out;
  const [moved] = out.splice(from, 1);
  out.splice(to, 0, moved!);
  return out;
}

export function removeItem<T>(items: readonly T[], i: number): T[] {
  return items.filter((_, k) => k !== i);
}

/** A new item at the end, up to the server's limit of 100. */
export function addItem(items: readonly ItemDraft[], kind: ProgrammeItemKind): ItemDraft[] {
  return items.length >= PROGRAMME_MAX_ITEMS ? items.slice() : [...items, newItem(kind)];
}

export function updateItem(items: readonly ItemDraft[], i: number, patch: Partial<Omit<ItemDraft, 'key'>>): ItemDraft[] {
  return items.map((it, k) => (k === i ? { ...it, ...patch } : it));
}

// ---------------------------------------------------------------------------------------------------------
// What is sent, and what the form refuses before sending (the server judges again: it knows the bulletins).

export type ItemField = 'bulletinId' | 'musicBulletinId' | 'speechBulletinId' | 'duckDb' | 'leadInMs' | 'tailMs' | 'sourceId' | 'durationMs' | 'until' | 'item';
export interface ItemError {
  /** The item's position, or null for the programme as a whole (title, number of items). */
  index: number | null;
  field: ItemField | 'title' | 'items';
  message: string;
}

/** "3", "2,5", " 1.5 " → a number; anything else → NaN. */
export function parseNumber(v: string): number {
  const s = v.trim().replace(',', '.');
  return /^\d+(\.\d+)?$/.test(s) ? Number(s) : NaN;
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

/** One item as the server wants it, or the form's own reasons to refuse it (in Vietnamese). */
export function itemToInput(d: ItemDraft, index: number): { ok: true; input: ProgrammeItemInput } | { ok: false; errors: ItemError[] } {
  const e = t.programmes.errors;
  const errors: ItemError[] = [];
  const fail = (field: ItemField, message: string) => errors.push({ index, field, message });
  let input: ProgrammeItemInput | null = null;
  switch (d.kind) {
    case 'bulletin':
      if (!d.bulletinId) fail('bulletinId', e.needBulletin);
      input = { kind: 'bulletin', bulletinId: d.bulletinId };
      break;
    case 'chime':
      if (d.chime === 'recording') {
        if (!d.bulletinId) fail('bulletinId', e.needRecording);
        input = { kind: 'chime', bulletinId: d.bulletinId };
      } else input = { kind: 'chime', bell: d.chime };
      break;
    case 'music': {
      if (!d.musicBulletinId) fail('musicBulletinId', e.needMusic);
      if (!d.speechBulletinId) fail('speechBulletinId', e.needSpeech);
      const duck = parseNumber(d.duckDb);
      if (!(duck >= MUSIC_DUCK_MIN_DB && duck <= MUSIC_DUCK_MAX_DB)) fail('duckDb', e.duck(MUSIC_DUCK_MIN_DB, MUSIC_DUCK_MAX_DB));
      const lead = Math.round(parseNumber(d.leadInSeconds) * 1000);
      const tail = Math.round(parseNumber(d.tailSeconds) * 1000);
      if (!(lead >= 0 && lead <= MUSIC_LEAD_MAX_MS)) fail('leadInMs', e.lead(MUSIC_LEAD_MAX_MS / 1000));
      if (!(tail >= 0 && tail <= MUSIC_LEAD_MAX_MS)) fail('tailMs', e.lead(MUSIC_LEAD_MAX_MS / 1000));
      input = { kind: 'music', musicBulletinId: d.musicBulletinId, speechBulletinId: d.speechBulletinId, duckDb: duck, leadInMs: lead, tailMs: tail };
      break;
    }
    case 'relay':
      if (!d.sourceId) fail('sourceId', e.needSource);
      if (d.relayMode === 'until') {
        if (!HHMM.test(d.until.trim())) fail('until', e.until);
        input = { kind: 'relay', sourceId: d.sourceId, until: d.until.trim() };
      } else {
        const ms = Math.round(parseNumber(d.minutes) * 60) * 1000;
        if (!(ms >= RELAY_MIN_DURATION_MS && ms <= RELAY_MAX_DURATION_MS)) fail('durationMs', e.relayMinutes);
        input = { kind: 'relay', sourceId: d.sourceId, durationMs: ms };
      }
      break;
    case 'pause': {
      const ms = Math.round(parseNumber(d.pauseSeconds) * 1000);
      if (!(ms >= PROGRAMME_PAUSE_MIN_MS && ms <= PROGRAMME_PAUSE_MAX_MS)) fail('durationMs', e.pause);
      input = { kind: 'pause', durationMs: ms };
      break;
    }
  }
  return errors.length ? { ok: false, errors } : { ok: true, input };
}

export type DraftCheck = { ok: true; items: ProgrammeItemInput[] } | { ok: false; errors: ItemError[] };

/** The whole programme: a title (for a save; the preview needs none), 1 to 100 items, each valid. */
export function checkDraft(title: string | null, items: readonly ItemDraft[]): DraftCheck {
  const errors: ItemError[] = [];
  if (title !== null && !title.trim()) errors.push({ index: null, field: 'title', message: t.programmes.errors.needTitle });
  if (!items.length) errors.push({ index: null, field: 'items', message: t.programmes.errors.noItems });
  if (items.length > PROGRAMME_MAX_ITEMS) errors.push({ index: null, field: 'items', message: t.programmes.errors.tooMany(PROGRAMME_MAX_ITEMS) });
  const out: ProgrammeItemInput[] = [];
  items.forEach((d, i) => {
    const r = itemToInput(d, i);
    if (r.ok) out.push(r.input);
    else errors.push(...r.errors);
  });
  return errors.length ? { ok: false, errors } : { ok: true, items: out };
}

// ---------------------------------------------------------------------------------------------------------
// Lengths: the total while building, "until 18:30" for open-ended relay segments, what the preview lasts.

/** Known lengths of bulletins by id (the picker's list); a bulletin not in it has an unknown length. */
export type Lengths = ReadonlyMap<string, number>;

/** An item's length in ms; `until` for a relay that runs to a time of day; null when not known (yet). */
export function itemLengthMs(d: ItemDraft, lengths: Lengths): number | { until: string } | null {
  const len = (id: string) => (id ? (lengths.get(id) ?? null) : null);
  switch (d.kind) {
    case 'bulletin':
      return len(d.bulletinId);
    case 'chime':
      return d.chime === 'recording' ? len(d.bulletinId) : BELL_MS;
    case 'music': {
      // The music alone, the speech over it (lowered), the music alone again (server mixes one file so).
      const speech = len(d.speechBulletinId);
      const lead = Math.round(parseNumber(d.leadInSeconds) * 1000);
      const tail = Math.round(parseNumber(d.tailSeconds) * 1000);
      return speech === null || Number.isNaN(lead) || Number.isNaN(tail) ? null : lead + speech + tail;
    }
    case 'relay': {
      if (d.relayMode === 'until') return HHMM.test(d.until.trim()) ? { until: d.until.trim() } : null;
      const ms = Math.round(parseNumber(d.minutes) * 60) * 1000;
      return Number.isNaN(ms) ? null : ms;
    }
    case 'pause': {
      const ms = Math.round(parseNumber(d.pauseSeconds) * 1000);
      return Number.isNaN(ms) ? null : ms;
    }
  }
}

export interface Total {
  /** The items that have a length, summed. */
  knownMs: number;
  /** Items whose length is not known yet (no bulletin chosen, a number mistyped). */
  unknown: number;
  /** The last relay segment that runs until a time of day (the programme ends then at the earliest). */
  until: string | null;
}

export function totalLength(items: readonly ItemDraft[], lengths: Lengths): Total {
  let knownMs = 0;
  let unknown = 0;
  let until: string | null = null;
  for (const d of items) {
    const l = itemLengthMs(d, lengths);
    if (l === null) unknown += 1;
    else if (typeof l === 'number') knownMs += l;
    else until = l.until;
  }
  return { knownMs, unknown, until };
}

/**
 * How long the preview will play: relay segments become a short marker and pauses are cut to 10 s
 * (POST /api/v1/programmes/preview), so the player's length can be checked against it.
 */
export function previewLengthMs(items: readonly ItemDraft[], lengths: Lengths): number | null {
  let ms = 0;
  for (const d of items) {
    if (d.kind === 'relay') {
      ms += PREVIEW_MARKER_MS;
      continue;
    }
    const l = itemLengthMs(d, lengths);
    if (typeof l !== 'number') return null;
    ms += d.kind === 'pause' ? Math.min(l, PREVIEW_PAUSE_MAX_MS) : l;
  }
  return ms;
}

/** A saved version's total as the server computed it: "12 phút 30 giây", "+ tiếp sóng đến 18:30". */
export function savedLength(p: { durationMs: number; openEnded: boolean; items?: readonly Pick<ProgrammeItem, 'input'>[] }): { ms: number; until: string | null; openEnded: boolean } {
  const last = p.items
    ?.map((i) => i.input)
    .filter((i): i is Extract<ProgrammeItemInput, { kind: 'relay' }> => i.kind === 'relay' && !!i.until)
    .at(-1);
  return { ms: p.durationMs, until: last?.until ?? null, openEnded: p.openEnded };
}
