/**
 * Disaster warnings (issue 18) over HTTP: the list and one warning with its versions and live reach, its
 * as-run, the province's form (preview, then air), a person's approve/reject/cancel, the CAP push endpoint
 * of the sources (each with its own token), and the sources themselves for the province admin.
 */
import { X509Certificate } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  ErrorCode,
  idParamsSchema,
  warningApproveBodySchema,
  warningAsRunSchema,
  warningCancelBodySchema,
  warningFormBodySchema,
  warningListQuerySchema,
  warningListSchema,
  warningPreviewSchema,
  warningPushResultSchema,
  warningRejectBodySchema,
  warningSchema,
  warningSourceCreateBodySchema,
  warningSourceCreatedSchema,
  warningSourceListSchema,
  warningSourceSchema,
  warningSourceUpdateBodySchema,
  type Warning,
  type WarningSource,
} from '@loaxa/shared';
import { principalOf } from '../http/auth.js';
import { ApiError, badRequest, conflict, errorBodySchema, notFound } from '../http/errors.js';
import { access, ADMINS, ANY_ROLE, APPROVERS } from '../http/access.js';
import { publicBase } from '../http/public-base.js';
import { newSecret, sha256Hex } from '../auth/passwords.js';
import { newId } from '../ids.js';
import type { Config } from '../config.js';
import type { AreaRepository } from '../repos/areas.js';
import type { WarningRecord, WarningRepository } from '../repos/warnings.js';
import type { FeedState, WarningSourceRecord, WarningSourceRepository } from '../repos/warning-sources.js';
import { CAP_MAX_BYTES, FORM, type WarningAnalysis, type WarningService } from '../warnings/warning-service.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The content types a CAP document comes with (CAP 1.2 Appendix: application/cap+xml; plain XML too). */
export const CAP_CONTENT_TYPES = ['application/cap+xml', 'application/xml', 'text/xml'] as const;

/**
 * A CAP body as parsed: its bytes (not enumerable) and a bounded text copy. The audit log (routes/audit.ts)
 * copies a request's body with its enumerable fields: a Buffer there became a megabyte of one key per byte.
 */
export class CapDocument {
  declare readonly bytes: Buffer;
  /** What the audit keeps: the document's size and its first 2,000 characters. */
  readonly cap: string;
  constructor(bytes: Buffer) {
    Object.defineProperty(this, 'bytes', { value: bytes, enumerable: false });
    this.cap = `${bytes.length} bytes: ${bytes.subarray(0, 2000).toString('utf8')}`;
  }
}

/** The bytes of a CAP body; 415 for a body of another type (JSON). */
function capBytes(body: unknown): Buffer {
  if (body instanceof CapDocument) return body.bytes;
  throw new ApiError(415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, `Gửi bản tin CAP với Content-Type ${CAP_CONTENT_TYPES.join(', ')}`);
}

export interface WarningRouteDeps {
  config: Pick<Config, 'publicUrl'>;
  areas: AreaRepository;
  warnings: WarningRepository;
  sources: WarningSourceRepository;
  service: WarningService;
  /** How long a request waits for the announcement's audio before it is answered as on its way (202). */
  answerWaitMs?: number;
  /**
   * A feed source made, changed or enabled: the poller reads it now, not at its next look at the list (up to a
   * minute later, which the end-to-end measure of issue 18 showed as most of the time to air).
   */
  feedChanged?: (sourceId: string) => void;
}

/** The delivery states that count a box as not reached. */
const FAILED = new Set(['failed', 'expired', 'missed']);

export const warningRoutes: FastifyPluginAsyncZod<WarningRouteDeps> = async (app, deps) => {
  const { warnings, sources, service } = deps;
  const admin = (why: string) => ({ access: access.roles(ADMINS, { scope: 'the whole installation' }, { installationWide: true, why }) });
  const approver = (why: string) => ({ access: access.roles(APPROVERS, { scope: "the warning's targets must lie in the caller's area (403), and it must touch it (404)" }, { why }) });
  const answerWait = deps.answerWaitMs ?? 8000;

  // CAP documents as bytes, bounded: the reader (cap-read.ts) decodes and refuses what is not CAP 1.2.
  for (const type of CAP_CONTENT_TYPES) {
    app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: CAP_MAX_BYTES }, (_request, body, done) => done(null, new CapDocument(body as Buffer)));
  }

  /** Waits up to `answerWait` for what was set going; true when it settled. */
  const within = async (p: Promise<void>): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<false>((r) => {
      timer = setTimeout(() => r(false), answerWait);
      timer.unref();
    });
    try {
      return await Promise.race([p.then(() => true as const), slow]);
    } finally {
      clearTimeout(timer);
    }
  };

  const reachOf = (w: WarningRecord) => {
    const rows = w.broadcastId ? warnings.deliveries([w.broadcastId]) : [];
    const devices = new Map<string, { aired: boolean; playing: boolean; failed: boolean }>();
    for (const r of rows) {
      const d = devices.get(r.deviceId) ?? { aired: false, playing: false, failed: false };
      if (r.state === 'played' || r.startedAt !== null) d.aired = true;
      if (r.state === 'playing') d.playing = true;
      if (FAILED.has(r.state)) d.failed = true;
      devices.set(r.deviceId, d);
    }
    const all = [...devices.values()];
    return { targeted: devices.size, aired: all.filter((d) => d.aired).length, playing: all.filter((d) => d.playing).length, failed: all.filter((d) => d.failed && !d.aired).length };
  };

  const toApi = (w: WarningRecord): Warning => ({
    id: w.id,
    sourceId: w.sourceId,
    sourceName: w.sourceName,
    identifier: w.identifier,
    sender: w.sender,
    status: w.status,
    kind: w.kind,
    riskLevel: w.riskLevel,
    event: w.event,
    headline: w.headline,
    severity: w.severity,
    urgency: w.urgency,
    certainty: w.certainty,
    expiresAt: iso(w.expiresAt),
    state: w.state,
    reason: w.reason,
    priority: w.priority,
    decidedBy: w.decidedBy,
    announcement: w.announcement,
    communes: w.communes,
    boxes: w.boxes,
    boxesWithoutCoordinates: w.boxesWithoutCoordinates,
    unmatched: w.unmatched,
    repeatMinutes: w.repeatMinutes,
    version: w.version,
    versions: warnings
      .versions(w.id)
      .filter((v) => v.msgType === 'Alert' || v.msgType === 'Update' || v.msgType === 'Cancel')
      .map((v) => ({ version: v.version, identifier: v.identifier, sender: v.sender, sent: v.sent, msgType: v.msgType, receivedAt: iso(v.receivedAt)!, bulletinId: v.bulletinId, broadcastId: v.broadcastId })),
    reach: reachOf(w),
    createdAt: iso(w.createdAt)!,
    updatedAt: iso(w.updatedAt)!,
  });

  const previewOf = (a: WarningAnalysis, withDecision: boolean) => ({
    announcement: a.announcement,
    readingSpans: service.readingSpans(a.announcement),
    communes: a.communes,
    boxes: a.boxes,
    boxesWithoutCoordinates: a.boxesWithoutCoordinates,
    unmatched: a.unmatched,
    decision: withDecision ? ({ 'air-now': 'air-now', wait: 'wait' } as const)[a.decision as 'air-now' | 'wait'] ?? ('hold' as const) : null,
    reason: a.reason,
  });

  // ---- warnings -------------------------------------------------------------------------------------------

  app.get(
    '/api/v1/warnings',
    {
      config: { access: access.roles(ANY_ROLE, { scope: "warnings touching the caller's area (its communes or boxes)" }, { why: 'read warnings' }) },
      schema: { tags: ['warnings'], summary: 'Disaster warnings, newest first (issue 18)', querystring: warningListQuerySchema, response: { 200: warningListSchema, 400: errorBodySchema } },
    },
    async (request) => {
      const user = principalOf(request);
      service.expireDue();
      const { limit, cursor, state } = request.query;
      const all = warnings.all({ state }).filter((w) => service.visible(user, w));
      const start = cursor ? all.findIndex((w) => w.id === cursor) + 1 : 0;
      const page = all.slice(start, start + limit);
      return { items: page.map(toApi), total: all.length, next: start + limit < all.length ? page.at(-1)!.id : null };
    },
  );

  app.get(
    '/api/v1/warnings/:id',
    {
      config: { access: access.roles(ANY_ROLE, { scope: "a warning touching the caller's area, else 404" }, { why: 'read warnings' }) },
      schema: { tags: ['warnings'], summary: 'One warning with its versions and live reach', params: idParamsSchema, response: { 200: warningSchema, 404: errorBodySchema } },
    },
    async (request) => toApi(service.visibleWarning(principalOf(request), request.params.id)),
  );

  app.get(
    '/api/v1/warnings/:id/as-run',
    {
      config: { access: access.roles(ANY_ROLE, { scope: "a warning touching the caller's area, else 404; only the caller's boxes" }, { why: 'read warnings' }) },
      schema: { tags: ['warnings'], summary: "Which box aired which version of the warning when (the warning's as-run)", params: idParamsSchema, response: { 200: warningAsRunSchema, 404: errorBodySchema } },
    },
    async (request) => {
      const user = principalOf(request);
      const w = service.visibleWarning(user, request.params.id);
      const byBroadcast = new Map(warnings.broadcastsOf(w.id).map((b) => [b.broadcastId, b.version]));
      const rows = warnings
        .deliveries([...byBroadcast.keys()])
        .filter((r) => user.areaCode === null || deps.areas.ancestry(r.areaCode).includes(user.areaCode));
      return {
        items: rows.map((r) => ({ deviceId: r.deviceId, deviceName: r.deviceName, areaCode: r.areaCode, version: byBroadcast.get(r.broadcastId)!, occurrenceAt: iso(r.occurrenceAt)!, state: r.state, startedAt: iso(r.startedAt), endedAt: iso(r.endedAt) })),
        total: rows.length,
      };
    },
  );

  app.post(
    '/api/v1/warnings/preview',
    {
      config: approver('preview a warning'),
      schema: { tags: ['warnings'], summary: 'What the warning form would become: the announcement, its reading, the communes and boxes reached. Nothing is stored.', body: warningFormBodySchema, response: { 200: warningPreviewSchema, 400: errorBodySchema, 403: errorBodySchema } },
    },
    async (request) => {
      const user = principalOf(request);
      const { xml } = service.formCap(user, request.body);
      const a = service.analyse(FORM, service.read(xml));
      return previewOf({ ...a, announcement: request.body.announcement ?? a.announcement }, false);
    },
  );

  app.post(
    '/api/v1/warnings',
    {
      config: approver('issue a warning'),
      schema: {
        tags: ['warnings'],
        summary: "The province's warning form: written as a CAP alert, aired at once to the communes (emergency or priority), repeated until it expires",
        description: 'An emergency needs a recent login. Spans of the announcement the reader guessed or could not read are refused (409) unless `checked` is true.',
        body: warningFormBodySchema,
        response: { 201: warningSchema, 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema, 409: errorBodySchema },
      },
    },
    async (request, reply) => {
      const user = principalOf(request);
      const { outcome } = await service.createFromForm(user, request.body, publicBase(deps.config, request));
      await within(outcome.settled);
      return reply.status(201).send(toApi(warnings.get(outcome.warningId!)!));
    },
  );

  app.post(
    '/api/v1/warnings/:id/approve',
    {
      config: approver('approve a warning'),
      schema: { tags: ['warnings'], summary: 'Air a warning that waits for a person', params: idParamsSchema, body: warningApproveBodySchema, response: { 200: warningSchema, 401: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema, 409: errorBodySchema } },
    },
    async (request) => {
      const { warning, settled } = await service.approve(principalOf(request), request.params.id, request.body, publicBase(deps.config, request));
      await within(settled);
      return toApi(warnings.get(warning.id)!);
    },
  );

  app.post(
    '/api/v1/warnings/:id/reject',
    {
      config: approver('reject a warning'),
      schema: { tags: ['warnings'], summary: 'Reject a warning that waits for a person', params: idParamsSchema, body: warningRejectBodySchema, response: { 200: warningSchema, 403: errorBodySchema, 404: errorBodySchema, 409: errorBodySchema } },
    },
    async (request) => toApi(await service.reject(principalOf(request), request.params.id, request.body.reason)),
  );

  app.post(
    '/api/v1/warnings/:id/cancel',
    {
      config: approver('cancel a warning'),
      schema: { tags: ['warnings'], summary: 'Stop a warning: its airings cancelled, boxes playing it stop, and a CAP Cancel published', params: idParamsSchema, body: warningCancelBodySchema, response: { 200: warningSchema, 403: errorBodySchema, 404: errorBodySchema, 409: errorBodySchema } },
    },
    async (request) => toApi(await service.cancel(principalOf(request), request.params.id, request.body.reason)),
  );

  // ---- the CAP push endpoint ------------------------------------------------------------------------------

  /** The source a push's `Authorization: Bearer <token>` names; 401 without a valid one. */
  const pushingSource = (request: FastifyRequest): WarningSourceRecord => {
    const m = /^Bearer ([A-Za-z0-9_-]{20,200})$/.exec(request.headers.authorization ?? '');
    const s = m ? sources.byTokenHash(sha256Hex(m[1]!)) : null;
    if (!s) throw new ApiError(401, ErrorCode.UNAUTHORIZED, 'Cần mã truy cập của nguồn cảnh báo: Authorization: Bearer <token>');
    if (s.disabledAt !== null) throw new ApiError(403, ErrorCode.FORBIDDEN, `Nguồn cảnh báo ${s.name} đang bị tắt`);
    return s;
  };

  app.post(
    '/api/v1/warnings/cap',
    {
      // The source's token is checked before the body is read (onRequest): nothing of an unknown sender is parsed.
      config: { access: access.self("a warning source's own token (Authorization: Bearer), checked by the route") },
      onRequest: async (request) => {
        pushingSource(request);
      },
      schema: {
        tags: ['warnings'],
        summary: 'A CAP 1.2 alert pushed by a warning source (application/cap+xml)',
        description: '200 when what it became is settled (aired, waiting, held); 202 when its audio is still being made. A message already taken is answered `accepted: false`.',
        security: [{ bearer: [] }],
        response: { 200: warningPushResultSchema, 202: warningPushResultSchema, 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema, 413: errorBodySchema, 415: errorBodySchema },
      },
    },
    async (request, reply) => {
      const source = pushingSource(request);
      const outcome = await service.ingestCap(source, capBytes(request.body), `push:${request.ip}`, { mediaBase: publicBase(deps.config, request) });
      const done = await within(outcome.settled);
      const state = outcome.warningId ? (warnings.get(outcome.warningId)?.state ?? outcome.state) : outcome.state;
      return reply.status(done ? 200 : 202).send({ accepted: outcome.accepted, warningId: outcome.warningId, state, message: outcome.message });
    },
  );

  // ---- sources --------------------------------------------------------------------------------------------

  const sourceToApi = (s: WarningSourceRecord & { feed?: FeedState }): WarningSource => {
    const f = s.feed ?? sources.state(s.id);
    return {
      id: s.id,
      name: s.name,
      kind: s.kind,
      feedUrl: s.feedUrl,
      pollSeconds: s.pollSeconds,
      areaCodes: s.areaCodes,
      policy: s.policy,
      geocodeValueNames: s.geocodeValueNames,
      requireSignature: s.requireSignature,
      certificateSubject: s.certificateSubject,
      createdAt: iso(s.createdAt)!,
      disabledAt: iso(s.disabledAt),
      feed: s.kind === 'feed' && f ? { lastPolledAt: iso(f.lastPolledAt), lastChangedAt: iso(f.lastChangedAt), lastResult: f.lastResult, failures: f.failures, nextPollAt: iso(f.nextPollAt) } : null,
    };
  };

  const checkAreas = (codes: readonly string[]) => {
    codes.forEach((code, i) => {
      const a = deps.areas.get(code);
      if (!a || a.validUntil) throw badRequest(`Địa bàn ${code} không có trong danh mục địa bàn`, [{ path: `areaCodes.${i}`, message: 'unknown area' }]);
    });
  };
  const liveSource = (id: string) => {
    const s = sources.get(id);
    if (!s || s.deletedAt !== null) throw notFound(`warning source ${id}`);
    return s;
  };
  /** The subject of a PEM X.509 certificate (shown to the admin); 400 when it is not one. */
  const certificateSubjectOf = (pem: string | null | undefined): string | null => {
    if (!pem) return null;
    try {
      return new X509Certificate(pem).subject.replace(/\n/g, ', ').slice(0, 500);
    } catch {
      throw badRequest('certificatePem không phải chứng thư X.509 dạng PEM', [{ path: 'certificatePem', message: 'not a PEM certificate' }]);
    }
  };

  app.get(
    '/api/v1/warning-sources',
    { config: admin('manage warning sources'), schema: { tags: ['warnings'], summary: 'The CAP warning sources with their policy and feed state', response: { 200: warningSourceListSchema } } },
    async () => ({ items: sources.list().map(sourceToApi) }),
  );

  app.post(
    '/api/v1/warning-sources',
    {
      config: admin('manage warning sources'),
      schema: { tags: ['warnings'], summary: 'Add a warning source (its push token is shown once)', body: warningSourceCreateBodySchema, response: { 201: warningSourceCreatedSchema, 400: errorBodySchema } },
    },
    async (request, reply) => {
      const b = request.body;
      checkAreas(b.areaCodes);
      if (b.kind === 'feed' && !b.feedUrl) throw badRequest('Nguồn kiểu feed cần feedUrl', [{ path: 'feedUrl', message: 'required for a feed' }]);
      if (b.requireSignature && !b.certificatePem) throw badRequest('Yêu cầu chữ ký cần chứng thư (certificatePem)', [{ path: 'certificatePem', message: 'required with requireSignature' }]);
      const token = b.kind === 'push' ? newSecret() : null;
      const s: WarningSourceRecord = {
        id: newId('ws'),
        name: b.name,
        kind: b.kind,
        feedUrl: b.feedUrl ?? null,
        pollSeconds: b.pollSeconds,
        areaCodes: [...new Set(b.areaCodes)],
        policy: b.policy,
        geocodeValueNames: b.geocodeValueNames,
        requireSignature: b.requireSignature,
        certificatePem: b.certificatePem ?? null,
        certificateSubject: certificateSubjectOf(b.certificatePem),
        tokenHash: token ? sha256Hex(token) : null,
        createdAt: Date.now(),
        disabledAt: null,
        deletedAt: null,
      };
      sources.insert(s);
      await service.ensureActor(s);
      if (s.kind === 'feed') deps.feedChanged?.(s.id);
      return reply.status(201).send({ ...sourceToApi(s), token });
    },
  );

  app.patch(
    '/api/v1/warning-sources/:id',
    {
      config: admin('manage warning sources'),
      schema: { tags: ['warnings'], summary: 'Change a warning source (its policy, areas, feed, signature; disable it)', params: idParamsSchema, body: warningSourceUpdateBodySchema, response: { 200: warningSourceSchema, 400: errorBodySchema, 404: errorBodySchema } },
    },
    async (request) => {
      const s = liveSource(request.params.id);
      const b = request.body;
      if (b.areaCodes) checkAreas(b.areaCodes);
      const certificatePem = b.certificatePem === undefined ? s.certificatePem : b.certificatePem;
      const next: WarningSourceRecord = {
        ...s,
        name: b.name ?? s.name,
        feedUrl: b.feedUrl ?? s.feedUrl,
        pollSeconds: b.pollSeconds ?? s.pollSeconds,
        areaCodes: b.areaCodes ? [...new Set(b.areaCodes)] : s.areaCodes,
        policy: b.policy ?? s.policy,
        geocodeValueNames: b.geocodeValueNames ?? s.geocodeValueNames,
        requireSignature: b.requireSignature ?? s.requireSignature,
        certificatePem,
        certificateSubject: b.certificatePem === undefined ? s.certificateSubject : certificateSubjectOf(certificatePem),
        disabledAt: b.disabled === undefined ? s.disabledAt : b.disabled ? (s.disabledAt ?? Date.now()) : null,
      };
      if (next.kind === 'feed' && !next.feedUrl) throw badRequest('Nguồn kiểu feed cần feedUrl', [{ path: 'feedUrl', message: 'required for a feed' }]);
      if (next.requireSignature && !next.certificatePem) throw badRequest('Yêu cầu chữ ký cần chứng thư (certificatePem)', [{ path: 'certificatePem', message: 'required with requireSignature' }]);
      sources.update(next);
      if (next.kind === 'feed' && next.disabledAt === null) deps.feedChanged?.(next.id);
      return sourceToApi(next);
    },
  );

  app.delete(
    '/api/v1/warning-sources/:id',
    {
      config: admin('manage warning sources'),
      schema: { tags: ['warnings'], summary: 'Remove a warning source: its token stops working; its warnings stay', params: idParamsSchema, response: { 204: z.null(), 404: errorBodySchema } },
    },
    async (request, reply) => {
      const s = liveSource(request.params.id);
      sources.update({ ...s, tokenHash: null, disabledAt: s.disabledAt ?? Date.now(), deletedAt: Date.now() });
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/v1/warning-sources/:id/token',
    {
      config: admin('manage warning sources'),
      schema: { tags: ['warnings'], summary: 'A new push token for a push source (the old one stops working); shown once', params: idParamsSchema, response: { 200: warningSourceCreatedSchema, 404: errorBodySchema, 409: errorBodySchema } },
    },
    async (request) => {
      const s = liveSource(request.params.id);
      // A feed is pulled: it has no push token, and giving it one would open a second way in.
      if (s.kind !== 'push') throw conflict(`Nguồn ${s.name} là nguồn feed (lấy về), không có mã gửi`);
      const token = newSecret();
      const next = { ...s, tokenHash: sha256Hex(token) };
      sources.update(next);
      return { ...sourceToApi(next), token };
    },
  );

  app.post(
    '/api/v1/warning-sources/:id/preview',
    {
      config: admin('manage warning sources'),
      schema: {
        tags: ['warnings'],
        summary: "What a CAP message (the body, application/cap+xml) would become under this source's areas and policy; nothing is stored or aired",
        params: idParamsSchema,
        response: { 200: warningPreviewSchema, 400: errorBodySchema, 404: errorBodySchema, 413: errorBodySchema, 415: errorBodySchema },
      },
    },
    async (request) => {
      const s = liveSource(request.params.id);
      return previewOf(service.analyse(s, service.read(capBytes(request.body))), true);
    },
  );
};
