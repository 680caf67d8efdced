/**
 * The server's refusals of a programme (save or preview, issue 15), on the item and field they name
 * (`items.2.bulletinId`), in Vietnamese: the route's and the service's English messages
 * (server/src/services/programme-service.ts) are recognised, anything else is shown as it came, never dropped.
 * Pure, unit-tested in test/web/programmes.test.ts.
 */
import { MUSIC_DUCK_MAX_DB, MUSIC_DUCK_MIN_DB, MUSIC_LEAD_MAX_MS, PROGRAMME_MAX_ITEMS } from '@loaxa/shared/api';
import type { ProgrammeItemKind } from '../api/types.js';
import { t } from '../i18n/vi.js';
import type { ItemDraft, ItemError, ItemField } from './programmes.js';

const FIELD_OF: Record<string, ItemField> = {
  bulletinId: 'bulletinId',
  bell: 'bulletinId',
  musicBulletinId: 'musicBulletinId',
  speechBulletinId: 'speechBulletinId',
  duckDb: 'duckDb',
  leadInMs: 'leadInMs',
  tailMs: 'tailMs',
  sourceId: 'sourceId',
  durationMs: 'durationMs',
  until: 'until',
};

/** One server message (English) about one field of an item, in the official's words. */
function fieldMessage(field: ItemField, kind: ProgrammeItemKind | undefined, message: string): string {
  const e = t.programmes.errors;
  const m = message.toLowerCase();
  if (field === 'sourceId') return /unknown|not found|deleted|outside|usable/.test(m) ? e.unknownSource : `${e.badSource} (${message})`;
  if (field === 'bulletinId' || field === 'musicBulletinId' || field === 'speechBulletinId') {
    if (/unknown|not found|no such/.test(m)) return e.unknownBulletin;
    if (/\bprogramme\b/.test(m)) return e.isProgramme;
    if (/\brelay\b/.test(m)) return e.isRelay;
    if (/not ready|must be ready|synthesi|failed|no audio/.test(m)) return e.notReady;
    if (/recording/.test(m)) return e.notRecording;
    if (/one of the two/.test(m)) return e.needRecording;
    return `${e.badBulletin} (${message})`;
  }
  if (field === 'durationMs') return kind === 'pause' ? e.pause : e.relayMinutes;
  if (field === 'until') return e.until;
  if (field === 'duckDb') return e.duck(MUSIC_DUCK_MIN_DB, MUSIC_DUCK_MAX_DB);
  if (field === 'leadInMs' || field === 'tailMs') return e.lead(MUSIC_LEAD_MAX_MS / 1000);
  return `${e.other} (${message})`;
}

/**
 * `{status, message, fields}` of an ApiFailure for a save or a preview → messages per item and field. Paths
 * name the item as sent, which is the item as shown (the form sends every item, in order). Anything not
 * recognised is reported on the programme as a whole, never dropped.
 */
export function programmeErrors(failure: { status: number; message: string; fields: readonly { path: string; message: string }[] }, items: readonly Pick<ItemDraft, 'kind'>[]): ItemError[] {
  const e = t.programmes.errors;
  const out: ItemError[] = [];
  const push = (x: ItemError) => {
    if (!out.some((o) => o.index === x.index && o.field === x.field && o.message === x.message)) out.push(x);
  };
  // Two refusals share 409: broadcasts approved and still to air (an approver may edit; anyone may save a
  // copy), and an edit that crossed someone else's (load it again).
  if (failure.status === 409) return [{ index: null, field: 'items', message: /approved/i.test(failure.message) ? e.approvedFuture : e.changedMeanwhile }];
  if (failure.status === 403) return [{ index: null, field: 'items', message: e.forbidden }];
  if (failure.status !== 400) return out;
  for (const f of failure.fields) {
    const item = /^items\.(\d+)(?:\.(\w+))?/.exec(f.path);
    if (item) {
      const index = Number(item[1]);
      const field = item[2] ? (FIELD_OF[item[2]] ?? 'item') : 'item';
      push({ index, field, message: fieldMessage(field, items[index]?.kind, f.message) });
    } else if (f.path === 'title') push({ index: null, field: 'title', message: e.needTitle });
    else if (f.path === 'items') push({ index: null, field: 'items', message: /too long/i.test(f.message) ? e.previewTooLong : /at most/i.test(f.message) ? e.tooMany(PROGRAMME_MAX_ITEMS) : e.noItems });
    else push({ index: null, field: 'items', message: `${e.other} (${f.path}: ${f.message})` });
  }
  if (!out.length) push({ index: null, field: 'items', message: `${e.other} (${failure.message})` });
  return out;
}

/** The errors of one item, or of the programme as a whole (`index` null). */
export function errorsOf(errors: readonly ItemError[], index: number | null): ItemError[] {
  return errors.filter((x) => x.index === index);
}
