/**
 * What children report up to a Loa Xã source system (issue 17): box statuses every 30 s and play logs (an
 * airing's start, then its completion or failure). A child may report only boxes of its own areas (the peer's
 * `areaCodes`): a report naming another area is refused with the reason and nothing is stored, so one child
 * cannot paint another's coverage.
 */
import type { UpstreamEvent } from '@loaxa/shared';
import type { AreaRepository } from '../../repos/areas.js';
import type { NationalChildRepository } from '../../repos/national-children.js';
import type { NationalPeerRecord } from '../../repos/national-peers.js';

export interface ReportOutcome {
  status: number;
  ok: boolean;
  message: string;
}

export class ChildReports {
  constructor(
    private readonly deps: {
      areas: AreaRepository;
      children: NationalChildRepository;
      /** Called with a child's ack of a bulletin we sent down (kept in the inbound log; the sender shows it). */
      onAck?: ((peer: NationalPeerRecord, ack: { bulletinId: string; accepted: boolean; detail: string }) => void) | undefined;
      now?: () => number;
    },
  ) {}

  /** Why `peer` may not report a box in `code`, or null. */
  private areaRefusal(peer: NationalPeerRecord, code: string): string | null {
    const area = this.deps.areas.get(code);
    if (!area) return `Địa bàn ${code} (DichID) không có trong danh mục địa bàn`;
    const up = this.deps.areas.ancestry(code);
    if (!peer.areaCodes.some((c) => up.includes(c))) return `Địa bàn ${code} (DichID) nằm ngoài địa bàn của hệ thống này`;
    return null;
  }

  handle(peer: NationalPeerRecord, e: UpstreamEvent): ReportOutcome {
    if (peer.role !== 'child') return { status: 403, ok: false, message: 'Hệ thống cấp trên không gửi báo cáo lên đây' };
    if (e.source.id !== peer.sourceId) return { status: 403, ok: false, message: `NguonID ${e.source.id} không phải của hệ thống này (${peer.sourceId})` };
    const now = this.deps.now?.() ?? Date.now();
    switch (e.kind) {
      case 'box-status': {
        const why = this.areaRefusal(peer, e.box.area.code);
        if (why) return { status: 403, ok: false, message: why };
        this.deps.children.upsertBox({
          peerId: peer.id,
          nationalId: e.box.nationalId,
          name: e.box.name,
          areaCode: e.box.area.code,
          areaName: e.box.area.name,
          lat: e.lat,
          lon: e.lon,
          volume: e.volume,
          operating: e.operating,
          connection: e.connection,
          nowPlaying: e.nowPlaying,
          appVersion: e.appVersion,
          // A status from the future (a box's clock ahead) counts as heard now, not as heard for hours to come.
          lastStatusAt: Math.min(e.at, now),
        });
        return { status: 200, ok: true, message: 'Đã nhận trạng thái' };
      }
      case 'airing-start':
      case 'airing-end': {
        const why = this.areaRefusal(peer, e.box.area.code);
        if (why) return { status: 403, ok: false, message: why };
        const start = {
          peerId: peer.id,
          airingKey: e.airingId,
          bulletinId: e.bulletin.id,
          boxNationalId: e.box.nationalId,
          areaCode: e.box.area.code,
          title: e.bulletin.title,
          contentType: e.bulletin.contentType,
          priority: e.priority,
          relaySource: e.relay?.sourceName ?? null,
          startedAt: e.startedAt,
          receivedAt: now,
        };
        if (e.kind === 'airing-start') {
          this.deps.children.airingStarted(start);
          return { status: 200, ok: true, message: 'Đã nhận nhật ký phát' };
        }
        const paired = this.deps.children.airingEnded({ ...start, endedAt: e.at, ok: e.ok, airedS: e.airedS });
        return { status: 200, ok: true, message: paired === 'alone' ? 'Đã nhận kết quả phát (không có nhật ký bắt đầu)' : 'Đã nhận kết quả phát' };
      }
      case 'schedule-ack':
        this.deps.onAck?.(peer, { bulletinId: e.bulletinId, accepted: e.accepted, detail: e.detail });
        return { status: 200, ok: true, message: 'Đã nhận xác nhận' };
    }
  }
}
