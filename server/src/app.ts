/**
 * The composition root (STYLE.md habit 1): builds every component from the config, wires them, and
 * gives the process one `start()` and one bounded `stop()`. Nothing starts in a constructor.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import { serializerCompiler, validatorCompiler, jsonSchemaTransform, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { pino, type Logger } from 'pino';
import { join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { encodeMessage, ErrorCode, topics } from '@loaxa/shared';
import { configWith, type Config } from './config.js';
import { openDatabase } from './db/database.js';
import { AreaRepository } from './repos/areas.js';
import { UserRepository } from './repos/users.js';
import { SessionRepository } from './repos/sessions.js';
import { DeviceRepository } from './repos/devices.js';
import { BulletinRepository } from './repos/bulletins.js';
import { BroadcastRepository } from './repos/broadcasts.js';
import { MediaStore, PcmChunkCache } from './audio/index.js';
import { DictionaryRepository } from './repos/dictionary.js';
import { OfferRepository } from './repos/offers.js';
import { FaultRepository } from './repos/faults.js';
import { AsRunRepository } from './repos/as-run.js';
import { AuditRepository } from './repos/audit.js';
import { ClaimRepository } from './repos/claims.js';
import { CoverageSnapshotRepository } from './repos/coverage.js';
import { DeviceAgendaRepository } from './repos/agendas.js';
import { SpeechService } from './services/speech.js';
import { renderRecording } from './services/recording.js';
import { buildTtsEngine } from './tts-engines.js';
import { EmbeddedBroker } from './broker/embedded.js';
import { ExternalBroker } from './broker/external.js';
import { brokerAuthRoutes } from './routes/broker-auth.js';
import { secretMatches, generatePassword, hashPassword } from './auth/passwords.js';
import { DeviceCredentialCache } from './auth/device-credentials.js';
import { BulletinService, type SpeechRenderer } from './services/bulletin-service.js';
import { DeliveryService } from './services/delivery-service.js';
import { Scheduler } from './services/scheduler.js';
import { AgendaService } from './services/agenda-service.js';
import { BroadcastService } from './services/broadcast-service.js';
import type { AppContext } from './services/context.js';
import { ApiError, installErrorHandlers } from './http/errors.js';
import { installApiAuth } from './http/auth.js';
import { access, installAccess } from './http/access.js';
import { ObjectScope } from './auth/objects.js';
import { openMediaLinks } from './http/media-links.js';
import { healthRoutes } from './routes/health.js';
import { authRoutes } from './routes/auth.js';
import { areaRoutes } from './routes/areas.js';
import { deviceRoutes } from './routes/devices.js';
import { bulletinRoutes } from './routes/bulletins.js';
import { broadcastRoutes } from './routes/broadcasts.js';
import { mediaRoutes } from './routes/media.js';
import { ttsRoutes } from './routes/tts.js';
import { userRoutes } from './routes/users.js';
import { reportRoutes } from './routes/reports.js';
import { offerRoutes } from './routes/offers.js';
import { coverageRoutes } from './routes/coverage.js';
import { eventRoutes } from './routes/events.js';
import { metricsRoutes } from './routes/metrics.js';
import { deviceCommandRoutes } from './routes/device-commands.js';
import { auditRoutes } from './routes/audit.js';
import { webRoutes } from './routes/web.js';
import { claimRoutes } from './routes/claims.js';
import fp from 'fastify-plugin';
import { RequestCorrelator } from './services/requests.js';
import { MisbehaviourMeter } from './services/misbehaviour.js';
import { ServerEvents } from './services/events.js';
import { CoverageService } from './services/coverage-service.js';
import { newId } from './ids.js';

export const SERVER_VERSION = '0.1.0';

export interface LoaxaServer {
  app: FastifyInstance;
  ctx: AppContext;
  logger: Logger;
  /** Listens on HTTP and MQTT; answers the URLs actually bound (ports may be ephemeral). */
  start(): Promise<{ httpUrl: string; mqttUrl: string; httpPort: number; mqttPort: number }>;
  /** Bounded graceful shutdown (STYLE.md habit 8). Safe to call twice. */
  stop(): Promise<void>;
}

export interface BuildOptions {
  logger?: Logger;
  /** Replaces the TTS pipeline (tests that do not exercise audio). */
  render?: SpeechRenderer;
}

export async function buildApp(config: Config, opts: BuildOptions = {}): Promise<LoaxaServer> {
  const logger = opts.logger ?? pino({ level: config.logLevel, base: { service: 'loaxa-server' } });
  const dataDir = resolve(config.dataDir);
  const db = openDatabase(join(dataDir, 'loaxa.sqlite'));
  const areas = new AreaRepository(db);
  const users = new UserRepository(db);
  const sessions = new SessionRepository(db);
  const devices = new DeviceRepository(db);
  // Credentials and area of every box in memory (up to 50,000): a connect storm reads none from SQLite.
  const deviceCredentials = new DeviceCredentialCache(db, (id) => devices.authInfo(id));
  deviceCredentials.remember(devices.allAuthInfo(50_000));
  devices.onInserted = (rows) => deviceCredentials.remember(rows);
  const bulletins = new BulletinRepository(db);
  const broadcasts = new BroadcastRepository(db);
  const media = new MediaStore(join(dataDir, 'media'));
  await media.init();
  const mediaLinks = await openMediaLinks({ secret: config.mediaLinkSecret, dataDir, ttlSeconds: config.mediaLinkTtlSeconds });

  const tls = config.tls ? { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) } : undefined;
  const broker: EmbeddedBroker | ExternalBroker = config.mqttUrl
    ? new ExternalBroker({
        url: config.mqttUrl,
        ...(config.mqttUsername ? { username: config.mqttUsername } : {}),
        ...(config.mqttPassword ? { password: config.mqttPassword } : {}),
        serverVersion: SERVER_VERSION,
        logger: logger.child({ module: 'broker' }),
        dynamicSecurity: config.mqttDynsec,
        connectTimeoutMs: config.mqttConnectTimeoutMs,
      })
    : new EmbeddedBroker({
        host: config.mqttHost,
        port: config.mqttPort,
        drainTimeoutMs: config.mqttDrainTimeoutMs,
        logger: logger.child({ module: 'broker' }),
        tls,
        onDeviceGone: (id) => deliveryService.deviceGone(id),
        preconnectMaxBytes: config.mqttPreconnectMaxBytes,
        maxPacketBytes: config.mqttMaxPacketBytes,
        // An oversized packet counts as misbehaviour: a box sending them again and again is refused for its penalty.
        onOversizedPacket: (id) => {
          if (meter.record(id)) broker.disconnect(id);
        },
        maxConnectionsPerAddress: config.mqttMaxConnectionsPerAddress,
        connectsPerAddressPerSecond: config.mqttConnectsPerAddressPerSecond,
        limitsExempt: config.mqttLimitsExempt,
        auth: {
          authenticate(username, password) {
            // A box cut off for flooding stays out for its whole penalty (issue 13 finding 7).
            if (meter.over(username)) return null;
            const creds = deviceCredentials.get(username);
            if (!creds || creds.revoked || !secretMatches(password, creds.secretHash)) return null;
            return { kind: 'device', deviceId: username, areaAncestry: areas.ancestry(creds.areaCode) };
          },
        },
      });
  let mqttPort = config.mqttPort;

  const engine = buildTtsEngine(config, logger);
  // Sentences already rendered (same engine, voice, speed, words) are reused: editing one sentence of a
  // bulletin re-synthesizes only that sentence.
  const chunkCache = new PcmChunkCache({ dir: join(dataDir, 'tts-chunks'), onError: (err) => logger.warn({ err }, 'TTS chunk cache error') });
  const dictionary = new DictionaryRepository(db);
  const chime = config.tts.chimeIntro || config.tts.chimeOutro
    ? { ...(config.tts.chimeIntro ? { intro: config.tts.chimeIntro } : {}), ...(config.tts.chimeOutro ? { outro: config.tts.chimeOutro } : {}) }
    : undefined;
  const speech = new SpeechService({ engine, chunkCache, dictionary, chime });
  const render: SpeechRenderer = opts.render ?? speech.render;
  const bulletinService = new BulletinService({ bulletins, media, render, renderRecording, logger });
  const faults = new FaultRepository(db);
  const events = new ServerEvents();
  const shutdownHooks: Array<() => void> = [];
  const deliveryService = new DeliveryService({ bus: broker, broadcasts, bulletins, devices, faults, events, logger, dispatchAheadMs: config.dispatchAheadSeconds * 1000, ingestFlushMs: config.ingestFlushMs });
  const coverage = new CoverageService({ snapshots: new CoverageSnapshotRepository(db), areas, devices, faults });
  const requests = new RequestCorrelator();
  deliveryService.ingest.requests = requests;
  const meter = new MisbehaviourMeter({ limitPerMinute: config.malformedPerMinute, penaltyMs: config.malformedPenaltySeconds * 1000 });
  deliveryService.ingest.meter = meter;
  deliveryService.ingest.onFlood = (id) => broker.disconnect(id);
  const agenda = new AgendaService({ agendas: new DeviceAgendaRepository(db), bus: broker, broadcasts, devices, delivery: deliveryService, logger });
  // A reconnecting box gets its agenda unless its status says it holds the current one (AgendaService).
  deliveryService.onReconciled = (deviceIds, held) => agenda.syncReconnected(deviceIds, held);
  const offers = new OfferRepository(db);
  const scheduler = new Scheduler({ broadcasts, devices, areas, delivery: deliveryService, logger, tickMs: config.schedulerTickSeconds * 1000, offers, agenda });
  const objects = new ObjectScope({ areas, devices, deviceAreas: deviceCredentials, broadcasts, bulletins, offers, users });
  const broadcastService = new BroadcastService({ config, areas, devices, bulletins, broadcasts, delivery: deliveryService, scheduler, agenda, objects, logger });

  const ctx: AppContext = {
    config,
    db,
    areas,
    users,
    sessions,
    devices,
    deviceCredentials,
    bulletins,
    broadcasts,
    media,
    dictionary,
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
    brokerIdentities: broker instanceof ExternalBroker ? (broker.dynsec ?? null) : null,
    onShutdown: (fn) => shutdownHooks.push(fn),
    broadcastService,
    objects,
    offers,
    asRun: new AsRunRepository(db),
    audit: new AuditRepository(db),
    claims: new ClaimRepository(db, devices),
    misbehaviour: meter,
    mqttPort: () => mqttPort,
    disconnectDevice: (id) => broker.disconnect(id),
  };

  // With a certificate the same server answers HTTPS; its type stays the plain one (the routes do not care).
  // One route, one answer, however its path is spelled (issue 13): a trailing slash, doubled slashes or a
  // different case reach the same route, and so the same access declaration, as the plain spelling;
  // percent-encoding is decoded by the router anyway. Parameters keep their case.
  const routerOptions = { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, caseSensitive: false };
  // Behind a reverse proxy the client's address is the proxy's unless the proxy is named: the login lock, the
  // claim limit and the audit log's addresses need the real one (LOAXA_TRUST_PROXY).
  const serverOptions = { loggerInstance: logger as FastifyBaseLogger, bodyLimit: config.bodyLimitBytes, forceCloseConnections: true, routerOptions, ...(config.trustProxy ? { trustProxy: config.trustProxy } : {}), ...(tls ? { https: { cert: tls.cert, key: tls.key } } : {}) };
  const app = Fastify(serverOptions as FastifyServerOptions & { loggerInstance: FastifyBaseLogger }).withTypeProvider<ZodTypeProvider>();
  app.decorate('mediaLinks', mediaLinks);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandlers(app);
  // The API speaks JSON only: without this, fastify's built-in text/plain parser would let a plain-text
  // body reach validation as a string (400) instead of being refused as the wrong content type (415).
  app.removeContentTypeParser('text/plain');
  // Invalid UTF-8 would otherwise be decoded with replacement characters and stored as if it were text;
  // refuse it instead (issue 7). Fastify's own parser still does the JSON (and its __proto__ guards).
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      done(new ApiError(400, ErrorCode.BAD_REQUEST, 'request body is not valid UTF-8'), undefined);
      return;
    }
    // Fastify's own parser answers through `done`; it returns nothing to wait for.
    void jsonParser(request, text, done);
  });
  // Who may call each route is declared on the route and enforced from the matched route (issue 13);
  // a route registered without a declaration stops the start here. Before any route is registered.
  installApiAuth(app, sessions, users);
  installAccess(app, { objects, areas });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Loa Xã API', version: SERVER_VERSION, description: 'Controller for smart commune loudspeaker systems. Contracts: CONTRACTS.md.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          deviceBasic: { type: 'http', scheme: 'basic' },
          mediaLink: { type: 'apiKey', in: 'query', name: 'sig', description: 'a signed, expiring media link (`exp`, `u`, `sig`) as the API hands it out in `signedUrl` fields' },
        },
      },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  app.get('/openapi.json', { config: { access: access.public('the API description') }, schema: { hide: true } }, async () => app.swagger());
  await app.register(healthRoutes);
  await app.register(brokerAuthRoutes, {
    ctx,
    token: config.brokerAuthToken,
    serverLogin: config.mqttUsername && config.mqttPassword ? { username: config.mqttUsername, password: config.mqttPassword } : undefined,
  });
  // Not encapsulated: its onResponse hook must see the writes of every other route.
  await app.register(fp(auditRoutes, { name: 'loaxa-audit' }), { ctx });
  for (const routes of [authRoutes, areaRoutes, deviceRoutes, bulletinRoutes, broadcastRoutes, mediaRoutes, ttsRoutes, userRoutes, reportRoutes, offerRoutes, coverageRoutes, eventRoutes, metricsRoutes, deviceCommandRoutes, claimRoutes]) {
    await app.register(routes, { ctx });
  }
  // Last: the web app answers the GETs no API route answers.
  await app.register(webRoutes, { ctx });

  let stopping: Promise<void> | null = null;
  let started = false;

  async function ensureAdmin(): Promise<void> {
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

  return {
    app,
    ctx,
    logger,
    async start() {
      await ensureAdmin();
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
      await scheduler.start();
      coverage.start(config.coverageSnapshotSeconds * 1000, (err) => logger.error({ err }, 'coverage snapshot failed'));
      await broker.publish(topics.serverStatus(), encodeMessage('status', { state: 'online', agentVersion: SERVER_VERSION }), { qos: 1, retain: true });
      // Thousands of boxes connect at once when a bulletin goes out: with Node's default backlog (511) the
      // kernel drops the SYNs beyond it and each such box waits a 1 s retransmit (bench/media.ts measured it).
      // Linux caps this at net.core.somaxconn (4096 by default).
      await app.listen({ port: config.httpPort, host: config.httpHost, backlog: 4096 });
      bulletinService.start();
      started = true;
      const httpPort = (app.server.address() as AddressInfo).port;
      const host = config.httpHost === '0.0.0.0' || config.httpHost === '::' ? '127.0.0.1' : config.httpHost;
      const urls = { httpUrl: `${tls ? 'https' : 'http'}://${host}:${httpPort}`, mqttUrl: `${tls && !config.mqttUrl ? 'mqtts' : 'mqtt'}://${host}:${mqttPort}`, httpPort, mqttPort };
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
          await app.close();
          // An emergency answered moments ago may still be sending to each box: let it finish on the open broker and database.
          await broadcastService.idle();
          scheduler.stop();
          coverage.stop();
          deliveryService.stop();
          await bulletinService.stop(Math.max(100, config.shutdownTimeoutMs / 2));
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

/** Builds and starts a server with defaults and overrides, for the demo and tests. */
export async function startServer(overrides: Partial<Config>, opts: BuildOptions = {}): Promise<LoaxaServer & { urls: Awaited<ReturnType<LoaxaServer['start']>> }> {
  const server = await buildApp(configWith(overrides), opts);
  const urls = await server.start();
  return { ...server, urls };
}
