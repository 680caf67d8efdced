/**
 * HTTP to the province's source system (issue 17): log in for a token, send one encoded request, and say what
 * came of it. Every request goes with a timeout (LOAXA_NATIONAL_TIMEOUT_MS), reads at most
 * LOAXA_NATIONAL_MAX_ANSWER_BYTES of answer (a bigger one is an error, not read: a broken or hostile upstream
 * cannot fill our memory), and follows no redirect (a 3xx is an error: the province's URL is configured, and a
 * redirect to elsewhere would carry our token there).
 *
 * Outcomes: `accepted` (TrangThaiGui 0), `refused` (TrangThaiGui 1, or a 4xx other than 401/408/429: the message
 * is wrong and sending it again changes nothing), `failed` (network, timeout, 5xx, 3xx, an answer that is not
 * the mapping's answer form, a failed login: try again later). A 401 logs in again, once per request (CV 1273:
 * the token is renewed on 401).
 */
import { decodeAnswer, encodeLogin, readToken, NationalDecodeError, type EncodedRequest, type Mapping } from '@loaxa/shared';

export type SendOutcome = { kind: 'accepted'; answer: string } | { kind: 'refused'; answer: string; reason: string } | { kind: 'failed'; error: string; login?: boolean };

export interface UpstreamClientOptions {
  baseUrl: string;
  mapping: Mapping;
  username: string | undefined;
  password: string | undefined;
  timeoutMs: number;
  maxAnswerBytes: number;
}

class TransportError extends Error {}

interface RawAnswer {
  status: number;
  text: string;
}

export class UpstreamClient {
  private token: string | null = null;
  private tokenExpiresAt: number | null = null;
  /** Requests in flight, aborted by `close`. */
  private readonly inFlight = new Set<AbortController>();

  constructor(
    private readonly opts: UpstreamClientOptions,
    private readonly now: () => number = Date.now,
  ) {}

  get loggedIn(): boolean {
    return this.token !== null;
  }

  /** Aborts what is in flight (the server stops). */
  close(): void {
    for (const c of this.inFlight) c.abort(new TransportError('máy chủ đang dừng'));
  }

  async send(req: EncodedRequest): Promise<SendOutcome> {
    if (this.token !== null && this.tokenExpiresAt !== null && this.tokenExpiresAt <= this.now()) this.token = null;
    if (this.token === null) {
      const login = await this.login();
      if (login) return { kind: 'failed', error: login, login: true };
    }
    let raw: RawAnswer;
    try {
      raw = await this.request(req, this.token);
      if (raw.status === 401) {
        // Renewed on 401, once for this request: a province that refuses every new token is not looped on.
        this.token = null;
        const login = await this.login();
        if (login) return { kind: 'failed', error: login, login: true };
        raw = await this.request(req, this.token);
        if (raw.status === 401) {
          this.token = null;
          return { kind: 'failed', error: 'Tỉnh trả lời 401 (chưa xác thực) cả sau khi đăng nhập lại' };
        }
      }
    } catch (e) {
      return { kind: 'failed', error: describe(e) };
    }
    return this.outcome(raw);
  }

  private outcome(raw: RawAnswer): SendOutcome {
    const shown = raw.text.slice(0, 2000);
    let body: unknown;
    try {
      body = JSON.parse(raw.text);
    } catch {
      body = undefined;
    }
    let answer: ReturnType<typeof decodeAnswer> | null = null;
    try {
      answer = body === undefined ? null : decodeAnswer(this.opts.mapping, body);
    } catch (e) {
      if (!(e instanceof NationalDecodeError)) throw e;
    }
    if (raw.status >= 200 && raw.status < 300) {
      if (!answer) return { kind: 'failed', error: `Câu trả lời của tỉnh không đúng định dạng (HTTP ${raw.status}): ${shown.slice(0, 200)}` };
      return answer.ok ? { kind: 'accepted', answer: shown } : { kind: 'refused', answer: shown, reason: answer.message || 'Tỉnh từ chối (TrangThaiGui 1) không nêu lý do' };
    }
    // 408 and 429 say "later", not "wrong": tried again with the rest of the transient failures.
    if (raw.status >= 400 && raw.status < 500 && raw.status !== 408 && raw.status !== 429) {
      return { kind: 'refused', answer: shown, reason: answer?.message || `Tỉnh từ chối (HTTP ${raw.status})` };
    }
    return { kind: 'failed', error: `Tỉnh trả lời HTTP ${raw.status}${answer?.message ? `: ${answer.message}` : ''}` };
  }

  /** Logs in; answers null on success, else why (in Vietnamese, for the admin). */
  private async login(): Promise<string | null> {
    const { username, password, mapping } = this.opts;
    if (!username || !password) return 'Chưa cấu hình tài khoản đăng nhập (LOAXA_NATIONAL_USER, LOAXA_NATIONAL_PASSWORD)';
    try {
      const raw = await this.request(encodeLogin(mapping, { username, password }), null);
      if (raw.status < 200 || raw.status >= 300) return `Đăng nhập thất bại: tỉnh trả lời HTTP ${raw.status}`;
      let body: unknown;
      try {
        body = JSON.parse(raw.text);
      } catch {
        return 'Đăng nhập thất bại: câu trả lời không phải JSON';
      }
      const t = readToken(mapping, body);
      this.token = t.token;
      this.tokenExpiresAt = t.expiresAt;
      return null;
    } catch (e) {
      return `Đăng nhập thất bại: ${describe(e)}`;
    }
  }

  private async request(req: EncodedRequest | { method: 'POST'; path: string; body: unknown }, token: string | null): Promise<RawAnswer> {
    const { mapping, timeoutMs, maxAnswerBytes } = this.opts;
    const controller = new AbortController();
    this.inFlight.add(controller);
    // The timeout covers the whole exchange, answer included: a province trickling its answer is as slow as a silent one.
    const timer = setTimeout(() => controller.abort(new TransportError(`Quá thời gian chờ (${timeoutMs} ms)`)), timeoutMs);
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
      if (token !== null) headers[mapping.login.header.toLowerCase()] = mapping.login.scheme ? `${mapping.login.scheme} ${token}` : token;
      const res = await fetch(this.opts.baseUrl + req.path, { method: req.method, headers, body: JSON.stringify(req.body), redirect: 'manual', signal: controller.signal });
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel().catch(() => undefined);
        throw new TransportError(`Tỉnh trả lời chuyển hướng HTTP ${res.status} (không đi theo)`);
      }
      const declared = Number(res.headers.get('content-length'));
      if (Number.isFinite(declared) && declared > maxAnswerBytes) {
        await res.body?.cancel().catch(() => undefined);
        throw new TransportError(`Câu trả lời quá lớn (${declared} byte, tối đa ${maxAnswerBytes}); không đọc`);
      }
      return { status: res.status, text: await readBounded(res, maxAnswerBytes) };
    } catch (e) {
      if (controller.signal.aborted && controller.signal.reason instanceof TransportError) throw controller.signal.reason;
      throw e;
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(controller);
    }
  }
}

/** The answer's text, or an error as soon as it passes `max` bytes (the rest is not read). */
async function readBounded(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw new TransportError(`Câu trả lời quá lớn (hơn ${max} byte); không đọc`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function describe(e: unknown): string {
  if (e instanceof TransportError || e instanceof NationalDecodeError) return e.message;
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `Không kết nối được tới tỉnh (${cause.code})`;
  return `Không kết nối được tới tỉnh (${e instanceof Error ? e.message : String(e)})`;
}
