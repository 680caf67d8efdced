/**
 * Loa Xã as the source system sending down (issue 17): a bulletin — one of ours, or a title with an audio link
 * — sent to chosen child peers (provinces under a central Loa Xã, commune systems under a province) with its
 * priority, schedule and receiving areas, each in the child's own vocabulary (`encodeDown` with its mapping),
 * after logging in at its base URL. Every child's answer is recorded (`national_sent`) and shown.
 *
 * The audio link must open for the child, which has no account here: a signed, expiring media link
 * (`/media/{sha256}?exp&u&sig`, http/media-links.ts) issued in the sender's name — that one file, until it
 * expires, nothing else. The child fetches it when the bulletin arrives.
 */
import type { Logger } from 'pino';
import { encodeDown, type DownBulletin, type NationalSendBody, type NationalSystem } from '@loaxa/shared';
import { newId } from '../../ids.js';
import type { BulletinRepository } from '../../repos/bulletins.js';
import type { NationalPeerRecord, NationalPeerRepository } from '../../repos/national-peers.js';
import type { NationalSentRecord, NationalSentRepository } from '../../repos/national-sent.js';
import type { PeerMappings } from '../served/mappings.js';
import { ChildClient } from './child-client.js';
import type { Sealer } from './seal.js';
import { localDate } from '../downlink/schedule.js';

const VN_OFFSET = '+07:00';

export class SendRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

export interface SenderDeps {
  peers: NationalPeerRepository;
  sent: NationalSentRepository;
  /** An area's code and its ancestors' (AreaRepository.ancestry): which of the send's areas lie in a child's. */
  ancestry: (code: string) => string[];
  bulletins: BulletinRepository;
  mappings: PeerMappings;
  sealer: Sealer;
  /** What we call ourselves to children (NguonID/TenNguon). */
  self: () => NationalSystem;
  timeoutMs: number;
  maxAnswerBytes: number;
  logger: Logger;
  now?: () => number;
}

/** The body as the route validated it (defaults applied). */
export type SendRequest = Omit<NationalSendBody, 'summary' | 'playMode' | 'schedule'> & {
  summary: string;
  playMode: 'scheduled' | 'now' | 'commune-decides';
  schedule?: { kind: 'daily' | 'weekly' | 'monthly' | 'dates'; starts: string[]; ends: string[]; days: number[]; from: string; until: string } | undefined;
};

const hms = (t: string) => (t.length === 5 ? `${t}:00` : t);

export class NationalSender {
  /** A client per child, keeping its token between sends (renewed on 401). */
  private readonly clients = new Map<string, { key: string; client: ChildClient }>();
  private readonly log: Logger;

  constructor(private readonly deps: SenderDeps) {
    this.log = deps.logger.child({ module: 'national-sender' });
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  /** The children a send names, each able to receive (a child with a base URL and a login), or a refusal. */
  private targets(peerIds: readonly string[]): NationalPeerRecord[] {
    return [...new Set(peerIds)].map((id, i) => {
      const p = this.deps.peers.get(id);
      if (!p || p.revokedAt !== null || p.role !== 'child') throw new SendRefusal(400, `không có hệ thống con ${id}`, `peerIds.${i}`);
      if (!p.baseUrl || !p.outUsername || !p.outPasswordSealed) throw new SendRefusal(400, `hệ thống con ${p.name} chưa có địa chỉ hoặc tài khoản để gửi xuống (baseUrl, outUsername, outPassword)`, `peerIds.${i}`);
      return p;
    });
  }

  private client(p: NationalPeerRecord): ChildClient {
    const password = this.deps.sealer.open(p.outPasswordSealed!);
    if (password === null) throw new Error('the stored password of this child cannot be read (the sealing key changed); enter it again');
    const key = `${p.baseUrl}\n${p.mapping}\n${p.outUsername}\n${p.outPasswordSealed}`;
    const hit = this.clients.get(p.id);
    if (hit?.key === key) return hit.client;
    const client = new ChildClient({ baseUrl: p.baseUrl!, mapping: this.deps.mappings.get(p.mapping), username: p.outUsername!, password, timeoutMs: this.deps.timeoutMs, maxAnswerBytes: this.deps.maxAnswerBytes });
    this.clients.set(p.id, { key, client });
    return client;
  }

  /**
   * Sends the bulletin to each child (in parallel: one slow child does not hold the others) and answers each
   * child's outcome. `audioLink` makes the fetchable link of one of our bulletins' audio.
   */
  async send(body: SendRequest, by: { userId: string; username: string }, audioLink: (sha256: string) => string): Promise<{ bulletinId: string; items: NationalSentRecord[] }> {
    const targets = this.targets(body.peerIds);
    const now = this.now();
    let title: string;
    let link: string;
    let durationS = 0;
    let category: DownBulletin['category'] = 'general';
    let upstreamId: string;
    let ours: string | null = null;
    let text = '';
    if (body.bulletinId) {
      const b = this.deps.bulletins.get(body.bulletinId);
      if (!b) throw new SendRefusal(400, `không có bản tin ${body.bulletinId}`, 'bulletinId');
      if (b.status !== 'ready' || !b.audioSha256) throw new SendRefusal(409, `bản tin ${b.id} chưa sẵn sàng (${b.status})`, 'bulletinId');
      if (b.source !== 'text' && b.source !== 'recording' && b.source !== 'live') throw new SendRefusal(400, `bản tin ${b.id} là ${b.source}, không có tệp âm thanh để gửi xuống`, 'bulletinId');
      title = b.title;
      text = b.text;
      // MP3 when we have it: every vendor's box plays it; otherwise our Opus (a Loa Xã child takes either).
      link = audioLink(b.mp3Sha256 ?? b.audioSha256);
      durationS = Math.round((b.durationMs ?? 0) / 1000);
      if (b.category) category = b.category as DownBulletin['category'];
      // Our bulletin's id is its BanTinId: sent again, it updates what the child has instead of airing twice.
      upstreamId = b.id;
      ours = b.id;
    } else {
      title = body.title!;
      link = body.audioUrl!;
      upstreamId = newId('nt');
    }
    const today = localDate(now);
    const s = body.schedule;
    const startDate = Date.parse(`${s?.from ?? today}T00:00:00${VN_OFFSET}`);
    const endDate = Date.parse(`${s?.until ?? today}T23:59:59${VN_OFFSET}`);
    const nowTime = new Date(now + 7 * 3600_000).toISOString().slice(11, 19);
    const self = this.deps.self();
    const cmd: DownBulletin = {
      kind: 'bulletin',
      source: self,
      bulletinId: upstreamId,
      title,
      category,
      // The checker refuses an empty NoiDungTomTat: the text's beginning, or the title, when the admin gave none.
      summary: body.summary.trim() || text.trim().slice(0, 500) || title,
      author: by.username,
      producedAt: now,
      durationS,
      priority: body.priority,
      playMode: body.playMode,
      startDate,
      endDate,
      schedule: s ? { kind: s.kind, starts: s.starts.map(hms), ends: s.ends.map(hms), days: s.days } : { kind: 'daily', starts: [nowTime], ends: [], days: [] },
      contentType: 'audio',
      link,
      createdBy: self.name || self.id,
      areaCodes: [],
    };
    const items = await Promise.all(
      targets.map((p) => {
        const areaCodes = this.areasFor(p, body.areaCodes);
        // Each child receives only its own areas: one send reaches several provinces (each refuses another's).
        if (!areaCodes.length) return Promise.resolve(this.notSent(p, cmd, ours, by.userId, `không có địa bàn nào được chọn thuộc ${p.name}`));
        return this.sendOne(p, { ...cmd, areaCodes }, ours, by.userId);
      }),
    );
    return { bulletinId: upstreamId, items };
  }

  /** The send's areas inside the child's (an area, or one of its ancestors, is the child's); all of the child's when none are given. */
  private areasFor(p: NationalPeerRecord, asked: readonly string[] | undefined): string[] {
    if (!asked) return [...p.areaCodes];
    const own = new Set(p.areaCodes);
    return asked.filter((code) => this.deps.ancestry(code).some((c) => own.has(c)));
  }

  private notSent(p: NationalPeerRecord, cmd: DownBulletin, ours: string | null, userId: string, detail: string): NationalSentRecord {
    const id = newId('ns');
    this.deps.sent.insert({ id, peerId: p.id, upstreamId: cmd.bulletinId, bulletinId: ours, title: cmd.title, priority: cmd.priority, commandJson: JSON.stringify(cmd), sentAt: this.now(), ok: false, detail, httpStatus: null, sentBy: userId });
    return this.deps.sent.get(id)!;
  }

  private async sendOne(p: NationalPeerRecord, cmd: DownBulletin, ours: string | null, userId: string): Promise<NationalSentRecord> {
    // Recorded before it goes: a Loa Xã child acks through its own link, and that ack may arrive before the answer.
    const id = newId('ns');
    this.deps.sent.insert({ id, peerId: p.id, upstreamId: cmd.bulletinId, bulletinId: ours, title: cmd.title, priority: cmd.priority, commandJson: JSON.stringify(cmd), sentAt: this.now(), ok: false, detail: 'đang gửi', httpStatus: null, sentBy: userId });
    let ok = false;
    let detail: string;
    let httpStatus: number | null = null;
    try {
      const r = await this.client(p).send(encodeDown(this.deps.mappings.get(p.mapping), cmd));
      httpStatus = r.httpStatus;
      ok = r.answer?.ok === true && r.httpStatus !== null && r.httpStatus < 300;
      detail = r.answer ? r.answer.message || (r.answer.ok ? 'đã nhận' : 'bị từ chối') : (r.error ?? 'không có câu trả lời');
    } catch (err) {
      detail = (err as Error).message;
    }
    this.deps.sent.answered(id, { ok, detail, httpStatus, at: this.now() });
    this.log.info({ peerId: p.id, upstreamId: cmd.bulletinId, ok, httpStatus }, 'bulletin sent down to a child');
    return this.deps.sent.get(id)!;
  }
}
