/**
 * Talks to a child's served interface (issue 17): logs in at its base URL with the mapping's login, keeps the
 * token, sends a request in the child's vocabulary and reads its answer. Renewed on 401 (the vocabulary's rule),
 * once per request. The child is a configured URL, but its answers are still hostile input: a timeout on every
 * request, a bound on the bytes read, no redirect followed (a 3xx is reported, not obeyed), and an answer that
 * does not read as the mapping's answer form is reported as such.
 */
import { decodeAnswer, encodeLogin, readToken, NationalDecodeError, type EncodedRequest, type Mapping, type NationalAnswer } from '@loaxa/shared';

export interface ChildCallResult {
  /** null when no HTTP answer came (refused connection, timeout). */
  httpStatus: number | null;
  answer: NationalAnswer | null;
  /** Why it failed, when it did (no answer, an unreadable one, a refused login). */
  error: string | null;
}

export interface ChildClientOptions {
  baseUrl: string;
  mapping: Mapping;
  username: string;
  password: string;
  timeoutMs: number;
  maxAnswerBytes: number;
}

class CallError extends Error {
  constructor(
    message: string,
    /** The HTTP status when one came (an answer too big or not JSON still had one). */
    readonly status: number | null = null,
  ) {
    super(message);
  }
}

/** Reads at most `max` bytes of a body; more is an error (a hostile or broken server). */
async function boundedJson(res: Response, max: number): Promise<unknown> {
  if (!res.body) return null;
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.byteLength;
    if (n > max) {
      await reader.cancel().catch(() => undefined);
      throw new CallError(`câu trả lời quá lớn (hơn ${max} byte)`);
    }
    parts.push(value);
  }
  const text = Buffer.concat(parts).toString('utf8');
  if (!text.trim()) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CallError(`câu trả lời không phải JSON (HTTP ${res.status})`);
  }
}

export class ChildClient {
  private token: string | null = null;

  constructor(private readonly opts: ChildClientOptions) {}

  private url(path: string): string {
    return `${this.opts.baseUrl.replace(/\/+$/, '')}${path}`;
  }

  private async call(req: EncodedRequest, token: string | null): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', accept: 'application/json' };
    if (token) headers[this.opts.mapping.login.header.toLowerCase()] = this.opts.mapping.login.scheme ? `${this.opts.mapping.login.scheme} ${token}` : token;
    const signal = AbortSignal.timeout(this.opts.timeoutMs);
    let res: Response;
    try {
      res = await fetch(this.url(req.path), { method: req.method, headers, body: JSON.stringify(req.body), redirect: 'manual', signal });
    } catch (err) {
      throw new CallError(signal.aborted ? `không trả lời trong ${this.opts.timeoutMs} ms` : `không kết nối được: ${(err as Error).message}`);
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel().catch(() => undefined);
      throw new CallError(`chuyển hướng HTTP ${res.status} tới ${res.headers.get('location')?.slice(0, 200) ?? '?'} (không theo)`);
    }
    try {
      return { status: res.status, body: await boundedJson(res, this.opts.maxAnswerBytes) };
    } catch (err) {
      if (err instanceof CallError) throw new CallError(err.message, res.status);
      throw new CallError(signal.aborted ? `không trả lời hết trong ${this.opts.timeoutMs} ms` : `đọc câu trả lời lỗi: ${(err as Error).message}`, res.status);
    }
  }

  private async login(): Promise<string> {
    const r = await this.call(encodeLogin(this.opts.mapping, { username: this.opts.username, password: this.opts.password }), null);
    try {
      return readToken(this.opts.mapping, r.body).token;
    } catch (err) {
      if (err instanceof NationalDecodeError) throw new CallError(`đăng nhập không được (HTTP ${r.status}): ${err.message}`);
      throw err;
    }
  }

  /** Sends one request (logging in first when needed, once more on 401); never throws. */
  async send(req: EncodedRequest): Promise<ChildCallResult> {
    try {
      let fresh = false;
      if (!this.token) {
        this.token = await this.login();
        fresh = true;
      }
      let r = await this.call(req, this.token);
      if (r.status === 401 && !fresh) {
        this.token = await this.login();
        r = await this.call(req, this.token);
      }
      if (r.status === 401) this.token = null;
      try {
        return { httpStatus: r.status, answer: decodeAnswer(this.opts.mapping, r.body), error: null };
      } catch (err) {
        if (err instanceof NationalDecodeError) return { httpStatus: r.status, answer: null, error: `câu trả lời không đúng dạng: ${err.message}` };
        throw err;
      }
    } catch (err) {
      if (err instanceof CallError) return { httpStatus: err.status, answer: null, error: err.message };
      return { httpStatus: null, answer: null, error: `lỗi: ${(err as Error).message}` };
    }
  }
}
