/**
 * An HTTP(S) GET that connects only to the address the address guard checked (issue 17 review: SSRF by DNS
 * rebinding). Checking a URL with `StreamAddressGuard.refusal` and then handing it to `fetch` resolves the
 * name twice: a hostile DNS server answers the check with a public address and the connect with 127.0.0.1 or
 * 169.254.169.254, and a name that does not resolve in time is let through for fetch to resolve itself. Here
 * the name is resolved once (`checkedAddresses`, which refuses a failed lookup and any private answer), the
 * socket is handed those addresses only (the request's `lookup`; Node tries each, as fetch does), and every redirect hop is checked and pinned the same way. The Host
 * header and TLS name stay the URL's, so virtual hosts and certificates work as with fetch.
 *
 * Callers: the downlink's audio fetch (national/downlink/fetch-audio.ts). Other code that fetches a URL an
 * admin or a peer gave should use it too (see the guard's notes on what ffmpeg opens).
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { StreamAddressGuard } from './address-guard.js';

export type GuardedFetchErrorKind = 'url' | 'scheme' | 'refused' | 'redirects' | 'network';

export class GuardedFetchError extends Error {
  constructor(
    readonly kind: GuardedFetchErrorKind,
    /** The host concerned (empty when the URL did not parse). */
    readonly host: string,
    message: string,
  ) {
    super(message);
  }
}

export interface GuardedGetOptions {
  guard: Pick<StreamAddressGuard, 'checkedAddresses'>;
  /** Ends the lookup, the connect and the body (a timeout for the whole download). */
  signal: AbortSignal;
  headers?: Record<string, string>;
  /** Redirects followed, each checked again; one more is an error. Default 3. */
  maxRedirects?: number;
}

export interface GuardedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body; the caller reads or destroys it. */
  body: IncomingMessage;
  /** The URL that answered (after redirects). */
  url: string;
}

/** GET `link`, following up to `maxRedirects` redirects, each to a checked address only. */
export async function guardedGet(link: string, opts: GuardedGetOptions): Promise<GuardedResponse> {
  const maxRedirects = opts.maxRedirects ?? 3;
  let url = link;
  for (let hop = 0; ; hop++) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new GuardedFetchError('url', '', 'not a URL');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new GuardedFetchError('scheme', u.host, `the scheme must be http or https, not ${u.protocol}`);
    const res = await requestPinned(u, opts);
    const location = res.headers.location;
    if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && location) {
      res.destroy();
      if (hop >= maxRedirects) throw new GuardedFetchError('redirects', u.host, 'too many redirects');
      try {
        url = new URL(location, url).toString();
      } catch {
        throw new GuardedFetchError('url', u.host, 'a redirect to something that is not a URL');
      }
      continue;
    }
    return { status: res.statusCode ?? 0, headers: res.headers, body: res, url };
  }
}

/** One request to `u`, its socket connected to the address the guard checked, and to no other. */
async function requestPinned(u: URL, opts: GuardedGetOptions): Promise<IncomingMessage> {
  const { signal } = opts;
  if (signal.aborted) throw new GuardedFetchError('network', u.host, 'timed out');
  let pinned: { address: string; family: 4 | 6 }[];
  try {
    // A slow resolver is bounded by the guard's own timeout and by the caller's signal; either refuses.
    pinned = await raceAbort(opts.guard.checkedAddresses(u.hostname), signal);
  } catch (err) {
    if (signal.aborted) throw new GuardedFetchError('network', u.host, 'timed out');
    throw new GuardedFetchError('refused', u.host, (err as Error).message);
  }
  // Node resolves a host name through this; an IP literal is not looked up (and is what was checked).
  const lookup: LookupFunction = (_hostname, options, callback) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
    const wanted = pinned.filter((p) => !family || family === p.family);
    const list = wanted.length > 0 ? wanted : pinned;
    if (options.all) callback(null, list);
    else callback(null, list[0]!.address, list[0]!.family);
  };
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(u, { method: 'GET', headers: opts.headers ?? {}, signal, lookup, agent: false }, resolve);
    req.on('error', (err) => reject(new GuardedFetchError('network', u.host, signal.aborted ? 'timed out' : err.message)));
    req.end();
  });
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
