/**
 * The national interface, served (issue 17): a Loa Xã server playing the province's source system (*HTTT
 * nguồn*, Decision 135/QĐ-TTg, CV 1273/BTTTT-TTCS) or the nation's. Children (commune systems, vendors' boxes,
 * province Loa Xã servers under a central one) log in and report up; a parent logs in and sends bulletins down.
 * Everything lives under `/national` + the peer's mapping's paths (`shared/src/national/mapping.ts`), outside
 * the API: no session cookie, a token from the mapping's login, renewed on 401 (the vocabulary's rule).
 *
 * Every answer is the mapping's answer form (*TrangThaiGui* 0 accepted / 1 refused, *MoTa* why), with the HTTP
 * status saying the same: 200 taken, 400 a body that does not decode (MoTa names the field), 401 no or expired
 * token, 403 a peer acting outside its role or areas, 404 no such path, 413 too big, 503 busy (with
 * Retry-After). Every request is logged in `national_inbound`, taken or not, and why; those refused before we
 * know the peer once a minute per address and status with a count, and with no body (issue 17 review).
 */
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import {
  decodeDown,
  decodeLogin,
  decodeUp,
  encodeAnswer,
  encodeToken,
  NationalDecodeError,
  routeFor,
  SHIPPED_MAPPINGS,
  type DownstreamCommandKind,
  type Mapping,
  type UpstreamEventKind,
} from '@loaxa/shared';
import { access } from '../http/access.js';
import { publicBase } from '../http/public-base.js';
import { verifyPassword, type CheckSlots } from '../auth/passwords.js';
import type { LoginGuard } from '../auth/login-guard.js';
import type { Config } from '../config.js';
import type { NationalPeerRecord, NationalPeerRepository } from '../repos/national-peers.js';
import type { NationalInboundRepository } from '../repos/national-inbound.js';
import type { PeerTokens } from '../national/served/tokens.js';
import type { PeerMappings } from '../national/served/mappings.js';
import type { ChildReports } from '../national/served/child-reports.js';
import type { Downlink } from '../national/downlink/downlink.js';
import type { AuditRepository } from '../repos/audit.js';

/** The mount point of the served interface. */
export const NATIONAL_PREFIX = '/national';
/**
 * The largest body taken: a bulletin listing 5,000 receiving areas is ~100 KB; a status is a few hundred
 * bytes. Anything bigger is refused (413) before it is parsed.
 */
export const NATIONAL_BODY_LIMIT = 512 * 1024;

const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

export interface NationalServedRouteDeps {
  config: Pick<Config, 'publicUrl'>;
  peers: NationalPeerRepository;
  inbound: NationalInboundRepository;
  tokens: PeerTokens;
  mappings: PeerMappings;
  reports: ChildReports;
  downlink: Downlink;
  loginGuard: LoginGuard;
  passwordChecks: Pick<CheckSlots, 'acquire'>;
  /** What parents send down is audited in the parent's name (its system actor), like a user's writes. */
  audit?: Pick<AuditRepository, 'append'>;
  bodyLimitBytes?: number;
  now?: () => number;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly mapping: Mapping,
    readonly peerId: string | null = null,
    readonly kind = 'unknown',
  ) {
    super(message);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** Taken statuses are logged at most this often per child (with the count of the others). */
const STATUS_LOG_EVERY_MS = 60_000;

export const nationalServedRoutes: FastifyPluginAsync<NationalServedRouteDeps> = async (app, deps) => {
  const now = () => deps.now?.() ?? Date.now();
  const limit = deps.bodyLimitBytes ?? NATIONAL_BODY_LIMIT;
  const statusLog = new Map<string, { since: number; count: number }>();
  /**
   * Requests refused before authentication, logged once a minute per remote address and HTTP status (a 401
   * and a 413 each say something) with how many came
   * (like taken statuses per child), and never with their body: anyone who reaches the port sends them, so
   * one row each would let them fill the disk (issue 17 review). The map is bounded: past its size, the
   * stale entries go, and if that is not enough every further address shares one entry.
   */
  const anonLog = new Map<string, { since: number; count: number }>();
  const ANON_LOG_MAX_ADDRESSES = 10_000;
  const logUnauthenticated = (ip: string, kind: string, detail: string) => {
    const at = now();
    let key = `${ip} ${detail.slice(0, 3)}`;
    if (!anonLog.has(key) && anonLog.size >= ANON_LOG_MAX_ADDRESSES) {
      for (const [k, v] of anonLog) if (at - v.since >= STATUS_LOG_EVERY_MS) anonLog.delete(k);
      if (anonLog.size >= ANON_LOG_MAX_ADDRESSES) key = `* ${detail.slice(0, 3)}`;
    }
    const seen = anonLog.get(key);
    if (seen && at - seen.since < STATUS_LOG_EVERY_MS) {
      seen.count++;
      return;
    }
    anonLog.set(key, { since: at, count: 0 });
    const from = key.startsWith('* ') ? 'nhiều địa chỉ' : ip.slice(0, 64);
    deps.inbound.record({ peerId: null, kind, receivedAt: at, accepted: false, detail: seen?.count ? `${detail} (từ ${from}; và ${seen.count} yêu cầu bị từ chối khác trong phút trước)` : `${detail} (từ ${from})`, body: null });
  };
  /** A refused, authenticated request's body as kept for the admin: its first 4 KB. */
  const bodyForLog = (raw: unknown): string | null => (Buffer.isBuffer(raw) ? raw.subarray(0, 4096).toString('utf8') : null);
  // The mappings in use, read again at most every few seconds (every request needs them; peers change rarely).
  let cached: { at: number; list: Mapping[] } | null = null;
  const candidates = (): Mapping[] => {
    const at = Date.now();
    if (!cached || at - cached.at > 5000) cached = { at, list: deps.mappings.candidates(deps.peers.list().map((p) => p.mapping)) };
    return cached.list;
  };
  const relPath = (request: FastifyRequest) => (request.url.split('?')[0] ?? '').replace(/^\/+national/i, '') || '/';
  /** The mapping a request speaks before we know who sent it: the one whose paths it uses. */
  const mappingByPath = (request: FastifyRequest): Mapping => {
    const rel = relPath(request);
    for (const m of candidates()) {
      if (routeFor(m, 'login', request.method, rel) || routeFor(m, 'up', request.method, rel) || routeFor(m, 'down', request.method, rel)) return m;
    }
    return SHIPPED_MAPPINGS.vi;
  };
  const answer = (reply: FastifyReply, m: Mapping, status: number, ok: boolean, message: string) => reply.status(status).type('application/json; charset=utf-8').send(encodeAnswer(m, { ok, message }));

  // Bodies are read raw and decoded here: whatever the content type (vendors send text/plain JSON), with a
  // bound, and a parse error is answered in the mapping's form, not the API's.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limit }, (_request, body, done) => done(null, body));
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const m = mappingByPath(request);
    const status = err.statusCode === 413 || err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 413 : err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    const message = status === 413 ? `Nội dung quá lớn (tối đa ${limit} byte)` : status === 500 ? 'Lỗi máy chủ; gửi lại sau' : `Yêu cầu không hợp lệ: ${err.message.slice(0, 200)}`;
    if (status === 500) request.log.error({ err }, 'national served interface failed');
    logUnauthenticated(request.ip, 'unknown', `${status} ${message}`);
    return answer(reply, m, status, false, message);
  });

  const bodyText = (request: FastifyRequest, m: Mapping, peerId: string | null, kind: string): { text: string; json: unknown } => {
    const raw = request.body;
    if (!Buffer.isBuffer(raw) || raw.length === 0) throw new Refusal(400, 'Thiếu nội dung JSON', m, peerId, kind);
    let text: string;
    try {
      text = utf8.decode(raw);
    } catch {
      throw new Refusal(400, 'Nội dung không phải UTF-8 hợp lệ', m, peerId, kind);
    }
    try {
      return { text, json: JSON.parse(text) as unknown };
    } catch {
      throw new Refusal(400, 'Nội dung không phải JSON hợp lệ', m, peerId, kind);
    }
  };

  /** The peer a request's token names, or a 401 (the client logs in again: the vocabulary's rule). */
  const authenticate = (request: FastifyRequest): NationalPeerRecord => {
    const m = mappingByPath(request);
    for (const c of candidates()) {
      const h = request.headers[c.login.header.toLowerCase()];
      const value = Array.isArray(h) ? h[0] : h;
      if (!value) continue;
      const scheme = c.login.scheme ? `${c.login.scheme} ` : '';
      const token = scheme && value.toLowerCase().startsWith(scheme.toLowerCase()) ? value.slice(scheme.length).trim() : value.trim();
      const grant = deps.tokens.check(token);
      if (!grant) continue;
      const peer = deps.peers.get(grant.peerId);
      if (!peer || peer.revokedAt !== null) continue;
      return peer;
    }
    throw new Refusal(401, 'Chưa đăng nhập hoặc mã truy cập (token) đã hết hạn; đăng nhập lại', m);
  };

  const login = async (request: FastifyRequest, reply: FastifyReply, m: Mapping) => {
    const { json } = bodyText(request, m, null, 'login');
    let creds;
    try {
      creds = decodeLogin(m, json);
    } catch (err) {
      if (err instanceof NationalDecodeError) throw new Refusal(400, err.message, m, null, 'login');
      throw err;
    }
    const keys = [`peer:${creds.username.toLowerCase()}`, `ip:${request.ip}`];
    const wait = deps.loginGuard.retryAfter(keys);
    if (wait > 0) {
      reply.header('retry-after', Math.ceil(wait / 1000));
      throw new Refusal(429, `Đăng nhập sai quá nhiều lần; thử lại sau ${Math.ceil(wait / 1000)} giây`, m, null, 'login');
    }
    const release = await deps.passwordChecks.acquire();
    if (!release) {
      reply.header('retry-after', 1);
      throw new Refusal(503, 'Quá nhiều đăng nhập cùng lúc; thử lại sau 1 giây', m, null, 'login');
    }
    let peer: NationalPeerRecord | null;
    let ok: boolean;
    let attempt;
    try {
      peer = deps.peers.byUsername(creds.username);
      attempt = deps.loginGuard.attempt(keys);
      if (attempt.wait > 0) throw new Refusal(429, 'Đăng nhập sai quá nhiều lần; thử lại sau', m, null, 'login');
      ok = await verifyPassword(creds.password, peer?.passwordHash ?? DUMMY_HASH);
    } finally {
      release();
    }
    if (!peer || !ok) {
      deps.inbound.record({ peerId: peer?.id ?? null, kind: 'login', receivedAt: now(), accepted: false, detail: `sai tên đăng nhập hoặc mật khẩu (${creds.username.slice(0, 100)})`, body: null });
      return answer(reply, m, 401, false, 'Sai tên đăng nhập hoặc mật khẩu');
    }
    deps.loginGuard.succeeded(keys, attempt);
    const pm = safeMapping(peer) ?? m;
    const t = deps.tokens.issue(peer.id);
    deps.inbound.record({ peerId: peer.id, kind: 'login', receivedAt: now(), accepted: true, detail: 'đăng nhập', body: null });
    return reply.status(200).type('application/json; charset=utf-8').send(encodeToken(pm, { token: t.token, expiresAt: t.expiresAt }));
  };

  const safeMapping = (peer: NationalPeerRecord): Mapping | null => {
    try {
      return deps.mappings.get(peer.mapping);
    } catch {
      return null;
    }
  };

  const serve = async (request: FastifyRequest, reply: FastifyReply) => {
    const rel = relPath(request);
    const byPath = mappingByPath(request);
    if (routeFor(byPath, 'login', request.method, rel)) return login(request, reply, byPath);
    const peer = authenticate(request);
    const m = safeMapping(peer);
    if (!m) throw new Refusal(500, `Tệp ánh xạ ${peer.mapping} của hệ thống này không đọc được`, byPath, peer.id);
    const own = peer.role === 'child' ? 'up' : 'down';
    const other = peer.role === 'child' ? 'down' : 'up';
    const kind = routeFor(m, own, request.method, rel);
    if (!kind) {
      const theirs = routeFor(m, other, request.method, rel);
      if (theirs) throw new Refusal(403, peer.role === 'child' ? `Hệ thống con không được gửi ${theirs} xuống` : `Hệ thống cấp trên không gửi báo cáo ${theirs} lên đây`, m, peer.id, theirs);
      throw new Refusal(404, `Không có đường dẫn ${request.method} ${rel.slice(0, 200)}`, m, peer.id);
    }
    const { text, json } = bodyText(request, m, peer.id, kind);
    const log = (accepted: boolean, detail: string, keepBody = true) => {
      // Statuses come every 30 s per box (10,000 boxes: 330 a second): the taken ones are logged once a
      // minute per child with how many came, the refused ones each with their body. A taken body is not kept:
      // what it said is in the child's tables.
      if (accepted && kind === 'box-status') {
        const at = now();
        const seen = statusLog.get(peer.id);
        if (seen && at - seen.since < STATUS_LOG_EVERY_MS) {
          seen.count++;
          return;
        }
        statusLog.set(peer.id, { since: at, count: 0 });
        deps.inbound.record({ peerId: peer.id, kind, receivedAt: at, accepted, detail: seen?.count ? `${detail} (và ${seen.count} trạng thái khác trong phút trước)` : detail, body: null });
        return;
      }
      deps.inbound.record({ peerId: peer.id, kind, receivedAt: now(), accepted, detail, body: accepted || !keepBody ? null : text });
    };
    try {
      const outcome =
        own === 'up'
          ? deps.reports.handle(peer, decodeUp(m, kind as UpstreamEventKind, json, now()))
          : await deps.downlink.handle(peer, decodeDown(m, kind as DownstreamCommandKind, json, now()), { mediaBaseUrl: publicBase(deps.config, request) });
      // "Busy, send again" (503) keeps no body: a parent's flood would store each one, and it comes again.
      log(outcome.ok, `${outcome.status} ${outcome.message}`, outcome.status !== 503);
      if ('retryAfterS' in outcome && outcome.retryAfterS) reply.header('retry-after', outcome.retryAfterS);
      if (own === 'down') {
        deps.audit?.append({
          at: now(), userId: peer.id, username: `national:${peer.username}`, areaCode: null, ip: request.ip, method: request.method, route: `${NATIONAL_PREFIX}/*`,
          url: request.url.slice(0, 2000), status: outcome.status, body: text.slice(0, 16_384), objectType: null, objectId: null, before: null, after: null,
        });
      }
      return answer(reply, m, outcome.status, outcome.ok, outcome.message);
    } catch (err) {
      if (err instanceof NationalDecodeError) {
        log(false, `400 ${err.message}`);
        return answer(reply, m, 400, false, err.message);
      }
      throw err;
    }
  };

  app.route({
    method: ['POST', 'PUT', 'DELETE'],
    url: `${NATIONAL_PREFIX}/*`,
    bodyLimit: limit,
    config: { access: access.self('the national interface: peers log in with their own credentials and send a token (checked in the handler)') },
    schema: { hide: true },
    handler: async (request, reply) => {
      try {
        return await serve(request, reply);
      } catch (err) {
        if (!(err instanceof Refusal)) throw err;
        if (err.status !== 429 && err.status !== 503) {
          if (err.peerId === null) {
            // Refused before we know who sent it (no or bad token, a login that does not decode): no body — a 401
            // names no peer, and a login's body holds a password — and one row per address per minute with a
            // count (issue 17 review: each anonymous request stored 4 KB, and a mistyped login the password).
            logUnauthenticated(request.ip, err.kind, `${err.status} ${err.message}`);
          } else {
            deps.inbound.record({ peerId: err.peerId, kind: err.kind, receivedAt: now(), accepted: false, detail: `${err.status} ${err.message}`, body: err.kind === 'login' ? null : bodyForLog(request.body) });
          }
        }
        return answer(reply, err.mapping, err.status, false, err.message);
      }
    },
  });
};
