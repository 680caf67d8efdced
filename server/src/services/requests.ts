/**
 * Request/response over MQTT (STYLE.md, after FlowFuse): a command goes out on the device's `cmd` topic with
 * an id and an expiry; the answer comes back on `res` with `re` = that id. Pending requests are settled by
 * the answer, or rejected at their deadline and forgotten, so nothing leaks when a box never answers.
 */
import type { Response } from '@loaxa/shared';

interface Pending {
  deviceId: string;
  resolve(r: Response): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class RequestTimeoutError extends Error {}

export class RequestCorrelator {
  private readonly pending = new Map<string, Pending>();

  /** Registers a request before it is sent; the promise settles with the answer or at the deadline. */
  expect(id: string, deviceId: string, timeoutMs: number): Promise<Response> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestTimeoutError(`no answer from ${deviceId} within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.pending.set(id, { deviceId, resolve, reject, timer });
    });
  }

  /** Settles a request with its answer; an answer from another device than the one asked is ignored. */
  settle(deviceId: string, res: Response): boolean {
    const p = this.pending.get(res.re);
    if (!p || p.deviceId !== deviceId) return false;
    clearTimeout(p.timer);
    this.pending.delete(res.re);
    p.resolve(res);
    return true;
  }

  cancel(id: string, err: Error): void {
    const p = this.pending.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(id);
    p.reject(err);
  }
}
