/**
 * A provincial source information system (*HTTT nguồn*, Decision 135/QĐ-TTg) stand-in for tests and for the
 * replay tool's own test (issue 17): an HTTP server on an ephemeral loopback port that behaves like a real one
 * as strictly as the published checker — token login, the token required as `Authorization: Bearer`, tokens
 * that expire (→ 401), every path validated field by field (`./variants.ts`), `{TrangThaiGui:1, MoTa:<every
 * problem>}` with HTTP 400 on a bad body — and records every request so a test can read what arrived.
 *
 * It can be switched to misbehave the ways real upstreams do (garbage, a 10 MB answer, slow or no answer, 500,
 * a dropped connection, refusing everything), and it can play the parent: log in to a child's served
 * interface and POST a message down (`sendDown`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import { checkMessage, VARIANTS, pathOf, type MessageKind, type VariantName, type VariantSpec } from './variants.js';
import type { Problem } from './rules.js';

export type Misbehaviour =
  | { kind: 'none' }
  /** 200 with a body that is not JSON. */
  | { kind: 'garbage' }
  /** 200 with a JSON-looking answer of `bytes` (10 MB by default), streamed. */
  | { kind: 'huge'; bytes?: number }
  /** Answers properly, after `ms`. */
  | { kind: 'slow'; ms: number }
  /** Reads the request and never answers (the socket stays open until the kit closes). */
  | { kind: 'hang' }
  | { kind: 'error500' }
  /** Destroys the connection without a byte of answer. */
  | { kind: 'drop' }
  /** A well-formed refusal of every message: `{TrangThaiGui:1}` with HTTP 200. */
  | { kind: 'refuse'; message?: string };

export interface KitRecord {
  at: number;
  method: string;
  path: string;
  kind: MessageKind | 'login' | null;
  /** The parsed JSON body (the raw text when it was not JSON). */
  body: unknown;
  /** Whether a valid token came with it (login: whether the credentials were right). */
  authorized: boolean;
  /** The checker's verdict; `problems` empty when accepted. */
  verdict: { ok: boolean; problems: Problem[] };
  /** The HTTP status answered ('none' when the kit misbehaved without answering). */
  status: number | 'none';
  misbehaved: Misbehaviour['kind'];
}

export interface KitOptions {
  variant?: VariantName;
  users?: Record<string, string>;
  /** How long a token lives; an expired one gets 401 (the link must log in again). */
  tokenTtlMs?: number;
  now?: () => number;
  /** Largest request body the kit reads (a real IIS default is 30 MB; ours is smaller). */
  maxBodyBytes?: number;
  /** Whether the misbehaviour also hits the login (off: login answers properly so the message itself meets it). */
  misbehaveOnLogin?: boolean;
}

export interface ProvinceKit {
  url: string;
  variant: VariantSpec;
  records: KitRecord[];
  /** Records of accepted messages of `kind`, in arrival order. */
  accepted(kind?: MessageKind): KitRecord[];
  misbehave(m: Misbehaviour): void;
  /** Forgets every token (as a restarted province does): the next message gets 401. */
  revokeTokens(): void;
  tokensIssued(): number;
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown): number => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
  return status;
};

async function readBody(req: IncomingMessage, max: number): Promise<{ text: string } | { tooLarge: true }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > max) return { tooLarge: true };
    chunks.push(c);
  }
  return { text: Buffer.concat(chunks).toString('utf8') };
}

export async function startProvinceKit(opts: KitOptions = {}): Promise<ProvinceKit> {
  const variant = VARIANTS[opts.variant ?? 'vi'];
  const users = opts.users ?? { 'xa-tan-lap': 'mat-khau-thu' };
  const ttl = opts.tokenTtlMs ?? 3_600_000;
  const now = opts.now ?? Date.now;
  const maxBody = opts.maxBodyBytes ?? 1_048_576;
  const tokens = new Map<string, number>();
  const records: KitRecord[] = [];
  const sockets = new Set<Socket>();
  let mode: Misbehaviour = { kind: 'none' };
  let issued = 0;

  const misbehaveNow = async (res: ServerResponse, rec: KitRecord): Promise<boolean> => {
    rec.misbehaved = mode.kind;
    switch (mode.kind) {
      case 'none':
      case 'slow':
      case 'refuse':
        return false;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('<html><body>502 Bad Gateway — Xin lỗi, hệ thống đang bảo trì</body></html>\x00\x01{"TrangThaiGui":');
        rec.status = 200;
        return true;
      case 'huge': {
        const total = mode.bytes ?? 10 * 1024 * 1024;
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        res.write('{"TrangThaiGui":0,"MoTa":"');
        while (sent < total && !res.destroyed) {
          const ok = res.write(chunk);
          sent += chunk.length;
          if (!ok) await new Promise<void>((r) => (res.once('drain', r), res.once('close', r)));
        }
        if (!res.destroyed) res.end('"}');
        rec.status = 200;
        return true;
      }
      case 'hang':
        rec.status = 'none';
        return true;
      case 'error500':
        rec.status = json(res, 500, { Message: 'An error has occurred.' });
        return true;
      case 'drop':
        res.socket?.destroy();
        rec.status = 'none';
        return true;
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0]!;
    const rec: KitRecord = { at: now(), method: req.method ?? '', path, kind: null, body: null, authorized: false, verdict: { ok: false, problems: [] }, status: 'none', misbehaved: 'none' };
    records.push(rec);
    const read = await readBody(req, maxBody);
    if ('tooLarge' in read) {
      rec.status = json(res, 413, variant.answer(false, 'Nội dung quá lớn'));
      return;
    }
    try {
      rec.body = read.text === '' ? null : JSON.parse(read.text);
    } catch {
      rec.body = read.text;
    }
    const isLogin = path === variant.loginPath;
    rec.kind = isLogin ? 'login' : (variant.paths[path]?.kind ?? null);
    if ((!isLogin || opts.misbehaveOnLogin) && (await misbehaveNow(res, rec))) return;
    if (mode.kind === 'slow') {
      await new Promise((r) => setTimeout(r, (mode as { ms: number }).ms));
      // The caller gave up waiting (its timeout): nothing was delivered, whatever the kit would have answered.
      if (res.destroyed || res.socket?.destroyed !== false) {
        rec.status = 'none';
        return;
      }
    }

    if (req.method !== 'POST') {
      rec.status = json(res, 405, variant.answer(false, `Phương thức ${req.method} không được hỗ trợ`));
      return;
    }
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      rec.status = json(res, 415, variant.answer(false, 'Content-Type phải là application/json'));
      return;
    }
    if (isLogin) {
      const user = rec.body && typeof rec.body === 'object' ? (rec.body as Record<string, unknown>)[variant.loginFields.user] : undefined;
      const pass = rec.body && typeof rec.body === 'object' ? (rec.body as Record<string, unknown>)[variant.loginFields.password] : undefined;
      if (typeof user !== 'string' || typeof pass !== 'string' || users[user] !== pass) {
        rec.verdict = { ok: false, problems: [{ field: variant.loginFields.user, rule: 'credentials', message: 'Sai tên đăng nhập hoặc mật khẩu' }] };
        rec.status = json(res, 401, variant.answer(false, 'Sai tên đăng nhập hoặc mật khẩu'));
        return;
      }
      const token = randomBytes(24).toString('base64url');
      tokens.set(token, now() + ttl);
      issued++;
      rec.authorized = true;
      rec.verdict = { ok: true, problems: [] };
      rec.status = json(res, 200, variant.tokenAnswer(token));
      return;
    }
    if (!variant.paths[path]) {
      rec.status = json(res, 404, variant.answer(false, `Không có dịch vụ ${path}`));
      return;
    }
    const auth = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const expires = auth ? tokens.get(auth[1]!) : undefined;
    if (expires === undefined || expires <= now()) {
      if (auth && expires !== undefined) tokens.delete(auth[1]!);
      rec.status = json(res, 401, variant.answer(false, auth ? 'Token hết hạn hoặc không hợp lệ' : 'Thiếu token (Authorization: Bearer)'));
      return;
    }
    rec.authorized = true;
    const problems = checkMessage(variant, path, rec.body);
    rec.verdict = { ok: problems.length === 0, problems };
    if (problems.length > 0) {
      rec.status = json(res, 400, variant.answer(false, problems.map((p) => p.message).join('; ')));
      return;
    }
    if (mode.kind === 'refuse') {
      rec.status = json(res, 200, variant.answer(false, mode.message ?? 'Hệ thống nguồn từ chối tiếp nhận'));
      return;
    }
    rec.status = json(res, 200, variant.answer(true, 'Thành công'));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, variant.answer(false, String(err)));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    variant,
    records,
    accepted: (kind) => records.filter((r) => r.verdict.ok && r.kind !== 'login' && r.status === 200 && (kind === undefined || r.kind === kind)),
    misbehave: (m) => void (mode = m),
    revokeTokens: () => tokens.clear(),
    tokensIssued: () => issued,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface DownResult {
  status: number;
  answer: { ok: boolean; message: string } | null;
  body: unknown;
}

/**
 * The kit as a parent: logs in to a child's served interface at `childUrl` (a Loa Xã server's `/national`) and
 * POSTs `body` as the message `kind`; logs in again once on 401, as a real source system does.
 */
export async function sendDown(args: { childUrl: string; variant?: VariantName; kind: MessageKind; body: unknown; username: string; password: string; timeoutMs?: number }): Promise<DownResult> {
  const variant = VARIANTS[args.variant ?? 'vi'];
  const timeout = args.timeoutMs ?? 10_000;
  const post = async (path: string, body: unknown, token?: string) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(args.childUrl + path, { method: 'POST', headers, body: JSON.stringify(body), redirect: 'manual', signal: AbortSignal.timeout(timeout) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* left as text */
    }
    return { status: res.status, body: parsed };
  };
  const login = async () => {
    const r = await post(variant.loginPath, { [variant.loginFields.user]: args.username, [variant.loginFields.password]: args.password });
    const token = variant.readToken(r.body);
    if (!token) throw new Error(`đăng nhập vào ${args.childUrl} thất bại: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    return token;
  };
  let token = await login();
  let r = await post(pathOf(variant, args.kind), args.body, token);
  if (r.status === 401) {
    token = await login();
    r = await post(pathOf(variant, args.kind), args.body, token);
  }
  return { status: r.status, answer: variant.readAnswer(r.body), body: r.body };
}
