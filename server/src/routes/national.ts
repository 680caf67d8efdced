/**
 * The national link for the province admin (issue 17; Decision 135/QĐ-TTg, CV 1273/BTTTT-TTCS): the other
 * systems of the link (peers: the parent that sends bulletins down to us, the children that report up and take
 * bulletins from us), what they sent to the served interface, the children's coverage and as-run (the central
 * dashboard), and bulletins sent down to chosen children with each child's answer. Province admins only: a
 * peer's credentials open the served interface for whole areas.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  idParamsSchema,
  nationalChildAiringsQuerySchema,
  nationalChildAiringsSchema,
  nationalChildrenQuerySchema,
  nationalChildrenSchema,
  nationalInboundQuerySchema,
  nationalInboundSchema,
  nationalPeerCreateBodySchema,
  nationalPeerCreatedSchema,
  nationalPeerListSchema,
  nationalPeerSchema,
  nationalPeerUpdateBodySchema,
  nationalReceivedListSchema,
  nationalSendBodySchema,
  nationalSendResultSchema,
  nationalSentListSchema,
  type NationalPeer,
} from '@loaxa/shared';
import { principalOf } from '../http/auth.js';
import { badRequest, conflict, errorBodySchema, notFound } from '../http/errors.js';
import { access, ADMINS } from '../http/access.js';
import { publicBase } from '../http/public-base.js';
import { generatePassword, hashPassword } from '../auth/passwords.js';
import { newId } from '../ids.js';
import type { Config } from '../config.js';
import type { AreaRepository } from '../repos/areas.js';
import type { NationalPeerRecord, NationalPeerRepository } from '../repos/national-peers.js';
import type { NationalInboundRepository } from '../repos/national-inbound.js';
import type { NationalChildRepository } from '../repos/national-children.js';
import type { NationalSentRecord, NationalSentRepository } from '../repos/national-sent.js';
import type { NationalBulletinRepository } from '../repos/national-bulletins.js';
import type { PeerMappings } from '../national/served/mappings.js';
import type { PeerTokens } from '../national/served/tokens.js';
import type { Sealer } from '../national/central/seal.js';
import { NationalSender, SendRefusal } from '../national/central/sender.js';
import type { Downlink } from '../national/downlink/downlink.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const DAY_MS = 86_400_000;

export interface NationalRouteDeps {
  config: Pick<Config, 'publicUrl'>;
  areas: AreaRepository;
  peers: NationalPeerRepository;
  inbound: NationalInboundRepository;
  children: NationalChildRepository;
  sent: NationalSentRepository;
  received: NationalBulletinRepository;
  mappings: PeerMappings;
  tokens: PeerTokens;
  sealer: Sealer;
  sender: NationalSender;
  downlink: Downlink;
  /** The server's clock (tests: a fake one), for the 15-minute online window. */
  now?: () => number;
}

const toApi = (p: NationalPeerRecord): NationalPeer => ({
  id: p.id,
  role: p.role,
  name: p.name,
  sourceId: p.sourceId,
  mapping: p.mapping,
  username: p.username,
  areaCodes: p.areaCodes,
  baseUrl: p.baseUrl,
  outUsername: p.outUsername,
  hasOutPassword: p.outPasswordSealed !== null,
  createdAt: iso(p.createdAt)!,
  revokedAt: iso(p.revokedAt),
});

const sentToApi = (s: NationalSentRecord, peers: NationalPeerRepository) => ({
  id: s.id,
  peerId: s.peerId,
  peerName: peers.get(s.peerId)?.name ?? s.peerId,
  upstreamId: s.upstreamId,
  title: s.title,
  priority: s.priority,
  sentAt: iso(s.sentAt)!,
  ok: s.ok,
  detail: s.detail,
  httpStatus: s.httpStatus,
  ack: s.ack ? { at: iso(s.ack.at)!, accepted: s.ack.accepted, detail: s.ack.detail } : null,
});

export const nationalRoutes: FastifyPluginAsyncZod<NationalRouteDeps> = async (app, deps) => {
  const admin = (why: string) => ({ access: access.roles(ADMINS, { scope: 'the whole installation' }, { installationWide: true, why }) });

  /** Area codes the peer may act on: each a current area of ours. */
  const checkAreas = (codes: readonly string[], path = 'areaCodes') => {
    codes.forEach((code, i) => {
      const a = deps.areas.get(code);
      if (!a || a.validUntil) throw badRequest(`Địa bàn ${code} không có trong danh mục địa bàn`, [{ path: `${path}.${i}`, message: 'unknown area' }]);
    });
  };
  // A name in the mappings folder only, and resolveMapping's errors never quote the file (issue 17 review:
  // a path here read any server file back in the 400).
  const checkMapping = (name: string) => {
    try {
      deps.mappings.get(name);
    } catch (err) {
      throw badRequest(`Tệp ánh xạ ${name} không dùng được: ${(err as Error).message.slice(0, 500)}`, [{ path: 'mapping', message: 'invalid mapping' }]);
    }
  };

  app.post(
    '/api/v1/national/peers',
    {
      config: admin('manage the national link'),
      schema: {
        tags: ['national'],
        summary: 'Add a peer of the national link: a parent that sends bulletins down, or a child that reports up (its password is shown once)',
        body: nationalPeerCreateBodySchema,
        response: { 201: nationalPeerCreatedSchema, 400: errorBodySchema, 409: errorBodySchema },
      },
    },
    async (request, reply) => {
      const b = request.body;
      checkAreas(b.areaCodes);
      checkMapping(b.mapping);
      if (deps.peers.usernameTaken(b.username)) throw conflict(`Tên đăng nhập ${b.username} đã dùng cho hệ thống khác`);
      if ((b.outUsername === undefined) !== (b.outPassword === undefined)) throw badRequest('outUsername và outPassword phải có cùng nhau', [{ path: 'outPassword', message: 'give both or neither' }]);
      const password = generatePassword();
      const peer: NationalPeerRecord = {
        id: newId('np'),
        role: b.role,
        name: b.name,
        sourceId: b.sourceId,
        mapping: b.mapping,
        username: b.username,
        passwordHash: await hashPassword(password),
        areaCodes: [...new Set(b.areaCodes)],
        baseUrl: b.baseUrl ?? null,
        outUsername: b.outUsername ?? null,
        outPasswordSealed: b.outPassword ? deps.sealer.seal(b.outPassword) : null,
        createdAt: Date.now(),
        revokedAt: null,
      };
      deps.peers.insert(peer);
      if (peer.role === 'parent') await deps.downlink.ensureActor(peer);
      request.log.info({ peerId: peer.id, role: peer.role }, 'national peer added');
      return reply.status(201).send({ ...toApi(peer), password });
    },
  );

  app.get(
    '/api/v1/national/peers',
    { config: admin('see the national link'), schema: { tags: ['national'], summary: 'The peers of the national link', response: { 200: nationalPeerListSchema } } },
    async () => ({ items: deps.peers.list().map(toApi) }),
  );

  const load = (id: string): NationalPeerRecord => {
    const p = deps.peers.get(id);
    if (!p || p.revokedAt !== null) throw notFound(`national peer ${id}`);
    return p;
  };

  app.get(
    '/api/v1/national/peers/:id',
    { config: admin('see the national link'), schema: { tags: ['national'], summary: 'One peer', params: idParamsSchema, response: { 200: nationalPeerSchema, 404: errorBodySchema } } },
    async (request) => toApi(load(request.params.id)),
  );

  app.put(
    '/api/v1/national/peers/:id',
    {
      config: admin('manage the national link'),
      schema: {
        tags: ['national'],
        summary: 'Change a peer (areas, mapping, where we send down and how we log in there; resetPassword makes a new password it logs in with, shown once)',
        params: idParamsSchema,
        body: nationalPeerUpdateBodySchema,
        response: { 200: nationalPeerCreatedSchema, 400: errorBodySchema, 404: errorBodySchema },
      },
    },
    async (request) => {
      const cur = load(request.params.id);
      const b = request.body;
      if (b.areaCodes) checkAreas(b.areaCodes);
      if (b.mapping) checkMapping(b.mapping);
      let password: string | undefined;
      const next: NationalPeerRecord = {
        ...cur,
        ...(b.name !== undefined ? { name: b.name } : {}),
        ...(b.sourceId !== undefined ? { sourceId: b.sourceId } : {}),
        ...(b.mapping !== undefined ? { mapping: b.mapping } : {}),
        ...(b.areaCodes !== undefined ? { areaCodes: [...new Set(b.areaCodes)] } : {}),
        ...(b.baseUrl !== undefined ? { baseUrl: b.baseUrl } : {}),
        ...(b.outUsername !== undefined ? { outUsername: b.outUsername } : {}),
        ...(b.outPassword !== undefined ? { outPasswordSealed: b.outPassword === null ? null : deps.sealer.seal(b.outPassword) } : {}),
      };
      if (b.resetPassword) {
        password = generatePassword();
        next.passwordHash = await hashPassword(password);
        // The old password's tokens stop with it.
        deps.tokens.revokePeer(cur.id);
      }
      deps.peers.update(next);
      return { ...toApi(next), ...(password ? { password } : {}) };
    },
  );

  app.delete(
    '/api/v1/national/peers/:id',
    { config: admin('manage the national link'), schema: { tags: ['national'], summary: 'Revoke a peer: it can no longer log in; its history stays', params: idParamsSchema, response: { 204: z.null(), 404: errorBodySchema } } },
    async (request, reply) => {
      const p = load(request.params.id);
      deps.peers.revoke(p.id, Date.now());
      deps.tokens.revokePeer(p.id);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/v1/national/received',
    {
      config: admin('see the national link'),
      schema: {
        tags: ['national'],
        summary: 'Bulletins that came down from parents, newest first, and what each became here (inbox, scheduled, aired, deleted, failed and why)',
        querystring: z.object({ peerId: z.string().max(64).optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }),
        response: { 200: nationalReceivedListSchema, 400: errorBodySchema },
      },
    },
    async (request) => ({
      items: deps.received.list(request.query.peerId, request.query.limit).map((r) => {
        const cmd = JSON.parse(r.commandJson) as { title?: unknown; priority?: unknown };
        return {
          peerId: r.peerId,
          upstreamId: r.upstreamId,
          title: typeof cmd.title === 'string' ? cmd.title : '',
          priority: typeof cmd.priority === 'string' ? cmd.priority : '',
          bulletinId: r.bulletinId,
          state: r.state,
          detail: r.detail,
          broadcastIds: r.broadcastIds,
          offerIds: r.offerIds,
          receivedAt: iso(r.receivedAt)!,
          updatedAt: iso(r.updatedAt)!,
        };
      }),
    }),
  );

  app.get(
    '/api/v1/national/inbound',
    {
      config: admin('see the national link'),
      schema: {
        tags: ['national'],
        summary: 'What reached the served interface, newest first: taken or refused, and why',
        querystring: nationalInboundQuerySchema,
        response: { 200: z.object({ items: z.array(nationalInboundSchema), next: z.string().nullable() }), 400: errorBodySchema },
      },
    },
    async (request) => {
      const { peerId, accepted, limit, cursor } = request.query;
      const before = cursor && /^\d{1,15}$/.test(cursor) ? Number(cursor) : undefined;
      const rows = deps.inbound.list({ peerId, accepted: accepted === undefined ? undefined : accepted === 'true', limit: limit + 1, beforeId: before });
      const page = rows.slice(0, limit);
      return {
        items: page.map((r) => ({ id: r.id, peerId: r.peerId, kind: r.kind, receivedAt: iso(r.receivedAt)!, accepted: r.accepted, detail: r.detail })),
        next: rows.length > limit ? String(page.at(-1)!.id) : null,
      };
    },
  );

  const windowOf = (q: { from?: string | undefined; to?: string | undefined }) => {
    const to = q.to ? Date.parse(q.to) : (deps.now?.() ?? Date.now()) + 1;
    const from = q.from ? Date.parse(q.from) : to - DAY_MS;
    if (from >= to) throw badRequest('from phải trước to', [{ path: 'from', message: 'not before to' }]);
    return { from, to };
  };

  app.get(
    '/api/v1/national/children',
    {
      config: admin('see the children of the national link'),
      schema: {
        tags: ['national'],
        summary: 'Per child: boxes known, online (heard within 15 min), faulty, communes with working coverage, airings in the window (default the last 24 h), last report',
        querystring: nationalChildrenQuerySchema,
        response: { 200: nationalChildrenSchema, 400: errorBodySchema },
      },
    },
    async (request) => {
      const { from, to } = windowOf(request.query);
      const now = deps.now?.() ?? Date.now();
      const items = deps.peers.list('child').map((p) => {
        const c = deps.children.counts(p.id, now, from, to);
        return { peerId: p.id, name: p.name, sourceId: p.sourceId, ...c, lastReportAt: iso(c.lastReportAt) };
      });
      return { from: iso(from)!, to: iso(to)!, items };
    },
  );

  app.get(
    '/api/v1/national/children/:id/airings',
    {
      config: admin('see the children of the national link'),
      schema: {
        tags: ['national'],
        summary: 'A child’s as-run: each airing its boxes reported, with its start, end and result',
        params: idParamsSchema,
        querystring: nationalChildAiringsQuerySchema,
        response: { 200: nationalChildAiringsSchema, 400: errorBodySchema, 404: errorBodySchema },
      },
    },
    async (request) => {
      const p = load(request.params.id);
      const { from, to } = windowOf(request.query);
      const items = deps.children.airings(p.id, from, to, request.query.limit).map((a) => ({
        airingKey: a.airingKey,
        bulletinId: a.bulletinId,
        boxNationalId: a.boxNationalId,
        areaCode: a.areaCode,
        title: a.title,
        contentType: a.contentType,
        priority: a.priority,
        relaySource: a.relaySource,
        startedAt: iso(a.startedAt),
        endedAt: iso(a.endedAt),
        ok: a.ok,
        airedS: a.airedS,
      }));
      return { peerId: p.id, items };
    },
  );

  app.post(
    '/api/v1/national/send',
    {
      config: admin('send bulletins down the national link'),
      schema: {
        tags: ['national'],
        summary: 'Send a bulletin down to chosen children (ours by id, or a title and audio link), each in its own vocabulary; answers each child’s answer',
        body: nationalSendBodySchema,
        response: { 200: nationalSendResultSchema, 400: errorBodySchema, 409: errorBodySchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const base = publicBase(deps.config, request);
      try {
        const r = await deps.sender.send(request.body, { userId: user.id, username: user.username }, (sha256) => `${base}${app.mediaLinks.sign(sha256, user.id).url}`);
        return { bulletinId: r.bulletinId, items: r.items.map((s) => sentToApi(s, deps.peers)) };
      } catch (err) {
        if (err instanceof SendRefusal) {
          if (err.status === 409) throw conflict(err.message);
          throw badRequest(err.message, [{ path: err.field, message: err.message }]);
        }
        throw err;
      }
    },
  );

  app.get(
    '/api/v1/national/sent',
    {
      config: admin('see the national link'),
      schema: {
        tags: ['national'],
        summary: 'Bulletins sent down to children, newest first, with each child’s answer',
        querystring: z.object({ peerId: z.string().max(64).optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }),
        response: { 200: nationalSentListSchema, 400: errorBodySchema },
      },
    },
    async (request) => ({ items: deps.sent.list(request.query.peerId, request.query.limit).map((s) => sentToApi(s, deps.peers)) }),
  );
};
