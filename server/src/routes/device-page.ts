/**
 * The box page (issue 20): a box's health readings over time (repos/device-health.ts, migration 26), what it
 * was given to play, and the installer's printable claim label with the claim URL as a QR code. Each names
 * its box by path parameter, so a box outside the caller's area is 404 like every other device route.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import QRCode from 'qrcode';
import { claimLabelSchema, deviceAsRunQuerySchema, deviceAsRunSchema, healthHistoryQuerySchema, healthHistorySchema, HEALTH_BUCKET_MS, idParamsSchema } from '@loaxa/shared';
import { principalOf } from '../http/auth.js';
import { errorBodySchema, notFound } from '../http/errors.js';
import { publicBase } from '../http/public-base.js';
import type { AppContext } from '../services/context.js';
import { access, ANY_ROLE, WRITERS } from '../http/access.js';
import { CLAIM_TTL_MS, hashCode, newClaimCode, normalizeClaimCode } from './claims.js';

/** What these routes use, and all they are given (wiring/http.ts). */
export type DevicePageRouteDeps = Pick<AppContext, 'config' | 'devices' | 'objects' | 'asRun' | 'claims'>;

const DAY_MS = 86_400_000;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const devicePageRoutes: FastifyPluginAsyncZod<DevicePageRouteDeps> = async (app, deps) => {
  /** The box, or 404 when it does not exist, is revoked or lies outside the caller's area. */
  const visibleDevice = (request: Parameters<typeof principalOf>[0], id: string) => {
    const d = deps.devices.get(id);
    if (!d || !deps.objects.deviceVisible(principalOf(request), d)) throw notFound(`device ${id}`);
    return d;
  };

  app.get(
    '/api/v1/devices/:id/health-history',
    {
      config: { access: access.roles(ANY_ROLE, { object: 'device', param: 'id' }) },
      schema: {
        tags: ['devices'],
        summary: 'A box’s health readings over time: min, average and max per 15 minutes, kept 30 days',
        params: idParamsSchema,
        querystring: healthHistoryQuerySchema,
        response: { 200: healthHistorySchema, 400: errorBodySchema, 404: errorBodySchema },
      },
    },
    async (request) => {
      const d = visibleDevice(request, request.params.id);
      const to = request.query.to ? Date.parse(request.query.to) : Date.now();
      const from = request.query.from ? Date.parse(request.query.from) : to - DAY_MS;
      // Heartbeats waiting for the minute's fold are this box's latest readings: fold them first.
      deps.devices.presence.fresh(d.id);
      return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), bucketMs: HEALTH_BUCKET_MS, points: deps.devices.presence.history.read(d.id, from, to) };
    },
  );

  app.get(
    '/api/v1/devices/:id/as-run',
    {
      config: { access: access.roles(ANY_ROLE, { object: 'device', param: 'id' }) },
      schema: {
        tags: ['devices'],
        summary: 'What a box was given to play and what became of it, newest airing first, one page at a time',
        params: idParamsSchema,
        querystring: deviceAsRunQuerySchema,
        response: { 200: deviceAsRunSchema, 400: errorBodySchema, 404: errorBodySchema },
      },
    },
    async (request) => {
      const d = visibleDevice(request, request.params.id);
      const { limit, cursor } = request.query;
      const after = cursor ? { occurrenceAt: Number(cursor.slice(0, cursor.indexOf(':'))), broadcastId: cursor.slice(cursor.indexOf(':') + 1) } : null;
      // One more than asked tells whether a next page exists.
      const rows = deps.asRun.forDevice(d.id, limit + 1, after);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page.map((r) => ({ ...r, occurrenceAt: new Date(r.occurrenceAt).toISOString(), startedAt: iso(r.startedAt), endedAt: iso(r.endedAt) })),
        next: rows.length > limit && last ? `${last.occurrenceAt}:${last.broadcastId}` : null,
      };
    },
  );

  app.post(
    '/api/v1/devices/:id/claim-label',
    {
      config: { access: access.roles(WRITERS, { object: 'device', param: 'id' }, { why: 'issue claim codes for installing boxes' }) },
      schema: {
        tags: ['devices'],
        summary: 'A one-time claim code for installing a box, with its claim URL as a QR code (SVG) for a printed label; earlier unused codes stop working',
        params: idParamsSchema,
        response: { 201: claimLabelSchema, 403: errorBodySchema, 404: errorBodySchema },
      },
    },
    async (request, reply) => {
      const d = visibleDevice(request, request.params.id);
      const user = principalOf(request);
      // The same code as POST …/claim-code issues (routes/claims.ts): hashed, once, expiring.
      const code = newClaimCode();
      const now = Date.now();
      const expiresAt = now + CLAIM_TTL_MS;
      deps.claims.issue({ codeHash: hashCode(normalizeClaimCode(code)!), deviceId: d.id, createdBy: user.id, createdAt: now, expiresAt });
      const claimUrl = `${publicBase(deps.config, request)}/claim?code=${code}`;
      // Level M survives a scratched label (15 % of the symbol); the quiet zone is the label's white margin.
      const qrSvg = await QRCode.toString(claimUrl, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      request.log.info({ deviceId: d.id, userId: user.id }, 'claim label issued');
      return reply.status(201).send({ code, expiresAt: new Date(expiresAt).toISOString(), claimUrl, qrSvg });
    },
  );
};
