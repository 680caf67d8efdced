/**
 * Notifications (issue 20): fed from the event bus — a broadcast submitted or decided (the broadcast service), a
 * box's fault (device ingest), a coverage snapshot (the coverage service) — each becomes one row per recipient
 * (the header's badge and /thong-bao), then a Web Push to each of their browsers and an e-mail, as each user
 * chose per kind. The row is written at once; push and e-mail go after, in the background, so a slow push
 * service or SMTP server never holds up an approval or a box's report. A failure there is logged and the
 * in-app notification stays.
 */
import type { Logger } from 'pino';
import { BLOCKING_FAULTS, playsAtOnce, type NotificationKind } from '@loaxa/shared';
import type { ServerEvents, ServerEventMap } from '../services/events.js';
import type { AreaRepository } from '../repos/areas.js';
import type { DeviceRepository } from '../repos/devices.js';
import type { FaultRepository } from '../repos/faults.js';
import type { BroadcastRepository } from '../repos/broadcasts.js';
import type { BulletinRepository } from '../repos/bulletins.js';
import type { NotificationRepository, NotificationRow, Recipient } from './repo.js';
import type { PushSender } from './push-sender.js';
import type { Mailer } from './mailer.js';
import { approvalWaiting, boxFault, coverageDrop, decided, emailOf, type NotificationText } from './messages.js';
import { approversOf, communeUsersOf, coverageUsersOf } from './recipients.js';
import { communeShares, CoverageWatch, type BoxRow } from './coverage-watch.js';

export interface NotificationDeps {
  repo: NotificationRepository;
  areas: Pick<AreaRepository, 'get' | 'ancestry' | 'all'>;
  devices: Pick<DeviceRepository, 'get' | 'coverageRows'>;
  faults: Pick<FaultRepository, 'openByDevice'>;
  broadcasts: Pick<BroadcastRepository, 'get'>;
  bulletins: Pick<BulletinRepository, 'get'>;
  events: ServerEvents;
  push: PushSender | null;
  mail: Mailer | null;
  /** The app's address for e-mail links (LOAXA_PUBLIC_URL, else where the server listens). */
  base: () => string;
  coverageThresholdPct: number;
  logger: Logger;
  now?: () => number;
}

export class NotificationService {
  private readonly pending = new Set<Promise<void>>();
  private readonly watch: CoverageWatch;
  private readonly listeners: { [K in 'broadcast' | 'device' | 'coverage']: (...a: ServerEventMap[K]) => void };
  private readonly now: () => number;

  constructor(private readonly deps: NotificationDeps) {
    this.watch = new CoverageWatch(deps.coverageThresholdPct);
    this.now = deps.now ?? Date.now;
    // A listener never throws into the emitter: the approval or the box's report that emitted goes on.
    const guard =
      <A extends unknown[]>(what: string, fn: (...a: A) => void) =>
      (...a: A) => {
        try {
          fn(...a);
        } catch (err) {
          deps.logger.error({ err, event: what }, 'notification not made');
        }
      };
    this.listeners = {
      broadcast: guard('broadcast', (e) => this.onBroadcast(e)),
      device: guard('device', (e) => this.onDevice(e)),
      coverage: guard('coverage', (e) => this.onCoverage(e.at)),
    };
  }

  start(): void {
    this.deps.events.on('broadcast', this.listeners.broadcast);
    this.deps.events.on('device', this.listeners.device);
    this.deps.events.on('coverage', this.listeners.coverage);
  }

  async stop(): Promise<void> {
    this.deps.events.off('broadcast', this.listeners.broadcast);
    this.deps.events.off('device', this.listeners.device);
    this.deps.events.off('coverage', this.listeners.coverage);
    await this.idle();
    this.deps.mail?.close();
  }

  /** Resolves when every push and e-mail under way has been sent or has failed (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private onBroadcast(e: ServerEventMap['broadcast'][0]): void {
    const b = this.deps.broadcasts.get(e.broadcastId);
    if (!b) return;
    const title = this.deps.bulletins.get(b.bulletinId)?.title ?? 'Bản tin';
    const users = this.deps.repo.recipients();
    const nameOf = (id: string | null) => users.find((u) => u.id === id)?.username ?? 'Một người dùng';
    if (e.status === 'submitted') {
      const ancestries: string[][] = [];
      const names: string[] = [];
      for (const code of b.target.areaCodes ?? []) {
        ancestries.push(this.deps.areas.ancestry(code));
        names.push(this.deps.areas.get(code)?.name ?? code);
      }
      for (const id of b.target.deviceIds ?? []) {
        const d = this.deps.devices.get(id);
        // A box nobody can place: only those covering the whole installation may decide it.
        ancestries.push(d ? this.deps.areas.ancestry(d.areaCode) : []);
      }
      const boxes = b.target.deviceIds?.length ?? 0;
      if (boxes > 0) names.push(`${boxes} cụm loa`);
      const where = names.length > 3 ? `${names.slice(0, 3).join(', ')} và ${names.length - 3} nơi khác` : names.join(', ');
      const to = approversOf(users, ancestries, b.createdBy ?? '');
      this.deliver(to, approvalWaiting({ broadcastId: b.id, title, author: nameOf(b.createdBy), where, startAt: b.startAt, emergency: playsAtOnce(b.priority) }), b.id);
      return;
    }
    // Decided or withdrawn: nothing waits any more, so no approver's badge keeps counting it.
    this.deps.repo.settle('approval', b.id, this.now());
    if (e.status === 'withdrawn') return;
    // The author decided their own (an approver's edit): nobody to tell.
    if (!b.createdBy || b.createdBy === e.by) return;
    const author = users.filter((u) => u.id === b.createdBy);
    this.deliver(author, decided({ broadcastId: b.id, title, approver: nameOf(e.by), approved: e.status === 'approved', reason: e.reason }));
  }

  private onDevice(e: ServerEventMap['device'][0]): void {
    const f = e.fault;
    // Only the start of a fault that stops the box airing (domain/coverage.ts BLOCKING_FAULTS); a full disk or a
    // drifting clock is for the box page, not a push at night.
    if (!f?.active || !(BLOCKING_FAULTS as readonly string[]).includes(f.kind)) return;
    const d = this.deps.devices.get(e.deviceId);
    if (!d) return;
    const ancestry = this.deps.areas.ancestry(d.areaCode);
    const commune = ancestry.find((c) => this.deps.areas.get(c)?.level === 'commune') ?? null;
    const to = communeUsersOf(this.deps.repo.recipients(), ancestry, commune);
    const areaName = this.deps.areas.get(commune ?? d.areaCode)?.name ?? '';
    this.deliver(to, boxFault({ deviceName: d.name, areaName, fault: f.kind, at: f.at }));
  }

  private onCoverage(at: number): void {
    const areas = this.deps.areas.all();
    const byCode = new Map(areas.map((a) => [a.code, a]));
    const communeOf = (code: string): string | null => {
      let a = byCode.get(code);
      for (let i = 0; a && i < 8; i++) {
        if (a.level === 'commune') return a.code;
        a = a.parentCode ? byCode.get(a.parentCode) : undefined;
      }
      return null;
    };
    const faults = this.deps.faults.openByDevice();
    const boxes: BoxRow[] = [];
    for (const d of this.deps.devices.coverageRows(areas.map((a) => a.code))) {
      const communeCode = communeOf(d.areaCode);
      if (communeCode) boxes.push({ communeCode, lastSeenAt: d.lastSeenAt, openFaults: faults.get(d.id) ?? [] });
    }
    const drops = this.watch.drops(communeShares(boxes, at));
    if (drops.length === 0) return;
    const users = this.deps.repo.recipients();
    for (const drop of drops) {
      const ancestry = this.deps.areas.ancestry(drop.communeCode);
      const province = ancestry.find((c) => byCode.get(c)?.level === 'province') ?? null;
      const to = coverageUsersOf(users, drop.communeCode, province);
      this.deliver(to, coverageDrop({ communeName: byCode.get(drop.communeCode)?.name ?? drop.communeCode, working: drop.working, total: drop.total, thresholdPct: this.deps.coverageThresholdPct }));
    }
  }

  /** Writes the notification for each recipient, then sends its push and e-mail in the background. */
  deliver(to: readonly Recipient[], text: NotificationText, ref: string | null = null): NotificationRow[] {
    if (to.length === 0) return [];
    const rows = this.deps.repo.insert(
      to.map((u) => u.id),
      text,
      this.now(),
      ref,
    );
    for (const row of rows) this.track(this.send(row, text.kind));
    return rows;
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private async send(row: NotificationRow, kind: NotificationKind): Promise<void> {
    const prefs = this.deps.repo.preferences(row.userId);
    const choice = prefs.channels[kind];
    const log = this.deps.logger.child({ module: 'notifications', userId: row.userId, notificationId: row.id });
    const jobs: Promise<void>[] = [];
    const push = this.deps.push;
    if (push && choice.push) {
      // What the service worker shows (web/public/sw.js): the same words as the list, and where a tap leads.
      const payload = JSON.stringify({ title: row.title, body: row.body, url: row.link, tag: `loaxa-${row.id}` });
      for (const sub of this.deps.repo.subscriptions(row.userId)) {
        jobs.push(
          push.send(sub, payload, kind === 'fault' || kind === 'coverage' ? 'high' : 'normal').then((out) => {
            if (out.ok) this.deps.repo.pushed(sub.endpoint, this.now());
            else if (out.gone) {
              // RFC 8030 §7.3: the browser unsubscribed or the subscription expired.
              this.deps.repo.dropSubscription(sub.endpoint);
              log.info({ status: out.status }, 'push subscription gone; removed');
            } else log.warn({ status: out.status, reason: out.reason }, 'push not delivered');
          }),
        );
      }
    }
    const mail = this.deps.mail;
    if (mail && choice.email && prefs.email) {
      const m = emailOf(row, this.deps.base());
      jobs.push(mail.send({ to: prefs.email, ...m }).catch((err: unknown) => log.warn({ err }, 'notification e-mail not sent')));
    }
    await Promise.all(jobs);
  }
}
