// One bounded HTTP exchange for the cloud TTS adapters. The timeout covers everything up to the last body
// byte (a provider that sends headers and then stalls is as stuck as one that never answers), and the body
// is capped, so a misbehaving endpoint can neither hang a bulletin nor fill the server's memory.

import { TtsError, TtsRateLimitError, TtsTimeoutError } from './tts-errors.js';

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer | URLSearchParams;
}

export interface HttpAnswer {
  status: number;
  contentType: string;
  headers: Headers;
  body: Buffer;
}

export interface HttpCallOptions {
  engine: string;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Default 64 MiB: ten minutes of 48 kHz WAV, far above any sentence. */
  maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

export async function httpCall(req: HttpRequest, opts: HttpCallOptions): Promise<HttpAnswer> {
  const { engine, timeoutMs, signal, maxBytes = DEFAULT_MAX_BYTES } = opts;
  const host = new URL(req.url).host;
  const timeout = AbortSignal.timeout(timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  try {
    const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body, signal: combined, redirect: 'follow' });
    const body = await readCapped(res, maxBytes, engine, host);
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', headers: res.headers, body };
  } catch (err) {
    if (signal?.aborted) throw abortReason(signal);
    if (timeout.aborted) throw new TtsTimeoutError(engine, `no complete answer from ${host} within ${timeoutMs} ms`);
    if (err instanceof TtsError) throw err;
    const detail = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
    throw new TtsError(engine, 'http', `cannot reach ${host}: ${detail}`, { cause: err });
  }
}

/** Turns an HTTP error status into the matching TtsError; `what` names the step ("synthesis request"). */
export function assertOk(answer: HttpAnswer, engine: string, what: string): void {
  const { status } = answer;
  if (status >= 200 && status < 300) return;
  const detail = snippet(answer.body);
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(answer.headers.get('retry-after'));
    const wait = retryAfterMs === undefined ? '' : `, retry after ${Math.ceil(retryAfterMs / 1000)} s`;
    throw new TtsRateLimitError(engine, `rate limited (HTTP 429) on ${what}${wait}`, { status, retryAfterMs });
  }
  if (status === 401 || status === 403) {
    throw new TtsError(engine, 'config', `${what} refused the credentials (HTTP ${status})${detail ? `: ${detail}` : ''}`, { status });
  }
  throw new TtsError(engine, 'http', `${what} failed with HTTP ${status}${detail ? `: ${detail}` : ''}`, { status });
}

/** A short, single-line excerpt of a provider's answer for error messages. */
export function snippet(body: Buffer): string {
  return body.subarray(0, 300).toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 200);
}

export function parseJson(answer: HttpAnswer, engine: string, what: string): unknown {
  try {
    return JSON.parse(answer.body.toString('utf8'));
  } catch {
    throw new TtsError(engine, 'provider', `${what} answered something that is not JSON: ${snippet(answer.body)}`);
  }
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

async function readCapped(res: Response, maxBytes: number, engine: string, host: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length'));
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new TtsError(engine, 'http', `${host} sent ${declared} bytes, more than the ${maxBytes}-byte limit`);
  }
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  const parts: Buffer[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new TtsError(engine, 'http', `${host} sent more than the ${maxBytes}-byte limit`);
    }
    parts.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  }
  return Buffer.concat(parts);
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const err = new Error('request aborted', { cause: reason });
  err.name = 'AbortError';
  return err;
}
