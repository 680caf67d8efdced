/**
 * Counts malformed messages per device in a sliding minute. A box (or someone holding its credentials) that
 * floods the server with garbage is cut off once it passes the limit, instead of costing every other box
 * CPU and log space: the broker drops its connection, and its reconnects are throttled by the same count.
 */
export class MisbehaviourMeter {
  private readonly hits = new Map<string, number[]>();

  constructor(private readonly opts: { limitPerMinute: number; now?: () => number }) {}

  /** Records one malformed message; answers true when the device is over the limit. */
  record(deviceId: string): boolean {
    const now = (this.opts.now ?? Date.now)();
    let list = this.hits.get(deviceId);
    if (!list) this.hits.set(deviceId, (list = []));
    while (list.length && now - list[0]! > 60_000) list.shift();
    list.push(now);
    if (this.hits.size > 50_000) for (const [k, v] of this.hits) if (!v.length || now - v.at(-1)! > 60_000) this.hits.delete(k);
    return list.length > this.opts.limitPerMinute;
  }

  /** Whether the device is over the limit right now (it is refused at connect until it calms down). */
  over(deviceId: string): boolean {
    const now = (this.opts.now ?? Date.now)();
    const list = this.hits.get(deviceId);
    return !!list && list.filter((t) => now - t <= 60_000).length > this.opts.limitPerMinute;
  }
}
