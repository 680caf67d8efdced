/**
 * The composition root (STYLE.md habit 1): builds every component from the config, wires them, and
 * gives the process one `start()` and one bounded `stop()`. Nothing starts in a constructor.
 * Each feature is wired in its own file under wiring/ (storage, speech, delivery with the broker, http);
 * every dependency goes to a constructor, and features tell each other things on the event bus.
 */
import { StreamAddressGuard } from './relay/address-guard.js';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { encodeMessage, topics } from '@loaxa/shared';
import { configWith, type Config } from './config.js';
import { generatePassword, hashPassword } from './auth/passwords.js';
import { ObjectScope } from './auth/objects.js';
import type { SpeechRenderer } from './services/bulletin-service.js';
import type { AppContext } from './services/context.js';
import type { Db } from './db/database.js';
import { CalendarService } from './scheduling/calendar-service.js';
import { CalendarRepository } from './scheduling/calendar-repo.js';
import { calendarRoutes } from './routes/calendar.js';
import { ServerEvents } from './services/events.js';
import { CoverageService } from './services/coverage-service.js';
import { SourceChecker } from './services/source-checker.js';
import { ProgrammeService } from './services/programme-service.js';
import { LiveService } from './live/live-service.js';
import { IcecastMount } from './live/icecast-push.js';
import { ffmpegPath } from './audio/ffmpeg.js';
import type { UserRepository } from './repos/users.js';
import { openStorage } from './wiring/storage.js';
import { wireSpeech } from './wiring/speech.js';
import { wireDelivery } from './wiring/delivery.js';
import { buildHttp } from './wiring/http.js';
import { newId } from './ids.js';
import { wireNationalLink } from './wiring/national-link.js';
import type { NationalLink } from './national/link/link-service.js';
import { nationalLinkRoutes } from './routes/national-link.js';
import { wireNationalServed, type NationalServed } from './national/served/wiring.js';
import { BackupService } from './backup/backup-service.js';
import { wireWarnings, type WarningsWired } from './warnings/wiring.js';
import { wireFeeds, type FeedsWired } from './feeds/wiring.js';
import { wireNotifications, type NotificationsWired } from './notifications/wiring.js';

export const SERVER_VERSION = '0.1.0';

export interface LoaxaServer {
  app: FastifyInstance;
  /** Everything built, for tests and tools, with the database under it (routes get only their part of it). */
  ctx: AppContext & { db: Db };
  logger: Logger;
  /** The upstream link to the province (issue 17); null when LOAXA_NATIONAL_URL is unset. `ack` queues a schedule-ack. */
  nationalLink: NationalLink | null;
  /** Loa Xã as a source system (issue 17): peers, the served interface's parts, the downlink and the sender. */
  national: NationalServed;
  /** Disaster warnings (issue 18): sources, warnings, the service, and what the feed poller ingests through. */
  warnings: WarningsWired;
  /** The communes' web pages (issue 22): public bulletins as podcast, notices, player and share links. */
  feeds: FeedsWired;
  /** Notifications (issue 20): the list, the service on the event bus, Web Push and e-mail. */
  notifications: NotificationsWired;
  /** Listens on HTTP and MQTT; answers the URLs actually bound (ports may be ephemeral). */
  start(): Promise<{ httpUrl: string; mqttUrl: string; httpPort: number; mqttPort: number }>;
  /** Bounded graceful shutdown (STYLE.md habit 8). Safe to call twice. */
  stop(): Promise<void>;
}

export interface BuildOptions {
  logger?: Logger;
  /** Replaces the TTS pipeline (tests that do not exercise audio). */
  render?: SpeechRenderer;
  /**
   * The server's time for tests (test/helpers/clock.ts `fakeClock()`): the login guard, the scheduler (its
   * tick through `schedule`), the delivery and agenda services, the misbehaviour meter and the broker's
   * connect rate. A test advances it past an offer's expiry, a lock or a refilled budget instead of sleeping.
   * Real time when absent. Routes and repositories still stamp rows with Date.now.
   */
  clock?: { now: () => number; schedule?: (fn: () => void, ms: number) => () => void };
  /** The login guard's time alone (it wins over `clock` there): a test moves it past a lock. */
  loginNow?: () => number;
}

export async function buildApp(config: Config, opts: BuildOptions = {}): Promise<LoaxaServer> {
  const logger = opts.logger ?? pino({ level: config.logLevel, base: { service: 'loaxa-server' } });
  const dataDir = resolve(config.dataDir);
  const tls = config.tls ? { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) } : undefined;
  // The database, every repository on it, the media files and the boxes' credentials (wiring/storage.ts).
  const storage = await openStorage(dataDir);
  const { db, areas, users, devices, deviceCredentials, broadcasts, bulletins, offers, faults } = storage;
  // Cross-feature notices (services/events.ts): delivery transitions, presence, sessions, a box gone.
  const events = new ServerEvents();
  const objects = new ObjectScope({ areas, devices, deviceAreas: deviceCredentials, broadcasts, bulletins, offers, users, sources: storage.sources });
  // TTS engines and the bulletin service (wiring/speech.ts).
  const { engine, speech, render, bulletinService } = wireSpeech(config, { logger, dataDir, storage, render: opts.render });
  // The broker, the delivery service with its ingest, agendas, the scheduler, broadcasts (wiring/delivery.ts).
  const { broker, meter, requests, deliveryService, agenda, scheduler, broadcastService } = wireDelivery(config, { logger, serverVersion: SERVER_VERSION, tls, events, objects, storage, speech, clock: opts.clock });
  const coverage = new CoverageService({ snapshots: storage.coverageSnapshots, areas, devices, faults, events });
  // Live sources checked with ffmpeg, every LOAXA_SOURCE_CHECK_SECONDS and on demand (issue 15).
  // Neither the checks nor the restream open the server's own host or LAN (issue 15 review, SSRF).
  const streamAddressGuard = new StreamAddressGuard(config.sourcePrivateNets);
  const sourceChecker = new SourceChecker({ sources: storage.sources, logger, intervalMs: config.sourceCheckSeconds * 1000, addressGuard: streamAddressGuard });
  // Programmes (issue 15): saved with their files made, a new version resent to the boxes that hold it.
  const programmeService = new ProgrammeService({
    bulletins,
    programmes: storage.programmes,
    broadcasts,
    sources: storage.sources,
    objects,
    media: storage.media,
    needsApproval: (user) => broadcastService.needsApproval(user, 'normal'),
    checkAiring: (user, target, sources) => broadcastService.checkAiringEdit(user, target, sources),
    resync: async (deviceIds) => {
      agenda.markDirty(deviceIds);
      await agenda.flush();
    },
    logger,
  });
  // Live voice (issue 16): checked once, sent as an approved broadcast, the voice fanned out to the boxes (or
  // pushed to Icecast for large fleets), the recording mastered into the bulletin's audio at the end.
  const live = new LiveService({
    config,
    dataDir,
    live: storage.live,
    bulletins,
    broadcasts,
    broadcastService,
    scheduler,
    delivery: deliveryService,
    agenda,
    bulletinService,
    ffmpegPath: ffmpegPath(),
    logger,
    icecast: config.liveIcecast ? new IcecastMount(config.liveIcecast, logger) : undefined,
  });
  // Nightly online backups when LOAXA_BACKUP_DIR is set (issue 21; backup/backup.ts).
  const backups = config.backup ? new BackupService({ db, dataDir, settings: config.backup, inventory: () => storage.opsCounts.inventory(), logger }) : null;
  const shutdownHooks: Array<() => void> = [];
  let mqttPort = config.mqttPort;

  const ctx: AppContext = {
    config,
    areas,
    users,
    sessions: storage.sessions,
    devices,
    deviceCredentials,
    bulletins,
    broadcasts,
    media: storage.media,
    dictionary: storage.dictionary,
    voiceSettings: storage.voiceSettings,
    faults,
    speech,
    render,
    bulletinService,
    deliveryService,
    scheduler,
    agenda,
    coverage,
    events,
    requests,
    bus: broker,
    brokerIdentities: broker.deviceIdentities ?? null,
    onShutdown: (fn) => shutdownHooks.push(fn),
    broadcastService,
    objects,
    offers,
    asRun: storage.asRun,
    monthlyReport: storage.monthlyReport,
    audit: storage.audit,
    claims: storage.claims,
    sources: storage.sources,
    sourceChecker,
    streamAddressGuard,
    relayLog: storage.relayLog,
    programmes: storage.programmes,
    programmeService,
    live,
    misbehaviour: meter,
    mqttPort: () => mqttPort,
    disconnectDevice: (id) => broker.disconnect(id),
    opsCounts: storage.opsCounts,
    brokerHealth: () => broker.health(),
    backups,
  };
  // The upstream link to the province's source system (issue 17; off unless LOAXA_NATIONAL_URL is set): box
  // statuses, play logs and schedule acks through the on-disk outbox (wiring/national-link.ts).
  const nationalLink = wireNationalLink(config, { db, events, areas, devices, logger, clock: opts.clock });
  // Parsers, access control, the API description and every route (wiring/http.ts).
  const app = await buildHttp(config, ctx, { logger, dataDir, serverVersion: SERVER_VERSION, tls, loginNow: opts.loginNow ?? opts.clock?.now });
  await app.register(nationalLinkRoutes, { link: nationalLink, now: opts.clock?.now ?? Date.now });
  // The week calendar (issue 20): an area's or a box's airings, and the series move.
  const calendar = new CalendarService({ areas, devices, deviceAreas: deviceCredentials, broadcasts, bulletins, objects, broadcastService, delivery: deliveryService, scheduler, agenda, calendar: new CalendarRepository(db), ...(opts.clock ? { now: opts.clock.now } : {}) });
  await app.register(calendarRoutes, { calendar, broadcasts, objects });
  // Loa Xã as a source system (issue 17): the national interface served under /national, what comes down from a
  // parent on the Circular 39 paths, children's reports and sending down (national/served/wiring.ts).
  // What became of a bulletin from a parent goes up as a schedule-ack through the link's outbox, when it is on.
  const national = await wireNationalServed(app, config, ctx, {
    db,
    dataDir,
    logger,
    ack: nationalLink ? (_peer, a) => nationalLink.ack(a.bulletinId, a.accepted, a.detail) : undefined,
    ...(opts.clock ? { now: opts.clock.now } : {}),
  });
  // Disaster warnings (issue 18): CAP in (pushed, pulled by the feed poller), the province's form, CAP out.
  // Audio links of a warning that arrives without a request (a feed poll) use LOAXA_PUBLIC_URL, else the
  // address the server listens on.
  let httpBase = config.publicUrl ?? '';
  const warnings = await wireWarnings(app, config, ctx, { db, logger, mediaBase: () => httpBase, clock: opts.clock });
  // The communes' web pages (issue 22): podcast, notices, embeddable player and share links under /xa/.
  const feeds = await wireFeeds(app, config, ctx, { db, logger });
  // Notifications (issue 20): approvals waiting, decisions, box faults and coverage drops from the event bus, in the
  // app's list, by Web Push and by e-mail (links to LOAXA_PUBLIC_URL, else where the server listens).
  const notifications = await wireNotifications(app, config, ctx, { db, dataDir, logger, base: () => httpBase, ...(opts.clock ? { now: opts.clock.now } : {}) });

  let stopping: Promise<void> | null = null;
  let started = false;

  return {
    app,
    ctx: { ...ctx, db },
    logger,
    nationalLink,
    national,
    warnings,
    feeds,
    notifications,
    async start() {
      await ensureAdmin(users, config, logger);
      // Before the boxes connect: a fault reported at their first connect is told too.
      notifications.service.start();
      devices.markAllOffline();
      // Heartbeats appended but not folded when the server last stopped (a crash or power cut): fold them
      // before anything reads the devices.
      try {
        const recovered = devices.recoverLog();
        if (recovered) logger.info({ heartbeats: recovered }, 'heartbeats from the log folded into the devices after an unclean stop');
      } catch (err) {
        // They stay in the log, counted, and the next fold tries again; the server must still start.
        logger.error({ err }, 'heartbeats left in the log could not be folded into the devices');
      }
      mqttPort = (await broker.start()).port;
      await deliveryService.start();
      nationalLink?.start();
      // Before the scheduler's first pass: airings a crash left on air end, rather than being sent again.
      await live.start();
      await scheduler.start();
      coverage.start(config.coverageSnapshotSeconds * 1000, (err) => logger.error({ err }, 'coverage snapshot failed'));
      sourceChecker.start();
      await broker.publish(topics.serverStatus(), encodeMessage('status', { state: 'online', agentVersion: SERVER_VERSION }), { qos: 1, retain: true });
      // Thousands of boxes connect at once when a bulletin goes out: with Node's default backlog (511) the
      // kernel drops the SYNs beyond it and each such box waits a 1 s retransmit (bench/media.ts measured it).
      // Linux caps this at net.core.somaxconn (4096 by default).
      await app.listen({ port: config.httpPort, host: config.httpHost, backlog: 4096 });
      bulletinService.start();
      backups?.start();
      started = true;
      const httpPort = (app.server.address() as AddressInfo).port;
      const host = config.httpHost === '0.0.0.0' || config.httpHost === '::' ? '127.0.0.1' : config.httpHost;
      const urls = { httpUrl: `${tls ? 'https' : 'http'}://${host}:${httpPort}`, mqttUrl: `${tls && !config.mqttUrl ? 'mqtts' : 'mqtt'}://${host}:${mqttPort}`, httpPort, mqttPort };
      if (!config.publicUrl) httpBase = urls.httpUrl;
      warnings.start();
      logger.info(urls, 'Loa Xã server listening');
      return urls;
    },
    stop() {
      stopping ??= (async () => {
        const deadline = setTimeout(() => {
          // Heartbeats, statuses and reports still batched in memory are written even on a hard exit.
          try {
            deliveryService.flush();
          } catch (err) {
            logger.error({ err }, 'could not write the last batched device messages');
          }
          logger.error('shutdown exceeded LOAXA_SHUTDOWN_TIMEOUT_MS; exiting hard');
          process.exit(1);
        }, config.shutdownTimeoutMs);
        deadline.unref();
        try {
          if (started) {
            await broker
              .publish(topics.serverStatus(), encodeMessage('status', { state: 'offline', agentVersion: SERVER_VERSION }), { qos: 1, retain: true })
              .catch(() => undefined);
          }
          // Long-lived streams (SSE) would hold app.close() open until their clients leave.
          for (const fn of shutdownHooks.splice(0)) fn();
          await warnings.stop();
          await app.close();
          // Pushes and e-mails under way are finished (each bounded by its own timeout).
          await notifications.service.stop();
          // An emergency answered moments ago may still be sending to each box: let it finish on the open broker and database.
          await broadcastService.idle();
          scheduler.stop();
          coverage.stop();
          await sourceChecker.stop();
          deliveryService.stop();
          // Play logs of the last transitions queued, the request in flight ended (it stays pending in the outbox).
          await nationalLink?.stop();
          await bulletinService.stop(Math.max(100, config.shutdownTimeoutMs / 2));
          // Before the database closes: a backup under way reads it.
          await backups?.stop();
          await broker.stop();
          await engine.close();
          db.close();
        } finally {
          clearTimeout(deadline);
        }
      })();
      return stopping;
    },
  };
}

/** On the first start, the province admin (LOAXA_ADMIN_USERNAME), with LOAXA_ADMIN_PASSWORD or a printed one. */
async function ensureAdmin(users: UserRepository, config: Config, logger: Logger): Promise<void> {
  if (users.count() > 0) return;
  const password = config.adminPassword ?? generatePassword();
  users.insert({ id: newId('u'), username: config.adminUsername, passwordHash: await hashPassword(password), role: 'province-admin', areaCode: null, disabled: false, createdAt: Date.now() });
  if (!config.adminPassword) {
    // Printed once, on the first start only: it is not stored anywhere in clear.
    logger.warn({ username: config.adminUsername }, `created user "${config.adminUsername}" with password: ${password} — change it or set LOAXA_ADMIN_PASSWORD before the first start`);
  } else {
    logger.info({ username: config.adminUsername }, 'created the admin user from LOAXA_ADMIN_PASSWORD');
  }
}

/** Builds and starts a server with defaults and overrides, for the demo and tests. */
export async function startServer(overrides: Partial<Config>, opts: BuildOptions = {}): Promise<LoaxaServer & { urls: Awaited<ReturnType<LoaxaServer['start']>> }> {
  const server = await buildApp(configWith(overrides), opts);
  const urls = await server.start();
  return { ...server, urls };
}
