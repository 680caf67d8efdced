/**
 * Counts malformed messages per device in a sliding minute. A box (or someone holding its credentials) that
 * floods the server with garbage is cut off once it passes the limit, instead of costing every other box
 * CPU and log space: the broker drops its connections, and the box is refused at connect for a fixed penalty.
 * A penalty rather than the minute itself: a box flooding at a steady pace just over the limit was under it again
 * as soon as its oldest message aged out, and was let back in 0.8 s after the cut (issue 13 finding 7).
 */
export class MisbehaviourMeter {
  private readonly hits = new Map<string, number[]>();
  /** Device → when its penalty ends. */
  private readonly penalties = new Map<string, number>();

  constructor(private readonly opts: { limitPerMinute: number; penaltyMs: number; now?: () => number }) {}

  /** Records one malformed message; answers true when the device is over the limit (and so in its penalty). */
  record(deviceId: string): boolean {
    // Messages still arriving from a box in its penalty (sent before the cut) keep it out but do not lengthen
    // the penalty, so when it ends stays predictable for whoever looks after the box.
    if (this.over(deviceId)) return true;
    const now = (this.opts.now ?? Date.now)();
    let list = this.hits.get(deviceId);
    if (!list) this.hits.set(deviceId, (list = []));
    while (list.length && now - list[0]! > 60_000) list.shift();
    list.push(now);
    if (this.hits.size > 50_000) for (const [k, v] of this.hits) if (!v.length || now - v.at(-1)! > 60_000) this.hits.delete(k);
    if (list.length <= this.opts.limitPerMinute) return false;
    // After the penalty the box starts with a fresh budget, not with the flood that put it out.
    this.hits.delete(deviceId);
    this.penalties.set(deviceId, now + this.opts.penaltyMs);
    if (this.penalties.size > 50_000) for (const [k, until] of this.penalties) if (until <= now) this.penalties.delete(k);
    return true;
  }

  /** Whether the device is in its penalty right now (it is refused at connect until the penalty ends). */
  over(deviceId: string): boolean {
    const until = this.penalties.get(deviceId);
    if (until === undefined) return false;
    if ((this.opts.now ?? Date.now)() < until) return true;
    this.penalties.delete(deviceId);
    return false;
  }
}
