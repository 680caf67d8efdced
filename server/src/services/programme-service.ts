/**
 * Programmes (issue 15): an ordered list of items saved as a bulletin of source 'programme', with a version.
 * A save checks every item against the caller (what it may read and relay), makes each item's file (a
 * bulletin's own audio, the bell, music mixed under speech) and stores version N+1; boxes holding an airing
 * of the programme get their agenda again, so they play the new version.
 *
 * The edit rule keeps approval meaningful: a programme with approved broadcasts still to air is edited only by
 * users who could have broadcast it without approval; anyone else would change what an approver approved.
 */
import type { Logger } from 'pino';
import type { ProgrammeItemParsed } from '@loaxa/shared';
import { ApiError, badRequest, conflict, forbidden } from '../http/errors.js';
import { ErrorCode } from '@loaxa/shared';
import { MAX_AUDIO_MS } from '../audio/pipeline.js';
import type { Principal } from '../auth/scope.js';
import type { ObjectScope } from '../auth/objects.js';
import type { MediaStore } from '../audio/index.js';
import type { Bulletin, BulletinRepository } from '../repos/bulletins.js';
import type { Broadcast, BroadcastRepository, BroadcastTarget } from '../repos/broadcasts.js';
import type { SourceRepository } from '../repos/sources.js';
import type { NewVersion, ProgrammeRepository, RenderedItem } from '../repos/programmes.js';
import { expandOccurrences } from '../scheduling/recurrence.js';
import { scheduleOf } from './scheduler.js';
import { newId } from '../ids.js';
import { bellAudio, musicUnderSpeechAudio, previewLengthMs, previewMp3, PREVIEW_MAX_MS, PreviewTooLongError, type PreviewPart } from './programme-audio.js';

const YEAR_MS = 366 * 86_400_000;
/** Music mixed under speech in one save, at most (issue 15 review: 100 half-hour mixes in one request). */
const MAX_MIXING_MS = 60 * 60_000;
const tooMany = (message: string) => new ApiError(429, ErrorCode.RATE_LIMITED, message);
const BELL_TITLES = { intro: 'Chuông mở đầu', outro: 'Chuông kết thúc' } as const;

export interface ProgrammeServiceDeps {
  bulletins: BulletinRepository;
  programmes: ProgrammeRepository;
  broadcasts: BroadcastRepository;
  sources: SourceRepository;
  objects: ObjectScope;
  media: MediaStore;
  /** Throws unless the user could have made a broadcast to `target` airing these sources (BroadcastService.checkAiringEdit). */
  checkAiring: (user: Principal, target: BroadcastTarget, relaySourceIds: readonly string[]) => void;
  /** Whether the user would need approval to broadcast (BroadcastService.needsApproval). */
  needsApproval: (user: Principal) => boolean;
  /** Boxes whose agendas may have changed, then send the changed ones (AgendaService). */
  resync: (deviceIds: string[]) => Promise<unknown>;
  logger: Logger;
}

export class ProgrammeService {
  private readonly log: Logger;

  constructor(private readonly deps: ProgrammeServiceDeps) {
    this.log = deps.logger.child({ module: 'programmes' });
  }

  /** A new programme at version 1, in the caller's area (bulletins belong to their author's area). */
  async create(user: Principal, draft: { title: string; category?: string | undefined; items: ProgrammeItemParsed[] }): Promise<string> {
    const version = await this.render(user, draft.items);
    const id = newId('bt');
    this.deps.programmes.insert({ id, title: draft.title, category: draft.category ?? null, areaCode: user.areaCode }, version);
    this.log.info({ programmeId: id, items: draft.items.length, durationMs: version.durationMs, userId: user.id }, 'programme created');
    return id;
  }

  /** Version N+1 of a programme; the boxes with an airing of it still to come get it with their agenda. */
  async update(user: Principal, p: Bulletin, draft: { title: string; category?: string | undefined; items: ProgrammeItemParsed[] }): Promise<number> {
    if (p.createdBy !== user.id && (!this.deps.objects.holdsArea(user, p.areaCode) || user.role === 'viewer')) {
      throw forbidden(`programme ${p.id} belongs to area ${p.areaCode ?? 'of the whole installation'}; save a copy under a new title to change it`);
    }
    const ahead = this.airingsAhead(p);
    if (this.deps.needsApproval(user) && ahead.some((b) => b.status === 'approved')) {
      throw conflict(`programme ${p.id} has approved broadcasts still to air: ask an approver to edit it, or save a copy under a new title (POST /api/v1/programmes)`);
    }
    // Issue 15 review (1, 2): the edit airs on every pending broadcast's targets, so it is checked as if the
    // editor made each broadcast with the new items — before any audio is made.
    draft.items.forEach((item, i) => this.check(user, item, i));
    const relaySources = draft.items.flatMap((i) => (i.kind === 'relay' ? [i.sourceId] : []));
    for (const b of ahead) this.deps.checkAiring(user, b.target, relaySources);
    const rendered = await this.render(user, draft.items);
    const version = (p.programmeVersion ?? 0) + 1;
    if (!this.deps.programmes.addVersion(p.id, version, { title: draft.title, category: draft.category ?? null }, rendered)) {
      throw conflict(`programme ${p.id} was changed by someone else meanwhile; load it again and redo the edit`);
    }
    this.log.info({ programmeId: p.id, version, userId: user.id }, 'programme edited');
    await this.deps.resync(this.deps.programmes.devicesWithPending(p.id, Date.now()));
    return version;
  }

  /**
   * The whole programme as one MP3 to listen to before saving. Issue 15 review (6): its length is known from
   * the request before anything is decoded (an over-long one is refused at once), music is mixed in memory
   * (a preview stores nothing), and one user has one preview running at a time.
   */
  async preview(user: Principal, items: ProgrammeItemParsed[]): Promise<Buffer> {
    items.forEach((item, i) => this.check(user, item, i));
    if (this.previewing.has(user.id)) throw tooMany('your previous preview is still being made; wait for it, then listen again');
    this.previewing.add(user.id);
    try {
      const lengths = new Map<string, number>();
      const file = (b: Bulletin): PreviewPart => {
        lengths.set(b.audioSha256!, b.durationMs!);
        return { kind: 'file', sha256: b.audioSha256! };
      };
      const bulletin = (id: string) => this.deps.bulletins.get(id)!;
      const parts: PreviewPart[] = [];
      for (const item of items) {
        if (item.kind === 'bulletin') parts.push(file(bulletin(item.bulletinId)));
        else if (item.kind === 'chime' && item.bulletinId !== undefined) parts.push(file(bulletin(item.bulletinId)));
        else if (item.kind === 'chime') {
          const bell = await bellAudio(this.deps.media, item.bell!);
          lengths.set(bell.sha256, bell.durationMs);
          parts.push({ kind: 'file', sha256: bell.sha256 });
        } else if (item.kind === 'music') {
          const [music, speech] = [bulletin(item.musicBulletinId), bulletin(item.speechBulletinId)];
          lengths.set(speech.audioSha256!, speech.durationMs!);
          parts.push({ kind: 'mix', musicSha: music.audioSha256!, speechSha: speech.audioSha256!, o: item });
        } else if (item.kind === 'relay') parts.push({ kind: 'relay' });
        else parts.push({ kind: 'pause', ms: item.durationMs });
      }
      if (previewLengthMs(parts, (sha) => lengths.get(sha) ?? 0) > PREVIEW_MAX_MS) throw badRequest(`the preview would last over ${PREVIEW_MAX_MS / 60_000} minutes; listen to a shorter part`, [{ path: 'items', message: 'too long to preview' }]);
      return await previewMp3(this.deps.media, parts);
    } catch (err) {
      if (err instanceof PreviewTooLongError) throw badRequest(err.message, [{ path: 'items', message: 'too long to preview' }]);
      throw err;
    } finally {
      this.previewing.delete(user.id);
    }
  }

  /** Users with a preview being made (one each). */
  private readonly previewing = new Set<string>();

  /** Approved or submitted broadcasts of the programme with an occurrence not yet over: what an edit changes. */
  private airingsAhead(p: Bulletin): Broadcast[] {
    const now = Date.now();
    return this.deps.broadcasts.ofBulletin(p.id).filter((b) => {
      if (b.status !== 'approved' && b.status !== 'submitted') return false;
      const from = now - b.windowMs - (p.durationMs ?? 0);
      try {
        return expandOccurrences(scheduleOf(b), { from, to: now + YEAR_MS }, { exceptions: this.deps.broadcasts.exceptions(b.id) }).length > 0;
      } catch {
        return true; // a schedule too dense to expand still airs: locked, on the safe side
      }
    });
  }

  /** Checks every item against the caller and makes its file; the first bad item is a 400 naming it. */
  private async render(user: Principal, items: ProgrammeItemParsed[]): Promise<NewVersion> {
    // Every item is checked before any audio is made: a bad item 40 costs no mixing of items 1–39.
    items.forEach((item, i) => this.check(user, item, i));
    // Issue 15 review: a save mixes at most an hour of music under speech (a commune programme is 10–15 minutes).
    const mixing = items.reduce((n, item) => n + (item.kind === 'music' ? item.leadInMs + (this.deps.bulletins.get(item.speechBulletinId)?.durationMs ?? 0) + item.tailMs : 0), 0);
    if (mixing > MAX_MIXING_MS) throw badRequest(`the programme's music under speech would last ${Math.ceil(mixing / 60_000)} minutes in all; at most ${MAX_MIXING_MS / 60_000} in one programme`, [{ path: 'items', message: 'too much music to mix' }]);
    const rendered: RenderedItem[] = [];
    for (const [index, item] of items.entries()) rendered.push(await this.renderItem(item, index));
    const durationMs = rendered.reduce((n, r) => n + (r.durationMs ?? 0), 0);
    return {
      items,
      rendered,
      durationMs,
      openEnded: rendered.some((r) => r.durationMs === null),
      relaySourceId: rendered.find((r) => r.relay)?.relay?.sourceId ?? null,
      createdBy: user.id,
    };
  }

  private check(user: Principal, item: ProgrammeItemParsed, i: number): void {
    switch (item.kind) {
      case 'bulletin':
        this.audioBulletin(user, item.bulletinId, `items.${i}.bulletinId`);
        return;
      case 'chime':
        if (item.bulletinId !== undefined) this.audioBulletin(user, item.bulletinId, `items.${i}.bulletinId`);
        return;
      case 'music': {
        this.audioBulletin(user, item.musicBulletinId, `items.${i}.musicBulletinId`);
        const speech = this.audioBulletin(user, item.speechBulletinId, `items.${i}.speechBulletinId`);
        // Issue 15 review (5): the mix is one file, held to the 30 minutes any audio may last — said before
        // minutes of mixing, not after.
        const mixMs = item.leadInMs + speech.durationMs + item.tailMs;
        if (mixMs > MAX_AUDIO_MS) throw badRequest(`item ${i + 1}: music and speech would last ${Math.ceil(mixMs / 60_000)} minutes; one item may last at most ${MAX_AUDIO_MS / 60_000}`, [{ path: `items.${i}.speechBulletinId`, message: 'too long with the music' }]);
        return;
      }
      case 'relay': {
        const s = this.deps.sources.get(item.sourceId);
        // A source of another area is answered as unknown, as POST /api/v1/bulletins/relay does.
        if (!s || s.deletedAt !== null || !this.deps.objects.sourceUsable(user, s)) throw badRequest(`item ${i + 1}: unknown source ${item.sourceId}`, [{ path: `items.${i}.sourceId`, message: 'unknown source' }]);
        return;
      }
      case 'pause':
        return;
    }
  }

  /** A ready text or recorded bulletin the caller may read, with its audio (not a relay, not a programme). */
  private audioBulletin(user: Principal, id: string, path: string): Bulletin & { audioSha256: string; durationMs: number } {
    const item = Number(path.split('.')[1]) + 1;
    const b = this.deps.bulletins.get(id);
    // Another commune's bulletin is answered as unknown (issue 13, finding 9), as broadcasts do.
    if (!b || !this.deps.objects.bulletinVisible(user, b)) throw badRequest(`item ${item}: unknown bulletin ${id}`, [{ path, message: 'unknown bulletin' }]);
    if (b.source !== 'text' && b.source !== 'recording') throw badRequest(`item ${item}: bulletin ${id} is a ${b.source}; a programme item must be a text or recorded bulletin`, [{ path, message: `a ${b.source}, not audio` }]);
    if (b.status !== 'ready' || !b.audioSha256 || !b.durationMs) throw badRequest(`item ${item}: bulletin ${id} is ${b.status}; wait until it is ready`, [{ path, message: `not ready (${b.status})` }]);
    return b as Bulletin & { audioSha256: string; durationMs: number };
  }

  private async renderItem(item: ProgrammeItemParsed, index: number): Promise<RenderedItem> {
    const { bulletins, media, sources } = this.deps;
    const file = (sha256: string, durationMs: number, bytes: number | null) => ({ sha256, durationMs, bytes });
    switch (item.kind) {
      case 'bulletin':
      case 'chime': {
        if (item.kind === 'chime' && item.bell) {
          const bell = await bellAudio(media, item.bell);
          return { index, kind: item.kind, title: BELL_TITLES[item.bell], durationMs: bell.durationMs, media: file(bell.sha256, bell.durationMs, bell.bytes) };
        }
        const b = bulletins.get(item.bulletinId!)!;
        return { index, kind: item.kind, title: b.title, durationMs: b.durationMs!, media: file(b.audioSha256!, b.durationMs!, b.audioBytes) };
      }
      case 'music': {
        const music = bulletins.get(item.musicBulletinId)!;
        const speech = bulletins.get(item.speechBulletinId)!;
        const mixed = await musicUnderSpeechAudio(media, music.audioSha256!, speech.audioSha256!, item);
        return { index, kind: 'music', title: `${speech.title} (nhạc nền: ${music.title})`, durationMs: mixed.durationMs, media: file(mixed.sha256, mixed.durationMs, mixed.bytes) };
      }
      case 'relay': {
        const s = sources.get(item.sourceId)!;
        const relay = item.until !== undefined ? { sourceId: s.id, until: item.until } : { sourceId: s.id, durationMs: item.durationMs! };
        return { index, kind: 'relay', title: item.until !== undefined ? `${s.name} (đến ${item.until})` : s.name, durationMs: item.durationMs ?? null, relay };
      }
      case 'pause':
        return { index, kind: 'pause', title: `Nghỉ ${Math.round(item.durationMs / 100) / 10} giây`, durationMs: item.durationMs, pauseMs: item.durationMs };
    }
  }
}
