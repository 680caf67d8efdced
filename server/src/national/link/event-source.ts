/**
 * What the server already knows, as the national link's model events (issue 17; shared/src/national/model.ts):
 * a box's status from its registry row and last heartbeat, and an airing's start and end from a delivery's
 * transitions. Pure: the link service reads the rows and appends what these make.
 *
 * CV 1273's play log: *LoaiBanTin* 3 (audio) for what boxes play from a file (a synthesized bulletin, a
 * recording, a programme), 5 for a live voice, 6 for a relay of a radio station (*TiepAm* 1, *NguonTiepAm* the
 * station); *GiaTri* 1 when the box played it to the end, 0 when it failed or missed it.
 */
import { BULLETIN_CATEGORIES, type AiringEndEvent, type AiringStartEvent, type BoxStatusEvent, type BulletinCategory, type DeliveryState, type NationalBox, type NationalContentType, type NationalSystem } from '@loaxa/shared';
import type { AiringFacts, BoxReading } from './readings.js';

export interface Vendor {
  code: string;
  name: string;
}

const cut = (s: string, max: number) => (s.length > max ? s.slice(0, max) : s);

export function nationalBox(b: { id: string; nationalId: string | null; name: string; areaCode: string; areaName: string }, vendor: Vendor): NationalBox {
  return { nationalId: cut(b.nationalId ?? b.id, 64), name: cut(b.name, 200), area: { code: b.areaCode, name: cut(b.areaName, 200) }, vendor: { code: cut(vendor.code, 64), name: cut(vendor.name, 200) } };
}

/** The radio generation the vendors write in TrangThaiKetNoi (`4G,-10dbm`), from the modem's access technology. */
function generation(accessTech: string | null): string {
  const t = (accessTech ?? '').toLowerCase();
  if (/nr|5g/.test(t)) return '5G';
  if (/lte|4g/.test(t)) return '4G';
  if (/umts|hspa|wcdma|3g/.test(t)) return '3G';
  if (/gsm|edge|gprs|2g/.test(t)) return '2G';
  return t ? cut(t.toUpperCase(), 16) : '4G';
}

/** *TrangThaiKetNoi*: `4G,80%`, `WIFI,80%`, `ETHERNET`, `OFFLINE` (our boxes report signal in percent, not dBm). */
export function connectionText(r: Pick<BoxReading, 'online' | 'networkType' | 'accessTech' | 'signalPct'>): string {
  if (!r.online) return 'OFFLINE';
  const signal = r.signalPct === null ? '' : `,${Math.round(r.signalPct)}%`;
  switch (r.networkType) {
    case 'cellular':
      return `${generation(r.accessTech)}${signal}`;
    case 'wifi':
      return `WIFI${signal}`;
    case 'ethernet':
      return 'ETHERNET';
    default:
      return 'UNKNOWN';
  }
}

export function statusEvent(r: BoxReading, at: number, source: NationalSystem, vendor: Vendor): BoxStatusEvent {
  const operating = !r.online ? 'offline' : r.faulty ? 'fault' : r.playingTitle !== null ? 'playing' : 'idle';
  const used = r.diskTotalBytes && r.diskTotalBytes > 0 && r.diskFreeBytes !== null ? Math.round((1 - r.diskFreeBytes / r.diskTotalBytes) * 1000) / 10 : null;
  return {
    kind: 'box-status',
    at,
    source,
    box: nationalBox(r, vendor),
    volume: Math.max(0, Math.min(100, Math.round(r.volume ?? 0))),
    operating,
    connection: connectionText(r),
    lat: r.lat,
    lon: r.lon,
    powerW: null,
    temperatureC: r.cpuTempC,
    storageUsedPct: used === null ? null : Math.max(0, Math.min(100, used)),
    nowPlaying: r.online ? cut(r.playingTitle ?? '', 500) : '',
    appVersion: cut(r.agentVersion ?? '', 64),
  };
}

export function contentTypeOf(f: Pick<AiringFacts, 'source'>): NationalContentType {
  return f.source === 'relay' ? 'fm' : f.source === 'live' ? 'live' : 'audio';
}

export interface DeliveryTransition {
  broadcastId: string;
  deviceId: string;
  occurrenceAt: number;
  state: DeliveryState;
  at: number;
  reason: string | null;
  airedMs?: number | null;
}

/** Our id of one airing: a parent pairs start and end by it, and the outbox dedupes on it. */
export const airingIdOf = (t: Pick<DeliveryTransition, 'broadcastId' | 'occurrenceAt' | 'deviceId'>) => `${t.broadcastId}:${t.occurrenceAt}:${t.deviceId}`;

/**
 * The play-log record of a transition: `playing` starts an airing; `played`, `failed`, `missed` end it. Other
 * states (queued, sent, acknowledged, cancelled, expired) say nothing aired and go up as nothing.
 */
export function airingEvent(
  t: DeliveryTransition,
  ctx: { box: NationalBox; facts: AiringFacts; startedAt: number | null; source: NationalSystem; author: string; now: number },
): AiringStartEvent | AiringEndEvent | null {
  if (t.state !== 'playing' && t.state !== 'played' && t.state !== 'failed' && t.state !== 'missed') return null;
  const { facts } = ctx;
  const category: BulletinCategory = (BULLETIN_CATEGORIES as readonly string[]).includes(facts.category ?? '') ? (facts.category as BulletinCategory) : 'general';
  const durationS = facts.durationMs === null ? 0 : Math.max(0, Math.round(facts.durationMs / 1000));
  const base = {
    at: ctx.now,
    source: ctx.source,
    box: ctx.box,
    airingId: airingIdOf(t),
    bulletin: {
      id: cut(facts.upstreamId ?? facts.bulletinId, 128),
      title: cut(facts.title, 500),
      category,
      // A synthesized bulletin's summary is the start of its text; a recording, relay or programme has none.
      summary: facts.source === 'text' ? cut(facts.text, 300) : '',
      durationS,
      author: cut(ctx.author, 200),
      contentType: contentTypeOf(facts),
      producedAt: facts.createdAt,
    },
    priority: facts.priority,
    startedAt: t.state === 'playing' ? t.at : (ctx.startedAt ?? t.occurrenceAt),
    relay: facts.source === 'relay' ? { sourceName: cut(facts.relaySourceName ?? '', 200) } : null,
  };
  if (t.state === 'playing') return { kind: 'airing-start', ...base };
  const ok = t.state === 'played';
  // A relay's or live voice's `played` says how long it really aired (airedMs); a file aired to its end.
  const airedS = !ok ? Math.max(0, Math.round((t.airedMs ?? 0) / 1000)) : t.airedMs != null ? Math.round(t.airedMs / 1000) : durationS;
  return { kind: 'airing-end', ...base, ok, airedS, reason: ok ? '' : cut(t.reason ?? t.state, 500) };
}
