/**
 * The HTTP side, wired for app.ts: one Fastify instance with its parsers, access control, the API
 * description and every route, each given only the parts of the application context it uses (issue 14).
 * Nothing listens until app.ts starts it.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import fp from 'fastify-plugin';
import { serializerCompiler, validatorCompiler, jsonSchemaTransform, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { ErrorCode } from '@loaxa/shared';
import type { Config } from '../config.js';
import type { AppContext } from '../services/context.js';
import type { StreamSource } from '../repos/sources.js';
import { ApiError, installErrorHandlers } from '../http/errors.js';
import { installApiAuth } from '../http/auth.js';
import { access, installAccess } from '../http/access.js';
import { openMediaLinks } from '../http/media-links.js';
import { LoginGuard } from '../auth/login-guard.js';
import { passwordChecks } from '../auth/passwords.js';
import { healthRoutes } from '../routes/health.js';
import { brokerAuthRoutes } from '../routes/broker-auth.js';
import { rabbitmqBrokerAuthRoutes } from '../routes/broker-auth-rabbitmq.js';
import { authRoutes } from '../routes/auth.js';
import { areaRoutes } from '../routes/areas.js';
import { deviceRoutes } from '../routes/devices.js';
import { bulletinRoutes } from '../routes/bulletins.js';
import { programmeRoutes } from '../routes/programmes.js';
import { broadcastRoutes } from '../routes/broadcasts.js';
import { mediaRoutes } from '../routes/media.js';
import { ttsRoutes } from '../routes/tts.js';
import { userRoutes } from '../routes/users.js';
import { reportRoutes } from '../routes/reports.js';
import { offerRoutes } from '../routes/offers.js';
import { coverageRoutes } from '../routes/coverage.js';
import { eventRoutes } from '../routes/events.js';
import { metricsRoutes } from '../routes/metrics.js';
import { prometheusRoutes } from '../routes/prometheus.js';
import { HttpMetrics } from '../metrics/http-metrics.js';
import { deviceCommandRoutes } from '../routes/device-commands.js';
import { auditRoutes } from '../routes/audit.js';
import { webRoutes } from '../routes/web.js';
import { claimRoutes } from '../routes/claims.js';
import { devicePageRoutes } from '../routes/device-page.js';
import { sourceRoutes } from '../routes/sources.js';
import { streamRoutes } from '../routes/streams.js';
import { liveRoutes } from '../routes/live.js';
import { LIVE_MAX_FRAME_BYTES, liveAudioRoutes } from '../routes/live-audio.js';
import { Restreamer } from '../relay/restream.js';
import { ffmpegPath } from '../audio/ffmpeg.js';

export async function buildHttp(
  config: Config,
  ctx: AppContext,
  deps: {
    logger: Logger;
    dataDir: string;
    serverVersion: string;
    tls: { cert: Buffer; key: Buffer } | undefined;
    /** The login guard's time (app.ts BuildOptions.loginNow); real time when absent. */
    loginNow?: () => number;
  },
): Promise<FastifyInstance> {
  const { tls } = deps;
  const { areas, users, sessions, devices, deviceCredentials, bulletins, broadcasts, media, dictionary, voiceSettings, faults, speech, render, bulletinService, deliveryService, scheduler, coverage, events, requests, bus, brokerIdentities, onShutdown, broadcastService, objects, offers, asRun, audit, claims, misbehaviour, mqttPort, disconnectDevice, sources, sourceChecker, relayLog, agenda, streamAddressGuard, programmes, programmeService, live, opsCounts, brokerHealth } = ctx;
  const mediaLinks = await openMediaLinks({ secret: config.mediaLinkSecret, dataDir: deps.dataDir, ttlSeconds: config.mediaLinkTtlSeconds });

  // With a certificate the same server answers HTTPS; its type stays the plain one (the routes do not care).
  // One route, one answer, however its path is spelled (issue 13): a trailing slash, doubled slashes or a
  // different case reach the same route, and so the same access declaration, as the plain spelling;
  // percent-encoding is decoded by the router anyway. Parameters keep their case.
  const routerOptions = { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, caseSensitive: false };
  // Behind a reverse proxy the client's address is the proxy's unless the proxy is named: the login lock, the
  // claim limit and the audit log's addresses need the real one (LOAXA_TRUST_PROXY).
  const serverOptions = { loggerInstance: deps.logger as FastifyBaseLogger, bodyLimit: config.bodyLimitBytes, forceCloseConnections: true, routerOptions, ...(config.trustProxy ? { trustProxy: config.trustProxy } : {}), ...(tls ? { https: { cert: tls.cert, key: tls.key } } : {}) };
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
  // WebSockets (issue 16's live voice) before the login hook and any route: its upgrade handling wraps every
  // route registered after it, and its own request hook must run first — it is what closes an upgrade's socket
  // after a refusal, and an upgrade refused by the login hook ahead of it (401) left the socket open, holding
  // the server's close until its shutdown timeout. One frame is at most LIVE_MAX_FRAME_BYTES (ws closes beyond).
  // When the server closes, every airing ends first — its boxes' streams end, its operator is told why — and
  // only then are the sockets closed (the plugin's own preClose closed them first, and the operator never
  // heard `ended`).
  await app.register(websocket, {
    options: { maxPayload: LIVE_MAX_FRAME_BYTES },
    preClose: async function (this: FastifyInstance) {
      await live.stopAll();
      for (const client of this.websocketServer.clients) client.close(1001, 'the server is stopping');
      this.websocketServer.close();
    },
  });
  // Who may call each route is declared on the route and enforced from the matched route (issue 13);
  // a route registered without a declaration stops the start here. Before any route is registered.
  installApiAuth(app, sessions, users, { metricsToken: config.metricsToken });
  // Before any route, so that every route's answers are timed (GET /metrics, issue 21).
  const httpMetrics = new HttpMetrics();
  httpMetrics.install(app);
  installAccess(app, { objects, areas });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Loa Xã API', version: deps.serverVersion, description: 'Controller for smart commune loudspeaker systems. Contracts: CONTRACTS.md.' },
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
  // Each route is given only what it uses, so the list below is the map of which route reaches which part
  // of the server (issue 14). Each route's `…RouteDeps` type names the same fields: the compiler refuses a
  // field missing here, and one the route does not declare.
  // Wrong logins are counted per account and address before the password is checked (issue 13, finding 5).
  const loginGuard = new LoginGuard({ maxFailures: config.loginMaxFailures, windowMs: 15 * 60_000, lockMs: config.loginLockSeconds * 1000, now: deps.loginNow });
  await app.register(healthRoutes);
  const brokerAuth = {
    deviceCredentials,
    areas,
    misbehaviour,
    token: config.brokerAuthToken,
    serverLogin: config.mqttUsername && config.mqttPassword ? { username: config.mqttUsername, password: config.mqttPassword } : undefined,
  };
  await app.register(brokerAuthRoutes, brokerAuth);
  // RabbitMQ's HTTP auth backend: the same decisions, its form-and-plain-text shape (issue 21).
  await app.register(rabbitmqBrokerAuthRoutes, brokerAuth);
  // Not encapsulated: its onResponse hook must see the writes of every other route.
  await app.register(fp(auditRoutes, { name: 'loaxa-audit' }), { audit, areas, users });
  await app.register(authRoutes, { config, users, sessions, areas, events, loginGuard, passwordChecks });
  await app.register(areaRoutes, { areas });
  await app.register(deviceRoutes, { config, areas, devices, faults, objects, brokerIdentities, mqttPort, disconnectDevice });
  await app.register(bulletinRoutes, { config, areas, voiceSettings, bulletins, bulletinService, sources, objects, programmes });
  await app.register(sourceRoutes, { areas, bulletins, broadcasts, sources, sourceChecker, objects, agenda, streamAddressGuard, programmes });
  await app.register(programmeRoutes, { bulletins, programmes, programmeService, objects });
  await app.register(broadcastRoutes, { config, broadcasts, broadcastService, scheduler, objects, bulletins, devices });
  await app.register(mediaRoutes, { media, deviceCredentials, sessions, users });
  // The server's own restream of sources with `restream: true` (issue 15, relay/restream.ts): pulled once per
  // source while boxes listen. Its listeners end and its ffmpeg are killed when the server stops: at the first
  // shutdown step (long-lived responses), and awaited when the HTTP server closes.
  // A box's listeners are cut when its credentials change (issue 15 review, finding 2): the repository's notice
  // covers revoke, a secret rotated by a claim and a deletion — every way a box loses its right to listen.
  const restream = new Restreamer({
    ffmpegPath: ffmpegPath(),
    logger: deps.logger,
    lookup: (id) => restreamable(sources.get(id)),
    usableIn: (boxArea, sourceArea) => sourceArea === null || areas.ancestry(boxArea).includes(sourceArea),
    addressGuard: streamAddressGuard,
  });
  devices.watchCredentials({ registered: () => undefined, changed: (id) => void restream.cut(id, 'its credentials changed, or it was revoked or deleted') });
  // A source the restream pulls is checked from the restream's hearing of it, not with a second connection.
  sourceChecker.watchRestream((id) => restream.status().find((s) => s.sourceId === id)?.url ?? null);
  app.decorate('restream', restream);
  onShutdown(() => void restream.stop());
  app.addHook('onClose', () => restream.stop());
  await app.register(streamRoutes, { sources, areas, deviceCredentials, restream });
  // Live voice (issue 16): the operator's WebSocket and the boxes' streams. A box whose credentials change loses its streams at
  // once, as for the restream; every airing ends (and its boxes' streams) when the server stops.
  devices.watchCredentials({ registered: () => undefined, changed: (id) => live.cut(id) });
  onShutdown(() => void live.stopAll());
  await app.register(liveRoutes, { config, live });
  await app.register(liveAudioRoutes, { config, live, deviceCredentials, sessions, users, events });
  await app.register(ttsRoutes, { config, areas, dictionary, voiceSettings, media, speech, render });
  await app.register(userRoutes, { users, sessions, areas, events, objects });
  await app.register(reportRoutes, { areas, asRun, broadcasts, bulletins, relayLog, objects, programmes, coverage, monthlyReport: ctx.monthlyReport, devices, faults });
  await app.register(offerRoutes, { config, areas, devices, bulletins, broadcasts, broadcastService, offers, objects });
  await app.register(coverageRoutes, { areas, coverage });
  await app.register(eventRoutes, { config, areas, users, sessions, devices, events, onShutdown });
  await app.register(metricsRoutes, { devices, deliveryService });
  await app.register(prometheusRoutes, { devices, deliveryService, bulletinService, live, opsCounts, brokerHealth, backups: ctx.backups, httpMetrics, serverVersion: deps.serverVersion });
  await app.register(deviceCommandRoutes, { devices, objects, bus, requests });
  await app.register(claimRoutes, { config, areas, devices, claims, objects, brokerIdentities, mqttPort, disconnectDevice });
  // Issue 20: the box page (health history, per-box as-run, claim label).
  await app.register(devicePageRoutes, { config, devices, objects, asRun, claims });
  // Last: the web app answers the GETs no API route answers.
  await app.register(webRoutes, { config });
  return app;
}

/** A source as the restream pulls it: null once it is deleted or no longer restreamed. */
function restreamable(s: StreamSource | null): StreamSource | null {
  return s && s.deletedAt === null && s.restream ? s : null;
}
