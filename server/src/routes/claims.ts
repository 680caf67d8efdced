/**
 * Provisioning with a one-time claim code: an admin asks for a short code for a registered box, the
 * installer types it (or scans the claim URL as a QR code) on the box, and the box exchanges it once for
 * its long-lived MQTT credentials. The code is stored hashed, works once and expires; claiming rotates the
 * device's secret, so a password handed out earlier stops working.
 */
import { publicBase } from '../http/public-base.js';
import { createHash, randomInt } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { claimBodySchema, claimCodeSchema, claimedSchema, ErrorCode, idParamsSchema } from '@loaxa/shared';
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

/** How a code is stored (hashed); the box page’s claim label issues codes too (device-page.ts). */
export const hashCode = (normalized: string) => createHash('sha256').update(`loaxa-claim:${normalized}`).digest('hex');

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

/** What these routes use, and their own settings. */
export interface ClaimRoutesOptions extends Pick<AppContext, 'config' | 'areas' | 'devices' | 'claims' | 'objects' | 'brokerIdentities' | 'mqttPort' | 'disconnectDevice'> {
  /** Failed claims allowed per address and window (default 10 per 15 min). */
  rateLimit?: { max: number; windowMs: number };
  /** Lifetime of a new code (default 24 h). */
  ttlMs?: number;
}

const gone = (message: string) => new ApiError(410, ErrorCode.EXPIRED, message);

export const claimRoutes: FastifyPluginAsyncZod<ClaimRoutesOptions> = async (app, deps) => {
  const ttlMs = deps.ttlMs ?? CLAIM_TTL_MS;
  const limiter = new AttemptLimiter(deps.rateLimit?.max ?? 10, deps.rateLimit?.windowMs ?? 15 * 60_000);

  app.post(
    '/api/v1/devices/:id/claim-code',
    {
      config: { access: access.roles(WRITERS, { object: 'device', param: 'id' }, { why: 'issue claim codes' }) },
      schema: {
        tags: ['devices'],
        summary: 'A one-time claim code for installing a box; earlier unused codes of the box stop working',
        params: idParamsSchema,
        response: { 201: claimCodeSchema, 403: errorBodySchema, 404: errorBodySchema },
      },
    },
    async (request, reply) => {
      const user = principalOf(request);
      const d = deps.devices.get(request.params.id);
      if (!d || !deps.objects.deviceVisible(user, d)) throw notFound(`device ${request.params.id}`);
      const code = newClaimCode();
      const now = Date.now();
      const expiresAt = now + ttlMs;
      deps.claims.issue({ codeHash: hashCode(normalizeClaimCode(code)!), deviceId: d.id, createdBy: user.id, createdAt: now, expiresAt });
      const base = publicBase(deps.config, request);
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
        body: claimBodySchema,
        response: {
          200: claimedSchema,
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
      const outcome = deps.claims.redeem(hashCode(normalized), sha256Hex(secret), now);
      if ('refused' in outcome) {
        return fail(
          {
            unknown: () => notFound('claim code'),
            used: () => gone('this claim code has already been used; ask for a new one'),
            expired: () => gone('this claim code has expired; ask for a new one'),
            revoked: () => gone('the device of this claim code has been revoked'),
          }[outcome.refused](),
        );
      }
      const device = deps.devices.get(outcome.deviceId)!;
      const ancestry = deps.areas.ancestry(device.areaCode);
      await deps.brokerIdentities?.ensureDevice({ deviceId: device.id, password: secret, areaAncestry: ancestry });
      // A session opened with the old secret must not outlive it.
      deps.disconnectDevice(device.id);
      request.log.info({ deviceId: device.id, ip: request.ip }, 'device claimed');
      return {
        deviceId: device.id,
        areaCode: device.areaCode,
        areaAncestors: ancestry.slice(1).reverse(),
        mqtt: { url: mqttUrlFor(deps, request), username: device.id, password: secret },
      };
    },
  );
};
