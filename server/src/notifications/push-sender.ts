/**
 * Sends one Web Push message: encrypted for the browser (RFC 8291, `aes128gcm`) and signed for the push service
 * (RFC 8292 VAPID) by the `web-push` package, then POSTed here to the endpoint the browser gave (RFC 8030).
 *
 * The endpoint is a URL a browser sent to the server, and the server posts to it: a forged subscription naming
 * `http://127.0.0.1:…` or `http://169.254.169.254/…` would have the server probe its own host or a cloud's
 * metadata service (server-side request forgery, as issue 15's review found for live sources). So an endpoint
 * must be https on a public address, resolved once and connected to that address only (the relay's address
 * guard, relay/address-guard.ts, as guarded-fetch.ts does), and no redirect is followed. Tests allow plain
 * http to loopback (LOAXA_PUSH_ALLOW_LOOPBACK) for their push-service stand-in; nothing else is let through.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import webpush from 'web-push';
import { StreamAddressGuard } from '../relay/address-guard.js';
import type { VapidKeys } from './vapid.js';

export type PushOutcome = { ok: true; status: number } | { ok: false; gone: boolean; status: number | null; reason: string };

export interface PushTarget {
  endpoint: string;
  p256dh: string;
  auth: string;
}

const LOOPBACK = ['127.0.0.0/8', '::1'];
/** A push service answers within seconds; one that does not is not waited for (the in-app list has it anyway). */
const PUSH_TIMEOUT_MS = 10_000;
/** RFC 8030 §5.2: how long the push service keeps a message for an offline browser. A notice older than a day is stale. */
export const PUSH_TTL_SECONDS = 86_400;

export class PushSender {
  private readonly guard: StreamAddressGuard;

  constructor(
    private readonly opts: {
      keys: VapidKeys;
      /** RFC 8292 §2.1 `sub`: a mailto: or https: contact for the push service's operator. */
      subject: string;
      /** LOAXA_PUSH_ALLOW_LOOPBACK: http endpoints on loopback accepted (tests' stand-in only). */
      allowLoopback: boolean;
      lookup?: ConstructorParameters<typeof StreamAddressGuard>[1];
    },
  ) {
    this.guard = new StreamAddressGuard(opts.allowLoopback ? LOOPBACK : [], opts.lookup);
  }

  /** Why the server would not post to this endpoint (Vietnamese, for the subscribing user), or null. */
  async refusal(endpoint: string): Promise<string | null> {
    try {
      await this.target(endpoint);
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  }

  private async target(endpoint: string): Promise<{ url: URL; pinned: Array<{ address: string; family: 4 | 6 }> }> {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new Error('Địa chỉ nhận thông báo đẩy không hợp lệ.');
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.opts.allowLoopback)) throw new Error('Địa chỉ nhận thông báo đẩy phải dùng https.');
    if (url.username || url.password) throw new Error('Địa chỉ nhận thông báo đẩy không được chứa tên đăng nhập.');
    let pinned;
    try {
      pinned = await this.guard.checkedAddresses(url.hostname);
    } catch {
      throw new Error('Máy chủ không gửi thông báo đẩy tới địa chỉ nội bộ hoặc không tra được.');
    }
    // Plain http only to the loopback stand-in, never to a public host even when the test setting is on.
    if (url.protocol === 'http:' && !pinned.every((p) => p.address === '::1' || (isIP(p.address) === 4 && p.address.startsWith('127.')))) {
      throw new Error('Địa chỉ nhận thông báo đẩy phải dùng https.');
    }
    return { url, pinned };
  }

  async send(sub: PushTarget, payload: string, urgency: 'normal' | 'high' = 'normal'): Promise<PushOutcome> {
    let target;
    try {
      target = await this.target(sub.endpoint);
    } catch (err) {
      return { ok: false, gone: false, status: null, reason: (err as Error).message };
    }
    const details = webpush.generateRequestDetails({ endpoint: sub.endpoint, keys: { p256dh: sub.p256dh, auth: sub.auth } }, payload, {
      vapidDetails: { subject: this.opts.subject, publicKey: this.opts.keys.publicKey, privateKey: this.opts.keys.privateKey },
      TTL: PUSH_TTL_SECONDS,
      contentEncoding: 'aes128gcm',
      urgency,
    });
    const { pinned, url } = target;
    const lookup: LookupFunction = (_hostname, options, callback) => {
      const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
      const wanted = pinned.filter((p) => !family || family === p.family);
      const list = wanted.length > 0 ? wanted : pinned;
      if (options.all) callback(null, list);
      else callback(null, list[0]!.address, list[0]!.family);
    };
    const body = details.body as Buffer | null;
    const headers: Record<string, string | number> = { ...(details.headers as Record<string, string | number>), 'content-length': body?.length ?? 0 };
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<PushOutcome>((resolve) => {
      const req = request(url, { method: 'POST', headers, lookup, agent: false, signal: AbortSignal.timeout(PUSH_TIMEOUT_MS) }, (res) => {
        const status = res.statusCode ?? 0;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (text.length < 500) text += c;
        });
        res.on('end', () => {
          // RFC 8030 §6.2 (201 Created); some services answer 200/202.
          if (status >= 200 && status < 300) resolve({ ok: true, status });
          // RFC 8030 §7.3: 404/410, the subscription has expired or was unsubscribed: never send to it again.
          else resolve({ ok: false, gone: status === 404 || status === 410, status, reason: `${status} ${text.slice(0, 200)}` });
        });
        res.on('error', (err) => resolve({ ok: false, gone: false, status, reason: err.message }));
      });
      req.on('error', (err) => resolve({ ok: false, gone: false, status: null, reason: err.message }));
      req.end(body ?? undefined);
    });
  }
}
