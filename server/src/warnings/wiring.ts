/**
 * Disaster warnings (issue 18), wired for app.ts: the sources and warnings repositories, the service that
 * turns CAP messages and the province's form into airings, its routes, the CAP feed we publish, and the
 * timer that moves warnings past their expiry, and the feed poller (feed-poller.ts) that pulls every enabled
 * feed source through the same SSRF guard as relays, with `sources` as its store and `ingest` below.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import type { AppContext } from '../services/context.js';
import { WarningRepository } from '../repos/warnings.js';
import { WarningSourceRepository } from '../repos/warning-sources.js';
import { warningRoutes } from '../routes/warnings.js';
import { capFeedRoutes } from '../routes/cap-feed.js';
import { WarningService, type IngestOutcome } from './warning-service.js';
import { WarningFeedPoller } from './feed-poller.js';

/** How often warnings past their expiry are moved to `expired` (reads check too). */
const EXPIRY_SWEEP_MS = 30_000;

export interface WarningsWired {
  sources: WarningSourceRepository;
  warnings: WarningRepository;
  service: WarningService;
  /** What the feed poller calls with each alert it pulls; a refused message rejects with the ApiError. */
  ingest: (sourceId: string, xml: Uint8Array, origin: string) => Promise<IngestOutcome>;
  /** Pulls the feed sources (CAP, Atom or RSS) on their own schedules, with ETags and backoff. */
  poller: WarningFeedPoller;
  start(): void;
  stop(): Promise<void>;
}

export async function wireWarnings(
  app: FastifyInstance,
  config: Config,
  ctx: AppContext,
  opts: { db: Db; logger: Logger; mediaBase: () => string; clock?: { now: () => number; schedule?: (fn: () => void, ms: number) => () => void } | undefined; answerWaitMs?: number },
): Promise<WarningsWired> {
  const sources = new WarningSourceRepository(opts.db);
  const warnings = new WarningRepository(opts.db);
  const now = opts.clock?.now;
  const service = new WarningService({
    capSender: config.capSender,
    ttsVoice: config.ttsVoice,
    areas: ctx.areas,
    devices: ctx.devices,
    users: ctx.users,
    bulletins: ctx.bulletins,
    broadcasts: ctx.broadcasts,
    broadcastService: ctx.broadcastService,
    bulletinService: ctx.bulletinService,
    speech: ctx.speech,
    warnings,
    mediaBase: opts.mediaBase,
    logger: opts.logger,
    ...(now ? { now } : {}),
  });

  await app.register(capFeedRoutes, { config, areas: ctx.areas, warnings, ...(now ? { now } : {}) });

  const schedule =
    opts.clock?.schedule ??
    ((fn: () => void, ms: number) => {
      const t = setTimeout(fn, ms);
      t.unref();
      return () => clearTimeout(t);
    });
  let cancel: (() => void) | null = null;
  const sweep = () => {
    try {
      service.expireDue();
    } catch (err) {
      opts.logger.error({ err }, 'the warnings expiry sweep failed');
    }
    cancel = schedule(sweep, EXPIRY_SWEEP_MS);
  };
  const ingest = async (sourceId: string, xml: Uint8Array, origin: string): Promise<IngestOutcome> => {
    const s = sources.get(sourceId);
    if (!s || s.deletedAt !== null || s.disabledAt !== null) throw new Error(`warning source ${sourceId} is gone or disabled`);
    return service.ingestCap(s, xml, origin);
  };
  // A feed on the province's LAN is allowed only where LOAXA_SOURCE_PRIVATE_NETS says so, as for relays (issue 15
  // review: SSRF): a feed cannot send the server to its own host or network.
  const poller = new WarningFeedPoller({ sources, ingest, guard: ctx.streamAddressGuard, logger: opts.logger.child({ module: 'warning-feeds' }), ...(opts.clock ? { clock: opts.clock } : {}) });
  let running = false;
  const feedChanged = (id: string) => {
    if (running) void poller.pollNow(id).catch((err: unknown) => opts.logger.warn({ err, sourceId: id }, 'a warning feed could not be read'));
  };
  await app.register(warningRoutes, { config, areas: ctx.areas, warnings, sources, service, feedChanged, ...(opts.answerWaitMs !== undefined ? { answerWaitMs: opts.answerWaitMs } : {}) });
  return {
    sources,
    warnings,
    service,
    ingest,
    poller,
    start: () => {
      if (!cancel) sweep();
      poller.start();
      running = true;
    },
    stop: async () => {
      running = false;
      cancel?.();
      cancel = null;
      await poller.stop();
    },
  };
}
