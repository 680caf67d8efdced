/**
 * Disaster warnings (issue 18), from a CAP 1.2 message to the commune's speakers. What a message becomes:
 * - read with the hardened reader (cap-read.ts; a refusal names the element), its signature checked when the
 *   source requires one (CAP 1.2 §3.3.4.1, signature.ts);
 * - a message already taken (same sender, identifier and sent: §3.2.1 makes them unique) is ignored;
 * - msgType (§3.2.1): an Alert starts a warning; an Update replaces what its referenced warning airs (a new
 *   bulletin and broadcast, the old broadcast cancelled everywhere, version + 1); a Cancel stops it (boxes
 *   playing it stop); an Ack or Error is recorded and airs nothing. An Update whose reference we do not know
 *   is taken as a new Alert (the original may have been missed); a Cancel of an unknown one is recorded only;
 * - status: only the source policy's `airStatuses` air; a Test, System or Draft is held (recorded, never aired);
 * - areas (geo.ts): geocodes, names and polygons/circles against the boxes' coordinates, kept inside the
 *   source's areas — anything outside is listed as unmatched; nothing reached: state `unmatched`;
 * - the source's policy (shared contract warningPolicySchema): at once as an emergency (Circular 39: it
 *   interrupts everything) by the source's system actor, or waiting for a person (approve/reject), or
 *   only recorded. A message without Vietnamese info always waits: nobody has read what would be announced;
 * - the announcement: the Decision 18/2021/QĐ-TTg template of its kind (announcement.ts) when the kind is
 *   known, else the headline, description and instruction; synthesized as a text bulletin and aired again
 *   every `repeatMinutes` until it expires (schedule kind `every`; the boxes hold the repeats in their
 *   agendas and air them offline).
 * The province's form goes the same way: it is written as a CAP Alert (cap-author.ts) and ingested with the
 * person as the one who decided. Over 300 lines because every path of a CAP message is read here in one place.
 */
import type { Logger } from 'pino';
import {
  CAP_EVENT_CODE_KIND,
  CAP_PARAMETER_RISK_LEVEL,
  DISASTER_KIND_IDS,
  DEFAULT_WARNING_POLICY,
  capDateTimeToMs,
  capReferenceOf,
  disasterKindOf,
  parseRiskLevel,
  type CapAlert,
  type CapInfo,
  type DisasterKindId,
  type RiskLevel,
  type WarningPolicy,
  type WarningState,
} from '@loaxa/shared';
import { ApiError, badRequest, conflict, forbidden, notFound } from '../http/errors.js';
import { ErrorCode } from '@loaxa/shared';
import { canApprove, coversArea, type Principal } from '../auth/scope.js';
import { generatePassword, hashPassword } from '../auth/passwords.js';
import { newId } from '../ids.js';
import type { AreaRepository } from '../repos/areas.js';
import type { BroadcastRepository, BroadcastTarget } from '../repos/broadcasts.js';
import type { BulletinRepository } from '../repos/bulletins.js';
import type { DeviceRepository } from '../repos/devices.js';
import type { UserRepository } from '../repos/users.js';
import type { WarningRecord, WarningRepository } from '../repos/warnings.js';
import type { WarningSourceRecord } from '../repos/warning-sources.js';
import type { BroadcastService } from '../services/broadcast-service.js';
import type { BulletinService } from '../services/bulletin-service.js';
import type { SpeechService } from '../services/speech.js';
import { readingNotChecked, readingSpansOf, type ReadingSpan } from '../services/reading-check.js';
import { readCap } from './cap-read.js';
import { writeCap } from './cap-write.js';
import { matchAreas, DEFAULT_GEOCODE_VALUE_NAMES, type AreaEntry, type BoxEntry } from './geo.js';
import { buildAnnouncement, readableAgencyText } from './announcement.js';
import { verifyCapSignature } from './signature.js';
import { cancelAlert, formAlert } from './cap-author.js';

const HOUR_MS = 3600_000;
/** An `every` schedule spans at most 31 days (shared/src/api/schedule.ts EVERY_MAX_SPAN_MS). */
const EVERY_MAX_SPAN_MS = 31 * 24 * HOUR_MS;
/**
 * At most this many airings of one version in its `every` schedule: a repeat of a minute over a warning of a
 * month would be 44,640 airings, past the occurrence cap (POST /broadcasts refuses it). The repeat is
 * lengthened so the warning still airs until it expires.
 */
const MAX_REPEATS = 2_000;
/** The CAP reader's document limit: what we keep of each message is bounded by it. */
export const CAP_MAX_BYTES = 1024 * 1024;

export type WarningDecision = 'air-now' | 'wait' | 'hold' | 'ignore' | 'expired' | 'unmatched';

/** What a message would become, before anything is written (the preview, and the first step of ingesting). */
export interface WarningAnalysis {
  info: CapInfo | null;
  vietnamese: boolean;
  kind: DisasterKindId | null;
  riskLevel: RiskLevel | null;
  expiresAt: number | null;
  communes: { code: string; name: string }[];
  target: BroadcastTarget;
  boxes: number;
  boxesWithoutCoordinates: number;
  unmatched: { what: string; value: string }[];
  announcement: string;
  decision: WarningDecision;
  reason: string | null;
}

export interface IngestOutcome {
  accepted: boolean;
  warningId: string | null;
  state: WarningState | null;
  message: string;
  /** Resolves when what the message set going (synthesis, airing) has settled. */
  settled: Promise<void>;
}

export interface WarningServiceDeps {
  capSender: string;
  ttsVoice: string;
  areas: AreaRepository;
  devices: DeviceRepository;
  users: UserRepository;
  bulletins: BulletinRepository;
  broadcasts: BroadcastRepository;
  broadcastService: BroadcastService;
  bulletinService: BulletinService;
  speech: Pick<SpeechService, 'normalize'>;
  warnings: WarningRepository;
  /** The media base URL boxes fetch audio from, when no request gives one (a feed poll). */
  mediaBase: () => string;
  logger: Logger;
  now?: () => number;
}

export interface IngestOptions {
  /** The person who decided (the form's author): airs as them, at `priority`. */
  decider?: Principal;
  priority?: 'emergency' | 'priority';
  repeatMinutes?: number;
  attention?: boolean;
  mediaBase?: string;
  /** The announcement as edited on the form, in place of the generated one. */
  announcement?: string;
}

/** The form's source: the province's own warnings (no source row). */
export const FORM = 'form' as const;
export type IngestSource = WarningSourceRecord | typeof FORM;

/** The id of a source's system actor (its users row): the source's own id, as the national downlink does. */
export const warningActorId = (s: Pick<WarningSourceRecord, 'id'>) => s.id;

const iso = (ms: number) => new Date(ms).toISOString();
const sourceKey = (s: IngestSource) => (s === FORM ? FORM : s.id);

/** "Xã Tân Lập" → "xã Tân Lập": a unit's word is not capitalised inside a sentence. */
const inSentence = (name: string) => name.replace(/^(Xã|Phường|Thị trấn|Đặc khu|Thôn|Tỉnh|Thành phố)(?=\s)/u, (m) => m.toLowerCase());

export class WarningService {
  private readonly log: Logger;
  /** Messages are taken one at a time: a Cancel must not overtake the Alert it cancels. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: WarningServiceDeps) {
    this.log = deps.logger.child({ module: 'warnings' });
  }

  now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  // ---- reading a message --------------------------------------------------------------------------------

  /** The CAP alert of `xml`, or a 400 naming the element (the reader's path). */
  read(xml: Uint8Array | string): CapAlert {
    const r = readCap(xml, { maxBytes: CAP_MAX_BYTES });
    if (!r.ok) {
      if (r.reason === 'too-large') throw new ApiError(413, ErrorCode.TOO_LARGE, `Bản tin CAP quá lớn: ${r.message}`);
      throw badRequest(`Bản tin CAP không hợp lệ: ${r.message}`, [{ path: r.path || '/', message: r.message.slice(0, 500) }]);
    }
    return r.alert;
  }

  /** CAP 1.2 §3.3.4.1: a source that requires signatures has each message checked against its certificate. */
  private checkSignature(source: WarningSourceRecord, xml: string): void {
    if (!source.requireSignature) return;
    if (!source.certificatePem) throw forbidden(`Nguồn ${source.name} yêu cầu chữ ký nhưng chưa có chứng thư để kiểm tra`);
    let r: ReturnType<typeof verifyCapSignature>;
    try {
      r = verifyCapSignature(xml, source.certificatePem);
    } catch (err) {
      this.log.error({ err, sourceId: source.id }, 'the CAP signature could not be checked');
      throw new ApiError(503, ErrorCode.UNAVAILABLE, 'Chưa kiểm tra được chữ ký của bản tin; gửi lại sau');
    }
    if (!r.ok) throw forbidden(`Chữ ký của bản tin không hợp lệ: ${r.reason}`);
  }

  /** The info announced: the first in Vietnamese (RFC 3066 "vi", "vi-VN"), else the first. */
  private pickInfo(alert: CapAlert): { info: CapInfo | null; vietnamese: boolean } {
    const vi = alert.info.find((i) => /^vi(-|$)/i.test(i.language));
    return { info: vi ?? alert.info[0] ?? null, vietnamese: vi !== undefined };
  }

  private kindOf(info: CapInfo): DisasterKindId | null {
    for (const c of info.eventCode) {
      if (c.valueName !== CAP_EVENT_CODE_KIND) continue;
      if ((DISASTER_KIND_IDS as readonly string[]).includes(c.value)) return c.value as DisasterKindId;
      const k = disasterKindOf(c.value);
      if (k) return k;
    }
    return disasterKindOf(info.event);
  }

  private riskOf(info: CapInfo): RiskLevel | null {
    const p = info.parameter.find((x) => x.valueName === CAP_PARAMETER_RISK_LEVEL);
    return p ? parseRiskLevel(p.value) : null;
  }

  private tree(): AreaEntry[] {
    return this.deps.areas
      .all()
      .filter((a) => !a.validUntil)
      .map((a) => ({ code: a.code, parentCode: a.parentCode, name: a.name, type: a.type, level: a.level }));
  }

  private boxesOf(tree: readonly AreaEntry[]): BoxEntry[] {
    return this.deps.devices.coverageRows(tree.map((a) => a.code)).map((d) => ({ id: d.id, areaCode: d.areaCode, lat: d.lat, lon: d.lon }));
  }

  /** Codes at or under `codes`. */
  private subtrees(codes: readonly string[]): Set<string> {
    const out = new Set<string>();
    for (const c of codes) for (const s of this.deps.areas.subtree(c)) out.add(s);
    return out;
  }

  /**
   * What a message would become; writes nothing. `source` limits the areas (its areaCodes) and sets the
   * policy; the form's policy is "a person decided": it airs unless nothing is reached or it has expired.
   */
  analyse(source: IngestSource, alert: CapAlert, now = this.now()): WarningAnalysis {
    const policy: WarningPolicy = source === FORM ? DEFAULT_WARNING_POLICY : source.policy;
    const { info, vietnamese } = this.pickInfo(alert);
    const kind = info ? this.kindOf(info) : null;
    const riskLevel = info ? this.riskOf(info) : null;
    const expires = info?.expires ? capDateTimeToMs(info.expires) : null;
    const sent = capDateTimeToMs(alert.sent) ?? now;
    // No expiry given: the source's default validity, from when it was sent (or received, if sent is ahead).
    const expiresAt = expires ?? Math.min(sent, now) + policy.defaultValidHours * HOUR_MS;

    // Areas: the chosen info's, else every info's (a language variant may carry them alone).
    const capAreas = info && info.area.length ? info.area : alert.info.flatMap((i) => i.area);
    const tree = this.tree();
    const boxes = this.boxesOf(tree);
    const valueNames = source === FORM ? DEFAULT_GEOCODE_VALUE_NAMES : [...DEFAULT_GEOCODE_VALUE_NAMES, ...source.geocodeValueNames];
    const match = matchAreas(capAreas, tree, boxes, { geocodeValueNames: valueNames });
    const allowed = source === FORM ? null : this.subtrees(source.areaCodes);
    const byCode = new Map(tree.map((a) => [a.code, a]));
    const unmatched: { what: string; value: string }[] = match.unmatched.map((u) => ({ what: u.what, value: u.value }));
    const communes: { code: string; name: string }[] = [];
    const areaTargets = new Set<string>();
    for (const c of match.communes) {
      if (allowed && !allowed.has(c.code)) {
        unmatched.push({ what: 'outside', value: `${c.code} ${c.name}` });
        continue;
      }
      communes.push({ code: c.code, name: c.name });
      // Reached by a code or a name: the area itself (a village when the geocode named one); reached only
      // through boxes inside polygons or circles: those boxes, not the whole commune.
      for (const r of c.reasons) {
        if (r.kind === 'geocode') areaTargets.add(byCode.get(r.value.trim())?.level === 'village' ? r.value.trim() : c.code);
        else if (r.kind === 'name') areaTargets.add(c.code);
      }
    }
    // A commune reached by a whole-area reason covers its villages' too.
    for (const code of [...areaTargets]) {
      const parent = byCode.get(code)?.parentCode;
      if (parent && areaTargets.has(parent)) areaTargets.delete(code);
    }
    const underTargets = this.subtrees([...areaTargets]);
    const deviceIds = match.boxes.filter((b) => (!allowed || allowed.has(b.areaCode)) && !underTargets.has(b.areaCode)).map((b) => b.id);
    const target: BroadcastTarget = {
      ...(areaTargets.size ? { areaCodes: [...areaTargets].sort() } : {}),
      ...(deviceIds.length ? { deviceIds } : {}),
    };
    const boxCount = this.deps.devices.idsInAreas([...underTargets]).length + deviceIds.length;
    const boxesWithoutCoordinates = match.boxesWithoutCoordinates.filter((id) => {
      const a = boxes.find((b) => b.id === id)?.areaCode;
      return a !== undefined && (!allowed || allowed.has(a));
    }).length;

    const announcement = this.announce(alert, info, kind, riskLevel, communes, expires);
    const { decision, reason } = this.decide(source, alert, info, vietnamese, riskLevel, expiresAt, communes.length + deviceIds.length > 0, policy, now);
    return { info, vietnamese, kind, riskLevel, expiresAt, communes, target, boxes: boxCount, boxesWithoutCoordinates, unmatched, announcement, decision, reason };
  }

  private announce(alert: CapAlert, info: CapInfo | null, kind: DisasterKindId | null, riskLevel: RiskLevel | null, communes: { name: string }[], expires: number | null): string {
    if (!info) return alert.note ?? '';
    const agencyText = [info.description, info.instruction].filter((s): s is string => !!s?.trim()).join('\n');
    if (kind) {
      return buildAnnouncement({
        kind,
        riskLevel,
        agency: info.senderName ?? alert.sender,
        agencyText: agencyText || info.headline || info.event,
        areas: communes.map((c) => inSentence(c.name)),
        validUntil: expires,
      });
    }
    return readableAgencyText([info.headline ?? info.event, info.description, info.instruction].filter((s): s is string => !!s?.trim()).join('\n'));
  }

  /** The source policy's rule (shared contract warningPolicySchema's comment), with its reason in Vietnamese. */
  private decide(source: IngestSource, alert: CapAlert, info: CapInfo | null, vietnamese: boolean, riskLevel: RiskLevel | null, expiresAt: number, reached: boolean, policy: WarningPolicy, now: number): { decision: WarningDecision; reason: string | null } {
    if (!(policy.airStatuses as string[]).includes(alert.status)) return { decision: 'hold', reason: `giữ lại: bản tin trạng thái ${alert.status} không phát theo chính sách nguồn` };
    if (!info) return { decision: 'hold', reason: 'giữ lại: bản tin không có phần nội dung (info)' };
    if (expiresAt <= now) return { decision: 'expired', reason: 'đã hết hiệu lực khi nhận: chỉ ghi nhận, không phát' };
    if (!reached) return { decision: 'unmatched', reason: 'không có xã hay loa nào của địa bàn nguồn trong khu vực cảnh báo' };
    if (source === FORM) return { decision: 'air-now', reason: null };
    const a = policy.atOnce;
    const byCap = a.severities.includes(info.severity) && a.urgencies.includes(info.urgency) && a.certainties.includes(info.certainty);
    const byRisk = a.minRiskLevel !== null && riskLevel !== null && riskLevel >= a.minRiskLevel;
    if (byCap || byRisk) {
      if (!vietnamese) return { decision: 'wait', reason: 'chờ duyệt: bản tin không có phần tiếng Việt, cần người đọc trước khi phát' };
      return { decision: 'air-now', reason: byRisk && !byCap ? `phát ngay: cấp độ rủi ro ${riskLevel} theo chính sách nguồn` : 'phát ngay theo chính sách nguồn' };
    }
    const what = `mức độ ${info.severity}, khẩn cấp ${info.urgency}, chắc chắn ${info.certainty}${riskLevel !== null ? `, cấp độ rủi ro ${riskLevel}` : ''}`;
    if (policy.others === 'wait') return { decision: 'wait', reason: `chờ duyệt: ${what} không phát ngay theo chính sách nguồn` };
    return { decision: 'ignore', reason: `chỉ ghi nhận: ${what} không phát theo chính sách nguồn` };
  }

  // ---- ingesting ------------------------------------------------------------------------------------------

  /**
   * Takes one CAP message from a source (or the form, with the person who wrote it as `decider`).
   * Throws ApiError for a message that is refused (400 with the element path, 403 signature); answers
   * `accepted: false` for one already taken.
   */
  ingestCap(source: IngestSource, xmlBytes: Uint8Array | string, origin: string, opts: IngestOptions = {}): Promise<IngestOutcome> {
    const text = typeof xmlBytes === 'string' ? xmlBytes : Buffer.from(xmlBytes).toString('utf8');
    const alert = this.read(xmlBytes);
    if (source !== FORM) this.checkSignature(source, text);
    return this.serial(async () => this.take(source, alert, text, origin, opts));
  }

  private async take(source: IngestSource, alert: CapAlert, xml: string, origin: string, opts: IngestOptions): Promise<IngestOutcome> {
    const key = sourceKey(source);
    const done = Promise.resolve();
    if (this.deps.warnings.hasVersion(key, alert.sender, alert.identifier, alert.sent)) {
      return { accepted: false, warningId: null, state: null, message: `Bản tin ${alert.identifier} (${alert.sent}) đã nhận trước đó: bỏ qua`, settled: done };
    }
    if (source !== FORM) await this.ensureActor(source);
    const referenced = alert.references.map((r) => this.deps.warnings.warningOfReference(key, r)).filter((x): x is string => x !== null);
    const target = referenced.length ? this.deps.warnings.get(referenced[referenced.length - 1]!) : null;
    const record = (warningId: string | null, version: number, note: string | null) =>
      this.deps.warnings.addVersion({ warningId, version, sourceKey: key, sender: alert.sender, identifier: alert.identifier, sent: alert.sent, sentMs: capDateTimeToMs(alert.sent) ?? this.now(), msgType: alert.msgType, status: alert.status, origin: origin.slice(0, 500), receivedAt: this.now(), xml, bulletinId: null, broadcastId: null, note });
    // CAP 1.2 §3.2.1 status: a Test, System or Draft message is to be disregarded by recipients; one that
    // refers to a warning that airs must not replace or stop it. It is recorded only.
    const airStatuses = (source === FORM ? DEFAULT_WARNING_POLICY : source.policy).airStatuses as string[];
    if ((alert.msgType === 'Update' || alert.msgType === 'Cancel') && target && !airStatuses.includes(alert.status) && airStatuses.includes(target.status)) {
      record(null, 0, `${alert.msgType} trạng thái ${alert.status} của cảnh báo ${target.id}: chỉ ghi nhận, không áp dụng`);
      return { accepted: true, warningId: target.id, state: target.state, message: `Đã ghi nhận ${alert.msgType} trạng thái ${alert.status}; cảnh báo ${target.identifier} không đổi`, settled: done };
    }
    switch (alert.msgType) {
      case 'Ack':
      case 'Error': {
        record(target?.id ?? null, target?.version ?? 0, `${alert.msgType}: ghi nhận, không phát`);
        return { accepted: true, warningId: target?.id ?? null, state: target?.state ?? null, message: `Đã ghi nhận ${alert.msgType}`, settled: done };
      }
      case 'Cancel': {
        if (!target) {
          record(null, 0, 'Cancel của cảnh báo chưa biết: chỉ ghi nhận');
          this.log.warn({ source: key, identifier: alert.identifier }, 'a CAP Cancel references no warning we know; recorded only');
          return { accepted: true, warningId: null, state: null, message: 'Đã ghi nhận lệnh hủy; không có cảnh báo nào tương ứng', settled: done };
        }
        const version = target.version + 1;
        this.deps.warnings.transaction(() => {
          record(target.id, version, null);
          this.deps.warnings.put({ ...target, version, state: 'cancelled', reason: `nguồn đã hủy${alert.note ? `: ${alert.note.slice(0, 300)}` : ''}`, updatedAt: this.now() });
        });
        await this.stopBroadcast(target, source === FORM ? opts.decider! : this.actor(source));
        this.unpublish(target.id);
        return { accepted: true, warningId: target.id, state: 'cancelled', message: `Đã hủy cảnh báo ${target.identifier}; các loa đang phát đã dừng`, settled: done };
      }
      case 'Update':
      case 'Alert': {
        if (alert.msgType === 'Update' && !target) this.log.warn({ source: key, identifier: alert.identifier }, 'a CAP Update references no warning we know; taken as a new Alert');
        return this.place(source, alert, target, record, opts);
      }
    }
  }

  /** An Alert (or an Update, replacing `previous`): the warning row, its version, and what airs. */
  private async place(
    source: IngestSource,
    alert: CapAlert,
    previous: WarningRecord | null,
    record: (warningId: string | null, version: number, note: string | null) => number | null,
    opts: IngestOptions,
  ): Promise<IngestOutcome> {
    const now = this.now();
    const a = this.analyse(source, alert, now);
    let decision = a.decision;
    let reason = a.reason;
    // A chain a person put on air stays on air with its replacement: the person decided about this warning.
    if (previous?.state === 'airing' && decision === 'wait' && a.vietnamese) {
      decision = 'air-now';
      reason = 'bản cập nhật của cảnh báo đang phát';
    }
    const state: WarningState = { 'air-now': 'airing', wait: 'pending', hold: 'held', ignore: 'held', expired: 'expired', unmatched: 'unmatched' }[decision] as WarningState;
    const policy = source === FORM ? DEFAULT_WARNING_POLICY : source.policy;
    const info = a.info;
    const id = previous?.id ?? newId('wn');
    const version = (previous?.version ?? 0) + 1;
    const priority = state === 'airing' ? (opts.priority ?? previous?.priority ?? 'emergency') : null;
    const decidedBy = state === 'airing' ? (opts.decider?.id ?? (previous?.state === 'airing' ? previous.decidedBy : null) ?? (source === FORM ? null : warningActorId(source))) : null;
    const w: WarningRecord = {
      id,
      sourceId: source === FORM ? null : source.id,
      sourceName: source === FORM ? `Biểu mẫu cảnh báo${opts.decider ? ` (${opts.decider.username})` : ''}` : source.name,
      identifier: previous?.identifier ?? alert.identifier,
      sender: previous?.sender ?? alert.sender,
      status: alert.status,
      kind: a.kind,
      riskLevel: a.riskLevel,
      event: info?.event ?? alert.identifier,
      headline: info?.headline ?? null,
      severity: info?.severity ?? 'Unknown',
      urgency: info?.urgency ?? 'Unknown',
      certainty: info?.certainty ?? 'Unknown',
      expiresAt: a.expiresAt,
      state,
      reason,
      priority,
      decidedBy,
      announcement: opts.announcement ?? a.announcement,
      communes: a.communes,
      target: a.target,
      boxes: a.boxes,
      boxesWithoutCoordinates: a.boxesWithoutCoordinates,
      unmatched: a.unmatched,
      repeatMinutes: opts.repeatMinutes ?? policy.repeatMinutes,
      attention: opts.attention ?? policy.attention,
      version,
      bulletinId: previous?.bulletinId ?? null,
      broadcastId: previous?.broadcastId ?? null,
      createdAt: previous?.createdAt ?? now,
      updatedAt: now,
    };
    let versionId: number | null = null;
    this.deps.warnings.transaction(() => {
      this.deps.warnings.put(w);
      versionId = record(id, version, previous ? null : alert.msgType === 'Update' ? 'Update của cảnh báo chưa biết: nhận như bản tin mới' : null);
    });
    if (versionId === null) return { accepted: false, warningId: null, state: null, message: `Bản tin ${alert.identifier} đã nhận trước đó: bỏ qua`, settled: Promise.resolve() };
    // An Update that no longer airs stops what its warning aired.
    if (previous && state !== 'airing') await this.stopBroadcast(previous, source === FORM ? opts.decider! : this.actor(source));
    let settled = Promise.resolve();
    if (state === 'airing') {
      const actor = opts.decider ?? this.actor(source as WarningSourceRecord);
      settled = this.air(id, version, versionId, actor, opts.mediaBase ?? this.deps.mediaBase());
    }
    this.log.info({ warningId: id, version, state, msgType: alert.msgType, status: alert.status, communes: a.communes.length, boxes: a.boxes }, 'CAP message taken');
    const verb = previous ? 'Đã cập nhật' : 'Đã nhận';
    return { accepted: true, warningId: id, state, message: `${verb} cảnh báo ${w.identifier}: ${stateText(state)}${reason ? ` (${reason})` : ''}`, settled };
  }

  // ---- airing ---------------------------------------------------------------------------------------------

  /**
   * Synthesizes the announcement and airs it, once the audio is ready, unless the warning moved on meanwhile
   * (a newer version, a cancel): then the audio is left unused. The broadcast it replaces is cancelled only
   * when the new one is ready, so the old announcement airs until then. Never rejects.
   */
  private async air(warningId: string, version: number, versionId: number, actor: Principal, mediaBase: string): Promise<void> {
    try {
      const w0 = this.deps.warnings.get(warningId)!;
      const bulletinId = newId('bl');
      const title = `Cảnh báo: ${w0.headline ?? w0.event}`.slice(0, 200);
      // The attention signal (audio/chime.ts 'attention') is read before the speech when the policy or the form
      // asks for it: it belongs to the bulletin, so a synthesis resumed after a restart keeps it.
      this.deps.bulletins.insert({ id: bulletinId, title, text: w0.announcement.normalize('NFC'), category: 'unscheduled-news', voice: this.deps.ttsVoice, speed: 1, createdBy: actor.id, areaCode: null, attention: w0.attention });
      // Issue 22: an actual warning is a public notice on the communes' pages once aired (exercises and tests are
      // not); the flag alone decides what those pages show, so a Cancel can take it off (unpublish below).
      if (w0.status === 'Actual') this.deps.bulletins.setPublic(bulletinId, true);
      const b = await this.deps.bulletinService.synthesize(bulletinId);
      const w = this.deps.warnings.get(warningId)!;
      if (w.version !== version || w.state !== 'airing') return;
      if (b.status !== 'ready') {
        this.deps.warnings.put({ ...w, state: 'pending', reason: `chờ duyệt lại: không tổng hợp được giọng đọc (${(b.error ?? b.status).slice(0, 200)})`, priority: null, bulletinId, updatedAt: this.now() });
        return;
      }
      await this.stopBroadcast(w, actor);
      const now = this.now();
      const until = Math.min(w.expiresAt ?? now, now + EVERY_MAX_SPAN_MS);
      const repeat = w.repeatMinutes > 0 ? Math.max(w.repeatMinutes, Math.ceil((until - now) / 60_000 / MAX_REPEATS)) : 0;
      const draft = repeat > 0 && until - now > repeat * 60_000
        ? { bulletinId, priority: w.priority ?? 'emergency', target: w.target, schedule: { kind: 'every' as const, from: iso(now), until: iso(until), minutes: repeat } }
        : { bulletinId, priority: w.priority ?? 'emergency', target: w.target, startAt: iso(now) };
      const { broadcast } = this.deps.broadcastService.prepare(actor, draft, mediaBase, now);
      await this.deps.broadcastService.save(broadcast);
      this.deps.warnings.setVersionAiring(versionId, bulletinId, broadcast.id);
      const after = this.deps.warnings.get(warningId)!;
      if (after.version !== version || after.state !== 'airing') {
        // Replaced or stopped while it was being sent out: what it began airing stops; a newer version airs its own.
        await this.stopBroadcast({ broadcastId: broadcast.id }, actor);
        return;
      }
      this.deps.warnings.put({ ...after, bulletinId, broadcastId: broadcast.id, updatedAt: this.now() });
      this.log.info({ warningId, version, broadcastId: broadcast.id, priority: broadcast.priority, repeat }, 'warning on air');
    } catch (err) {
      this.log.error({ err, warningId, version }, 'a warning could not be aired');
      const w = this.deps.warnings.get(warningId);
      if (w && w.version === version && w.state === 'airing') {
        const why = err instanceof ApiError ? err.message : 'lỗi máy chủ';
        this.deps.warnings.put({ ...w, state: 'pending', priority: null, reason: `chờ duyệt lại: không phát được (${why.slice(0, 300)})`, updatedAt: this.now() });
      }
    }
  }

  /** Cancels what the warning airs now; boxes playing it stop (broadcastService.cancel). */
  private async stopBroadcast(w: Pick<WarningRecord, 'broadcastId'>, actor: Principal): Promise<void> {
    if (!w.broadcastId) return;
    const b = this.deps.broadcasts.get(w.broadcastId);
    if (!b || b.status === 'cancelled' || b.status === 'rejected') return;
    try {
      await this.deps.broadcastService.cancel(actor, b, undefined);
    } catch (err) {
      this.log.error({ err, broadcastId: b.id }, 'the broadcast of a warning could not be cancelled');
    }
  }

  // ---- the source's actor ---------------------------------------------------------------------------------

  /**
   * A source as the actor of what it airs: its own users row (FKs name it; the audit shows it), disabled,
   * marked `system` (no login, no edit), as the national downlink's parent is (issue 17).
   */
  async ensureActor(source: WarningSourceRecord): Promise<void> {
    const id = warningActorId(source);
    if (this.deps.users.byId(id)) return;
    this.deps.users.insert({ id, username: `cap:${source.id}`, passwordHash: await hashPassword(generatePassword()), role: 'viewer', areaCode: null, disabled: true, createdAt: this.now(), system: true });
  }

  private actor(source: WarningSourceRecord): Principal {
    return { id: warningActorId(source), username: `cap:${source.id}`, role: 'province-admin', areaCode: null, authenticatedAt: this.now() };
  }

  // ---- people ---------------------------------------------------------------------------------------------

  /** Whether `user` may see the warning: installation-wide users all; others those touching their area. */
  visible(user: Principal, w: WarningRecord): boolean {
    if (user.areaCode === null) return true;
    if (w.communes.some((c) => coversArea(user, this.deps.areas.ancestry(c.code)))) return true;
    return (w.target.deviceIds ?? []).some((id) => {
      const a = this.deps.devices.areaOf(id);
      return a !== null && coversArea(user, this.deps.areas.ancestry(a));
    });
  }

  /** A warning the user may see, else 404 (ids of other areas cannot be probed). */
  visibleWarning(user: Principal, id: string): WarningRecord {
    this.expireDue();
    const w = this.deps.warnings.get(id);
    if (!w || !this.visible(user, w)) throw notFound(`warning ${id}`);
    return w;
  }

  /** An approver acts on a warning only when every one of its targets lies in their area (403 otherwise). */
  private assertCovers(user: Principal, w: WarningRecord): void {
    if (!canApprove(user)) throw forbidden('chỉ người duyệt và quản trị tỉnh được duyệt, từ chối hay hủy cảnh báo');
    this.deps.broadcastService.checkTargets(user, w.target);
  }

  /** Issue 19: the announcement's guessed or unread spans must have been listened to (`checked`), else 409. */
  readingSpans(text: string): ReadingSpan[] {
    return readingSpansOf(this.deps.speech, { source: 'text', text, voice: this.deps.ttsVoice, areaCode: null });
  }

  async approve(user: Principal, id: string, body: { priority: 'emergency' | 'priority'; announcement?: string | undefined; checked: boolean }, mediaBase: string): Promise<{ warning: WarningRecord; settled: Promise<void> }> {
    return this.serial(async () => {
      const w = this.visibleWarning(user, id);
      this.assertCovers(user, w);
      if (w.state !== 'pending') throw conflict(`Cảnh báo ${id} đang ở trạng thái ${stateText(w.state)}, không chờ duyệt`);
      if (w.expiresAt !== null && w.expiresAt <= this.now()) throw conflict(`Cảnh báo ${id} đã hết hiệu lực`);
      this.deps.broadcastService.assertFreshLogin(user, body.priority, this.now());
      const announcement = body.announcement?.normalize('NFC') ?? w.announcement;
      const spans = this.readingSpans(announcement);
      if (spans.length && !body.checked) throw readingNotChecked(spans, 'checked');
      const next: WarningRecord = { ...w, state: 'airing', priority: body.priority, decidedBy: user.id, announcement, reason: `đã duyệt bởi ${user.username}`, updatedAt: this.now() };
      this.deps.warnings.put(next);
      const last = this.deps.warnings.versions(id).filter((v) => v.msgType === 'Alert' || v.msgType === 'Update').at(-1)!;
      const settled = this.air(id, w.version, last.id, user, mediaBase);
      return { warning: next, settled };
    });
  }

  async reject(user: Principal, id: string, reason: string): Promise<WarningRecord> {
    return this.serial(async () => {
      const w = this.visibleWarning(user, id);
      this.assertCovers(user, w);
      if (w.state !== 'pending') throw conflict(`Cảnh báo ${id} đang ở trạng thái ${stateText(w.state)}, không chờ duyệt`);
      const next: WarningRecord = { ...w, state: 'rejected', decidedBy: user.id, reason: `từ chối: ${reason}`, updatedAt: this.now() };
      this.deps.warnings.put(next);
      return next;
    });
  }

  /** A person stops a warning: its broadcast cancelled, and a CAP Cancel published for it (cap-author.ts). */
  async cancel(user: Principal, id: string, reason: string): Promise<WarningRecord> {
    return this.serial(async () => {
      const w = this.visibleWarning(user, id);
      this.assertCovers(user, w);
      if (w.state === 'cancelled' || w.state === 'rejected') throw conflict(`Cảnh báo ${id} đã ${stateText(w.state)}`);
      const now = this.now();
      const chain = this.deps.warnings.versions(id).filter((v) => v.msgType === 'Alert' || v.msgType === 'Update');
      const identifier = `loaxa-${newId('wc')}`;
      const xml = writeCap(cancelAlert({ identifier, sender: this.deps.capSender, sent: now, status: w.status, references: chain.map((v) => capReferenceOf(v)), event: w.event, reason, areas: w.communes }));
      const version = w.version + 1;
      const next: WarningRecord = { ...w, state: 'cancelled', version, decidedBy: user.id, reason: `đã hủy bởi ${user.username}: ${reason}`, updatedAt: now };
      this.deps.warnings.transaction(() => {
        this.deps.warnings.put(next);
        const alert = this.read(xml);
        this.deps.warnings.addVersion({ warningId: id, version, sourceKey: FORM, sender: alert.sender, identifier, sent: alert.sent, sentMs: now, msgType: 'Cancel', status: w.status, origin: `person:${user.username}`, receivedAt: now, xml, bulletinId: null, broadcastId: null, note: reason });
      });
      await this.stopBroadcast(w, user);
      this.unpublish(id);
      return next;
    });
  }

  /** A cancelled warning leaves the communes' public pages (issue 22 review): a message sent in error must not stay there. */
  private unpublish(warningId: string): void {
    const ids = new Set([this.deps.warnings.get(warningId)?.bulletinId, ...this.deps.warnings.versions(warningId).map((v) => v.bulletinId)]);
    for (const id of ids) if (id) this.deps.bulletins.setPublic(id, false);
  }

  /** The province's form, written as a CAP Alert and taken as the form's with the person as the one who decided. */
  async createFromForm(
    user: Principal,
    body: { kind: DisasterKindId; riskLevel: number | null; agency: string; agencyText: string; areaCodes: string[]; validUntil: string; announcement?: string | undefined; priority?: 'emergency' | 'priority' | undefined; repeatMinutes: number; attention: boolean; checked: boolean },
    mediaBase: string,
  ): Promise<{ outcome: IngestOutcome; preview: WarningAnalysis }> {
    const { xml, priority } = this.formCap(user, body);
    this.deps.broadcastService.assertFreshLogin(user, priority, this.now());
    const preview = this.analyse(FORM, this.read(xml));
    const announcement = body.announcement?.normalize('NFC') ?? preview.announcement;
    const spans = this.readingSpans(announcement);
    if (spans.length && !body.checked) throw readingNotChecked(spans, 'checked');
    if (preview.decision !== 'air-now') throw badRequest(`Cảnh báo không phát được: ${preview.reason ?? preview.decision}`, [{ path: preview.decision === 'expired' ? 'validUntil' : 'areaCodes', message: preview.reason ?? preview.decision }]);
    const outcome = await this.ingestCap(FORM, xml, `form:${user.username}`, { decider: user, priority, repeatMinutes: body.repeatMinutes, attention: body.attention, mediaBase, announcement });
    return { outcome, preview: { ...preview, announcement } };
  }

  /** The form as a CAP document, after checking the person may warn those areas; throws 400/403. */
  formCap(user: Principal, body: { kind: DisasterKindId; riskLevel: number | null; agency: string; agencyText: string; areaCodes: string[]; validUntil: string; priority?: 'emergency' | 'priority' | undefined }): { alert: CapAlert; xml: string; priority: 'emergency' | 'priority' } {
    if (!canApprove(user)) throw forbidden('chỉ người duyệt và quản trị tỉnh được phát cảnh báo thiên tai');
    this.deps.broadcastService.checkTargets(user, { areaCodes: body.areaCodes });
    const now = this.now();
    const expires = Date.parse(body.validUntil);
    if (!(expires > now)) throw badRequest('Thời hạn hiệu lực đã qua', [{ path: 'validUntil', message: 'in the past' }]);
    const areas = [...new Set(body.areaCodes)].map((code) => ({ code, name: this.deps.areas.get(code)?.name ?? code }));
    const riskLevel = body.riskLevel as RiskLevel | null;
    // Level 3 and above are "large risk" or worse (Decision 18 Article 4 clause 3): an emergency by default.
    const priority = body.priority ?? (riskLevel !== null && riskLevel < 3 ? 'priority' : 'emergency');
    const input = formAlert({ identifier: `loaxa-${newId('wf')}`, sender: this.deps.capSender, sent: now, kind: body.kind, riskLevel, agency: body.agency, agencyText: body.agencyText, areas, expires, announcement: '' });
    const xml = writeCap(input);
    return { alert: this.read(xml), xml, priority };
  }

  // ---- expiry ---------------------------------------------------------------------------------------------

  /**
   * Warnings past their expiry leave `airing` and `pending` (CAP 1.2 §3.2.2 expires). The `every` schedule
   * already ends there; this keeps the state true. Run on a timer and before each read.
   */
  expireDue(): number {
    const now = this.now();
    const due = this.deps.warnings.expiring(now);
    for (const w of due) this.deps.warnings.put({ ...w, state: 'expired', reason: `hết hiệu lực lúc ${new Date(w.expiresAt!).toISOString()}`, updatedAt: now });
    if (due.length) this.log.info({ count: due.length }, 'warnings expired');
    return due.length;
  }
}

export function stateText(s: WarningState): string {
  return { pending: 'chờ duyệt', airing: 'đang phát', expired: 'hết hiệu lực', cancelled: 'đã hủy', rejected: 'bị từ chối', held: 'giữ lại, không phát', unmatched: 'không khớp địa bàn' }[s];
}
