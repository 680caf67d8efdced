/**
 * How many bulletin audio jobs (download + decode + mastering) run at once (issue 17 review: every new BanTinId
 * started its own download of up to 64 MB and an ffmpeg, with no bound — a parent's loop or a leaked password
 * starved the server that must air an emergency in seconds, and filled the uploads disk). A few run per
 * parent and a few in all; a few more wait their turn; beyond that the caller refuses (503, send again later).
 */
export interface JobSlotLimits {
  /** Jobs running at once for one parent. */
  perPeer: number;
  /** Jobs running at once in all. */
  total: number;
  /** Jobs waiting for a slot, for one parent. */
  queuePerPeer: number;
  /** Jobs waiting for a slot, in all. */
  queueTotal: number;
}

export const DEFAULT_JOB_SLOTS: JobSlotLimits = { perPeer: 2, total: 4, queuePerPeer: 4, queueTotal: 16 };

/** A place taken: `ready` once the job may run; `release` when it ends (or to give up a place still waiting). Idempotent. */
export interface JobTicket {
  ready: Promise<void>;
  release(): void;
}

export class JobSlots {
  private runningTotal = 0;
  private readonly runningBy = new Map<string, number>();
  private readonly waiting: { key: string; grant: () => void }[] = [];

  constructor(private readonly limits: JobSlotLimits = DEFAULT_JOB_SLOTS) {}

  /** A ticket for a job of `key` (the parent), or null when too many run and wait already. */
  tryEnter(key: string): JobTicket | null {
    let granted = false;
    let released = false;
    const entry = { key, grant: () => undefined as void };
    const ready = new Promise<void>((resolve) => {
      entry.grant = () => {
        granted = true;
        resolve();
      };
    });
    if (this.canRun(key)) {
      this.start(key);
      entry.grant();
    } else {
      const queued = this.waiting.reduce((n, w) => n + (w.key === key ? 1 : 0), 0);
      if (queued >= this.limits.queuePerPeer || this.waiting.length >= this.limits.queueTotal) return null;
      this.waiting.push(entry);
    }
    return {
      ready,
      release: () => {
        if (released) return;
        released = true;
        if (granted) this.finish(key);
        else {
          const i = this.waiting.indexOf(entry);
          if (i >= 0) this.waiting.splice(i, 1);
        }
      },
    };
  }

  /** Jobs running now (for tests and logs). */
  get running(): number {
    return this.runningTotal;
  }

  private canRun(key: string): boolean {
    return this.runningTotal < this.limits.total && (this.runningBy.get(key) ?? 0) < this.limits.perPeer;
  }

  private start(key: string): void {
    this.runningTotal++;
    this.runningBy.set(key, (this.runningBy.get(key) ?? 0) + 1);
  }

  private finish(key: string): void {
    this.runningTotal--;
    const n = (this.runningBy.get(key) ?? 1) - 1;
    if (n <= 0) this.runningBy.delete(key);
    else this.runningBy.set(key, n);
    for (let i = 0; i < this.waiting.length; ) {
      const w = this.waiting[i]!;
      if (this.canRun(w.key)) {
        this.waiting.splice(i, 1);
        this.start(w.key);
        w.grant();
      } else i++;
    }
  }
}
