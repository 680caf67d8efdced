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

/** The command could not be handed to the broker (an external broker down, a refused publish). */
export class RequestSendError extends Error {}

export class RequestCorrelator {
  private readonly pending = new Map<string, Pending>();

  /**
   * Sends a request with `send` and answers the box's answer. Rejects with RequestSendError when `send`
   * fails before the answer or the deadline, with RequestTimeoutError at the deadline (`send` may still be
   * under way: a broker that never acknowledges does not hold the caller past it).
   *
   * One promise, returned to the caller, carries every outcome. The answer's promise used to be handed out
   * before the publish and only awaited after it, so a failed or slow publish left it rejected with no
   * handler, and Node ended the server (issue 13, finding 11).
   */
  request(id: string, deviceId: string, timeoutMs: number, send: () => Promise<void>): Promise<Response> {
    return new Promise<Response>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestTimeoutError(`no answer from ${deviceId} within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      // Registered before the send: an answer can arrive before the publish call returns.
      this.pending.set(id, { deviceId, resolve, reject, timer });
      // A send that throws synchronously or rejects is handled here; after the answer or the deadline
      // the request is no longer pending and its failure changes nothing.
      Promise.resolve()
        .then(send)
        .catch((err: unknown) => this.cancel(id, new RequestSendError(`could not send to ${deviceId}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })));
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

  /** Rejects a pending request with `err` (nothing when it is already settled or past its deadline). */
  cancel(id: string, err: Error): void {
    const p = this.pending.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(id);
    p.reject(err);
  }

  /** Requests waiting for an answer. */
  get size(): number {
    return this.pending.size;
  }
}
