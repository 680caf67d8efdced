/**
 * Provisioning with a one-time claim code: an admin asks for a short code for a registered box, the
 * installer types it (or scans the claim URL as a QR code) on the box, and the box exchanges it once for
 * its long-lived MQTT credentials. The code is stored hashed, works once and expires; claiming rotates the
 * device's secret, so a password handed out earlier stops working.
 */
import { createHash, randomInt } from 'node:crypto';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ErrorCode } from '@loaxa/shared';
import { newSecret, sha256Hex } from '../auth/passwords.js';
import { principalOf } from '../http/auth.js';
import { ApiError, errorBodySchema, notFound } from '../http/errors.js';
import type { AppContext } from '../services/context.js';
import { mqttUrlFor } from './devices.js';
import { access, WRITERS } from '../http/access.js';

/** Crockford base32: no I, L, O or U, so a code read aloud or off a label is hard to mistype. */
export const CLAIM_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** 12 symbols × 5 bits = 60 bits: out of reach of guessing behind the rate limit. */
export const CLAIM_CODE_LENGTH = 12;
export const CLAIM_TTL_MS = 24 * 3600_000;

/** The table; a numbered migration takes this over (the plugin creates it if missing until then). */

/** A new code, shown in groups of four: `ABCD-EFGH-JKMN`. */
export function newClaimCode(): string {
  let raw = '';
  for (let i = 0; i < CLAIM_CODE_LENGTH; i++) raw += CLAIM_ALPHABET[randomInt(CLAIM_ALPHABET.length)];
  return raw.match(/.{1,4}/g)!.join('-');
}

/** Upper case, separators dropped, look-alikes mapped (O→0, I/L→1); null when it cannot be a code. */
export function normalizeClaimCode(input: string): string | null {
  const s = input.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (s.length !== CLAIM_CODE_LENGTH) return null;
  for (const ch of s) if (!CLAIM_ALPHABET.includes(ch)) return null;
  return s;
}

const hashCode = (normalized: string) => createHash('sha256').update(`loaxa-claim:${normalized}`).digest('hex');

/** Failed claims per client address in a sliding window; a simple in-memory counter. */
class AttemptLimiter {
  private readonly hits = new Map<string, number[]>();
  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}
  /** Milliseconds until the next attempt is allowed; 0 when it is allowed now. */
  retryAfter(key: string, now = Date.now()): number {
    const list = (this.hits.get(key) ?? []).filter((t) => t > now - this.windowMs);
    if (list.length) this.hits.set(key, list);
    else this.hits.delete(key);
    return list.length >= this.max ? list[0]! + this.windowMs - now : 0;
  }
  failed(key: string, now = Date.now()): void {
    const list = this.hits.get(key) ?? [];
    list.push(now);
    this.hits.set(key, list);
    if (this.hits.size > 10_000) this.hits.delete(this.hits.keys().next().value!);
  }
}

export interface ClaimRoutesOptions {
  ctx: AppContext;
  /** Failed claims allowed per address and window (default 10 per 15 min). */
  rateLimit?: { max: number; windowMs: number };
  /** Lifetime of a new code (default 24 h). */
  ttlMs?: number;
}

interface ClaimRow {
  code_hash: string;
  device_id: string;
  expires_at: number;
  used_at: number | null;
}

const gone = (message: string) => new ApiError(410, ErrorCode.EXPIRED, message);

export const claimRoutes: FastifyPluginAsyncZod<ClaimRoutesOptions> = async (app, opts) => {
  const { ctx } = opts;
  const ttlMs = opts.ttlMs ?? CLAIM_TTL_MS;
  const limiter = new AttemptLimiter(opts.rateLimit?.max ?? 10, opts.rateLimit?.windowMs ?? 15 * 60_000);
  const insertStmt = ctx.db.prepare('INSERT INTO device_claim_codes (code_hash, device_id, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?)');
  const dropUnusedStmt = ctx.db.prepare('DELETE FROM device_claim_codes WHERE device_id = ? AND used_at IS NULL');
  const pruneStmt = ctx.db.prepare('DELETE FROM device_claim_codes WHERE expires_at < ?');
  const findStmt = ctx.db.prepare<[string], ClaimRow>('SELECT code_hash, device_id, expires_at, used_at FROM device_claim_codes WHERE code_hash = ?');
  const useStmt = ctx.db.prepare('UPDATE device_claim_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL');
  const rotateStmt = ctx.db.prepare('UPDATE devices SET secret_hash = ? WHERE id = ? AND revoked_at IS NULL');

  app.post(
    '/api/v1/devices/:id/claim-code',
    {
      config: { access: access.roles(WRITERS, { object: 'device', param: 'id' }, { why: 'issue claim codes' }) },
      schema: {
        tags: ['devices'],
        summary: 'A one-time claim code for installing a box; earlier unused codes of the box stop working',
        params: z.object({ id: z.string().max(64) }),
        response: { 201: z.object({ code: z.string(), expiresAt: z.string(), claimUrl: z.string() }), 403: errorBodySchema, 404: errorBodySchema },
      },
    },
    async (request, reply) => {
      const user = principalOf(request);
      const d = ctx.devices.get(request.params.id);
      if (!d || !ctx.objects.deviceVisible(user, d)) throw notFound(`device ${request.params.id}`);
      const code = newClaimCode();
      const now = Date.now();
      const expiresAt = now + ttlMs;
      ctx.db.transaction(() => {
        pruneStmt.run(now - 30 * 24 * 3600_000);
        dropUnusedStmt.run(d.id);
        insertStmt.run(hashCode(normalizeClaimCode(code)!), d.id, user.id, now, expiresAt);
      })();
      const base = (ctx.config.publicUrl ?? `${request.protocol}://${request.host}`).replace(/\/+$/, '');
      request.log.info({ deviceId: d.id, userId: user.id }, 'claim code issued');
      return reply.status(201).send({ code, expiresAt: new Date(expiresAt).toISOString(), claimUrl: `${base}/claim?code=${code}` });
    },
  );

  app.post(
    '/api/v1/claim',
    {
      config: { access: access.self('a box proves itself with a one-time claim code') },
      schema: {
        tags: ['devices'],
        summary: 'A box exchanges a claim code for its MQTT credentials (once); its secret is rotated',
        security: [],
        body: z.object({ code: z.string().min(1).max(64) }),
        response: {
          200: z.object({
            deviceId: z.string(),
            areaCode: z.string(),
            areaAncestors: z.array(z.string()),
            mqtt: z.object({ url: z.string(), username: z.string(), password: z.string() }),
          }),
          400: errorBodySchema,
          404: errorBodySchema,
          410: errorBodySchema,
          429: errorBodySchema,
        },
      },
    },
    async (request, reply) => {
      const key = `ip:${request.ip}`;
      const wait = limiter.retryAfter(key);
      if (wait > 0) {
        reply.header('retry-after', Math.ceil(wait / 1000));
        throw new ApiError(429, ErrorCode.RATE_LIMITED, `too many failed claims from this address; try again in ${Math.ceil(wait / 1000)} s`);
      }
      const fail = (err: ApiError): never => {
        limiter.failed(key);
        request.log.warn({ ip: request.ip, status: err.statusCode }, 'claim refused');
        throw err;
      };
      const normalized = normalizeClaimCode(request.body.code);
      if (!normalized) return fail(notFound('claim code'));
      const secret = newSecret();
      const now = Date.now();
      const outcome = ctx.db.transaction((): ApiError | string => {
        const row = findStmt.get(hashCode(normalized));
        if (!row) return notFound('claim code');
        if (row.used_at !== null) return gone('this claim code has already been used; ask for a new one');
        if (row.expires_at <= now) return gone('this claim code has expired; ask for a new one');
        // Credentials only: a full device read may write pending presence, which has no place in this transaction.
        const cred = ctx.devices.credentials(row.device_id);
        if (!cred || cred.revoked) return gone('the device of this claim code has been revoked');
        useStmt.run(now, row.code_hash);
        rotateStmt.run(sha256Hex(secret), row.device_id);
        return row.device_id;
      })();
      if (outcome instanceof ApiError) return fail(outcome);
      const device = ctx.devices.get(outcome)!;
      const ancestry = ctx.areas.ancestry(device.areaCode);
      await ctx.brokerIdentities?.ensureDevice({ deviceId: device.id, password: secret, areaAncestry: ancestry });
      // A session opened with the old secret must not outlive it.
      ctx.disconnectDevice(device.id);
      request.log.info({ deviceId: device.id, ip: request.ip }, 'device claimed');
      return {
        deviceId: device.id,
        areaCode: device.areaCode,
        areaAncestors: ancestry.slice(1).reverse(),
        mqtt: { url: mqttUrlFor(ctx, request), username: device.id, password: secret },
      };
    },
  );
};
