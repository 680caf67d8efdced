/**
 * Loa Xã as a source system (issue 17), wired for app.ts: the peers, the served interface under `/national`
 * (children report up, a parent sends down), the downlink that puts what comes down on the Circular 39 paths,
 * and the central side (children's dashboard, sending down). Always mounted: who may call the served interface
 * is the `national_peers` table, empty until the province admin adds a peer.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { NationalSystem } from '@loaxa/shared';
import { nationalMappingsDir, type Config } from '../../config.js';
import type { Db } from '../../db/database.js';
import type { AppContext } from '../../services/context.js';
import { LoginGuard } from '../../auth/login-guard.js';
import { passwordChecks } from '../../auth/passwords.js';
import { NationalPeerRepository } from '../../repos/national-peers.js';
import { NationalInboundRepository } from '../../repos/national-inbound.js';
import { NationalBulletinRepository } from '../../repos/national-bulletins.js';
import { NationalChildRepository } from '../../repos/national-children.js';
import { NationalSentRepository } from '../../repos/national-sent.js';
import { NationalDeviceRepository } from '../../repos/national-devices.js';
import { nationalServedRoutes } from '../../routes/national-served.js';
import { nationalRoutes } from '../../routes/national.js';
import { Downlink, type ScheduleAck } from '../downlink/downlink.js';
import { NationalSender } from '../central/sender.js';
import { loadSealer } from '../central/seal.js';
import { ChildReports } from './child-reports.js';
import { PeerMappings } from './mappings.js';
import { PeerTokens } from './tokens.js';

export interface NationalServedOptions {
  db: Db;
  dataDir: string;
  logger: Logger;
  /** The upstream link's schedule-ack (national/link), when the link is on: told what became of each bulletin from a parent. */
  ack?: ScheduleAck | undefined;
  /** Tests: the tokens' lifetime, and the clock they and the login guard read. */
  tokenTtlMs?: number;
  now?: () => number;
  /** Tests: how long a parent's request waits for a bulletin's audio before it is answered "in progress". */
  answerWaitMs?: number;
}

export interface NationalServed {
  peers: NationalPeerRepository;
  inbound: NationalInboundRepository;
  bulletins: NationalBulletinRepository;
  children: NationalChildRepository;
  sent: NationalSentRepository;
  devices: NationalDeviceRepository;
  tokens: PeerTokens;
  downlink: Downlink;
  sender: NationalSender;
  reports: ChildReports;
  /** What we call ourselves to children (NguonID, TenNguon), as the areas are now. */
  self: () => NationalSystem;
}

export async function wireNationalServed(app: FastifyInstance, config: Config, ctx: AppContext, opts: NationalServedOptions): Promise<NationalServed> {
  const { db, logger } = opts;
  const peers = new NationalPeerRepository(db);
  const inbound = new NationalInboundRepository(db);
  const bulletins = new NationalBulletinRepository(db);
  const children = new NationalChildRepository(db);
  const sent = new NationalSentRepository(db);
  const devices = new NationalDeviceRepository(db);
  const mappings = new PeerMappings(nationalMappingsDir(config));
  const tokens = new PeerTokens({ ...(opts.tokenTtlMs ? { ttlMs: opts.tokenTtlMs } : {}), ...(opts.now ? { now: opts.now } : {}) });
  const sealer = loadSealer(opts.dataDir);
  // Our NguonID toward children: the one the upstream link uses (LOAXA_NATIONAL_SOURCE_ID), else the
  // installation's top area (a province's code), as the link names us (wiring/national-link.ts).
  const self = (): NationalSystem => ({
    id: config.national?.sourceId ?? ctx.areas.all().find((a) => a.parentCode === null)?.code ?? 'LOAXA',
    name: config.national?.sourceName ?? 'Loa Xã',
  });
  const downlink = new Downlink({
    areas: ctx.areas,
    devices: ctx.devices,
    users: ctx.users,
    bulletins: ctx.bulletins,
    broadcasts: ctx.broadcasts,
    offers: ctx.offers,
    broadcastService: ctx.broadcastService,
    bulletinService: ctx.bulletinService,
    bus: ctx.bus,
    requests: ctx.requests,
    nationalBulletins: bulletins,
    nationalDevices: devices,
    addressGuard: ctx.streamAddressGuard,
    uploadDir: join(config.dataDir, 'uploads'),
    ack: opts.ack,
    logger,
    ...(opts.answerWaitMs !== undefined ? { answerWaitMs: opts.answerWaitMs } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  // A child's schedule-ack of a bulletin we sent down is kept with what we sent (GET /api/v1/national/sent).
  const reports = new ChildReports({ areas: ctx.areas, children, onAck: (peer, a) => sent.acknowledged(peer.id, a.bulletinId, a.accepted, a.detail, opts.now?.() ?? Date.now()), ...(opts.now ? { now: opts.now } : {}) });
  const sender = new NationalSender({
    peers,
    sent,
    ancestry: (code) => ctx.areas.ancestry(code),
    bulletins: ctx.bulletins,
    mappings,
    sealer,
    self,
    timeoutMs: config.national?.timeoutMs ?? 10_000,
    maxAnswerBytes: config.national?.maxAnswerBytes ?? 65_536,
    logger,
    ...(opts.now ? { now: opts.now } : {}),
  });
  // Wrong logins to the served interface are counted per peer and address, like the API's (issue 13, finding 5).
  const loginGuard = new LoginGuard({ maxFailures: config.loginMaxFailures, windowMs: 15 * 60_000, lockMs: config.loginLockSeconds * 1000, ...(opts.now ? { now: opts.now } : {}) });
  await app.register(nationalServedRoutes, { config, peers, inbound, tokens, mappings, reports, downlink, loginGuard, passwordChecks, audit: ctx.audit, ...(opts.now ? { now: opts.now } : {}) });
  await app.register(nationalRoutes, { config, areas: ctx.areas, peers, inbound, children, sent, received: bulletins, mappings, tokens, sealer, sender, downlink, ...(opts.now ? { now: opts.now } : {}) });
  return { peers, inbound, bulletins, children, sent, devices, tokens, downlink, sender, reports, self };
}
