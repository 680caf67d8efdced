import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { publicBase } from '../http/public-base.js';
import type { FastifyRequest } from 'fastify';
import {
  deviceBulkBodySchema,
  deviceBulkCreatedSchema,
  deviceCreateBodySchema,
  deviceCreatedSchema,
  deviceFaultsQuerySchema,
  deviceFaultsSchema,
  deviceListQuerySchema,
  deviceRevokedSchema,
  deviceSchema,
  deviceUpdateBodySchema,
  idParamsSchema,
} from '@loaxa/shared';
import { newId } from '../ids.js';
import { newSecret, sha256Hex } from '../auth/passwords.js';
import { coversArea } from '../auth/scope.js';
import { principalOf } from '../http/auth.js';
import { badRequest, conflict, errorBodySchema, forbidden, notFound, unavailable } from '../http/errors.js';
import { decodeCursor, encodeCursor, listSchema } from '../http/pagination.js';
import type { Device } from '../repos/devices.js';
import type { AppContext } from '../services/context.js';
import { access, ADMINS, ANY_ROLE, WRITERS } from '../http/access.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const toApi = (d: Device, openFaults: string[]) => ({
  id: d.id,
  name: d.name,
  areaCode: d.areaCode,
  lat: d.lat,
  lon: d.lon,
  state: d.online ? ('online' as const) : ('offline' as const),
  lastSeenAt: iso(d.lastSeenAt),
  agentVersion: d.agentVersion,
  volume: d.volume,
  createdAt: new Date(d.createdAt).toISOString(),
  faults: openFaults,
  health: d.health,
  heartbeats: d.heartbeats,
  nationalId: d.nationalId,
});

/** One box per national id (issue 17: the province knows a box by its IMEI; two boxes with one would be one there). */
const nationalIdTaken = (nationalId: string) => conflict(`Mã thiết bị quốc gia (IMEI) ${nationalId} đã được gán cho một thiết bị khác`);

/** The broker URL written into credentials: LOAXA_MQTT_PUBLIC_URL, else the public host with the MQTT port. */
export function mqttUrlFor(deps: Pick<AppContext, 'config' | 'mqttPort'>, request: FastifyRequest): string {
  if (deps.config.mqttPublicUrl) return deps.config.mqttPublicUrl;
  if (deps.config.mqttUrl) return deps.config.mqttUrl;
  const base = new URL(publicBase(deps.config, request));
  const scheme = deps.config.tls ? 'mqtts' : 'mqtt';
  return `${scheme}://${base.hostname.includes(':') ? `[${base.hostname}]` : base.hostname}:${deps.mqttPort()}`;
}

/**
 * Gives the external broker the new boxes' identities; if it does not take them, the boxes just inserted are
 * removed again and the caller gets 503, so a failed registration leaves nothing behind — least of all a
 * box whose secret was never shown to anyone and can therefore never connect.
 */
async function registerAtBroker(deps: Pick<AppContext, 'devices'>, ids: readonly string[], register: () => Promise<void> | undefined): Promise<void> {
  try {
    await register();
  } catch (err) {
    deps.devices.deleteUnregistered(ids);
    const why = err instanceof Error ? err.message : String(err);
    throw unavailable(`the MQTT broker did not take the new boxes' identities (${why}); nothing was registered. Check the broker, then try again${ids.length > 1 ? ' (fewer boxes per request finish sooner)' : ''}`);
  }
}

/** What these routes use, and all they are given (wiring/http.ts). */
export type DeviceRouteDeps = Pick<AppContext, 'config' | 'areas' | 'devices' | 'faults' | 'objects' | 'brokerIdentities' | 'mqttPort' | 'disconnectDevice'>;

export const deviceRoutes: FastifyPluginAsyncZod<DeviceRouteDeps> = async (app, deps) => {
  app.post(
    '/api/v1/devices',
    {
      config: { access: access.roles(WRITERS, { area: { in: 'body', key: 'areaCode' } }, { why: 'register devices' }) },
      schema: {
        tags: ['devices'],
        summary: 'Register a speaker box; its MQTT password is shown only in this answer',
        body: deviceCreateBodySchema,
        response: {
          201: deviceCreatedSchema,
          400: errorBodySchema,
          403: errorBodySchema,
          503: errorBodySchema,
        },
      },
    },
    async (request, reply) => {
      const user = principalOf(request);
      const { name, areaCode, lat, lon, nationalId } = request.body;
      const area = deps.areas.get(areaCode);
      if (!area) throw badRequest(`unknown area ${areaCode}; import areas first (POST /api/v1/areas/import)`, [{ path: 'areaCode', message: 'unknown area' }]);
      if (area.validUntil) throw badRequest(`area ${areaCode} is a legacy unit; install devices in a current one`, [{ path: 'areaCode', message: 'legacy area' }]);
      if (!coversArea(user, deps.areas.ancestry(areaCode))) throw forbidden(`area ${areaCode} is outside your area`);
      if (nationalId !== undefined && deps.devices.byNationalId(nationalId) !== null) throw nationalIdTaken(nationalId);
      const id = newId('spk');
      const secret = newSecret();
      deps.devices.insert({ id, name, areaCode, lat: lat ?? null, lon: lon ?? null, secretHash: sha256Hex(secret), createdAt: Date.now(), nationalId: nationalId ?? null });
      // An external Mosquitto keeps its own password hashes: it must learn the secret now, the only time it is in clear.
      await registerAtBroker(deps, [id], () => deps.brokerIdentities?.ensureDevice({ deviceId: id, password: secret, areaAncestry: deps.areas.ancestry(areaCode) }));
      request.log.info({ deviceId: id, areaCode }, 'device registered');
      return reply.status(201).send({ id, name, areaCode, lat: lat ?? null, lon: lon ?? null, nationalId: nationalId ?? null, mqtt: { url: mqttUrlFor(deps, request), username: id, password: secret } });
    },
  );

  app.get(
    '/api/v1/devices',
    {
      config: { access: access.roles(ANY_ROLE, { scope: 'only devices inside the caller’s area' }) },
      schema: {
        tags: ['devices'],
        summary: 'Devices in the caller’s area, filterable by area subtree and state',
        querystring: deviceListQuerySchema,
        response: { 200: listSchema(deviceSchema), 400: errorBodySchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const { area, state, q, limit, cursor } = request.query;
      let areaCodes: string[] | undefined;
      if (area) {
        if (!deps.areas.get(area)) throw notFound(`area ${area}`);
        areaCodes = coversArea(user, deps.areas.ancestry(area)) ? deps.areas.subtree(area) : [];
      } else if (user.areaCode !== null) {
        areaCodes = deps.areas.subtree(user.areaCode);
      }
      const page = deps.devices.list({ limit: limit + 1, ...(areaCodes ? { areaCodes } : {}), ...(state ? { state } : {}), ...(q ? { search: q } : {}), ...(cursor ? { afterId: decodeCursor(cursor)! } : {}) });
      const more = page.items.length > limit;
      const items = page.items.slice(0, limit);
      return { items: items.map((d) => toApi(d, deps.faults.openFor(d.id).map((f) => f.kind))), total: page.total, next: encodeCursor(items.at(-1)?.id, more) };
    },
  );

  app.get(
    '/api/v1/devices/:id',
    {
      config: { access: access.roles(ANY_ROLE, { object: 'device', param: 'id' }) },
      schema: {
        tags: ['devices'],
        summary: 'One device',
        params: idParamsSchema,
        response: { 200: deviceSchema, 404: errorBodySchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const d = deps.devices.get(request.params.id);
      if (!d || !deps.objects.deviceVisible(user, d)) throw notFound(`device ${request.params.id}`);
      return toApi(d, deps.faults.openFor(d.id).map((f) => f.kind));
    },
  );

  app.patch(
    '/api/v1/devices/:id',
    {
      config: { access: access.roles(WRITERS, { object: 'device', param: 'id' }, { why: 'record a box’s national id' }) },
      schema: {
        tags: ['devices'],
        summary: 'Record or clear a box’s national id (CumLoaID, its modem’s IMEI) for the national link',
        params: idParamsSchema,
        body: deviceUpdateBodySchema,
        response: { 200: deviceSchema, 404: errorBodySchema, 409: errorBodySchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const d = deps.devices.get(request.params.id);
      if (!d || !deps.objects.deviceVisible(user, d)) throw notFound(`device ${request.params.id}`);
      const { nationalId } = request.body;
      if (nationalId !== null) {
        const holder = deps.devices.byNationalId(nationalId);
        if (holder !== null && holder !== d.id) throw nationalIdTaken(nationalId);
      }
      deps.devices.setNationalId(d.id, nationalId);
      request.log.info({ deviceId: d.id, nationalId }, 'national id recorded');
      return toApi(deps.devices.get(d.id)!, deps.faults.openFor(d.id).map((f) => f.kind));
    },
  );

  app.get(
    '/api/v1/devices/:id/faults',
    {
      config: { access: access.roles(ANY_ROLE, { object: 'device', param: 'id' }) },
      schema: {
        tags: ['devices'],
        summary: 'A device’s faults with when each began and ended (newest first)',
        params: idParamsSchema,
        querystring: deviceFaultsQuerySchema,
        response: { 200: deviceFaultsSchema, 404: errorBodySchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const d = deps.devices.get(request.params.id);
      if (!d || !deps.objects.deviceVisible(user, d)) throw notFound(`device ${request.params.id}`);
      return {
        items: deps.faults.history(d.id, request.query.limit).map((f) => ({ kind: f.kind, startedAt: new Date(f.startedAt).toISOString(), endedAt: f.endedAt === null ? null : new Date(f.endedAt).toISOString(), detail: f.detail })),
      };
    },
  );

  app.post(
    '/api/v1/devices/:id/revoke',
    {
      config: { access: access.roles(ADMINS, { object: 'device', param: 'id' }, { why: 'revoke devices' }) },
      schema: {
        tags: ['devices'],
        summary: 'Revoke a box’s credentials (stolen or retired): it is disconnected at once and can never connect again',
        params: idParamsSchema,
        response: { 200: deviceRevokedSchema, 403: errorBodySchema, 404: errorBodySchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const d = deps.devices.get(request.params.id);
      if (!d || !deps.objects.deviceVisible(user, d)) throw notFound(`device ${request.params.id}`);
      deps.devices.revoke(d.id);
      await deps.brokerIdentities?.revokeDevice(d.id);
      deps.disconnectDevice(d.id);
      request.log.warn({ deviceId: d.id, userId: user.id }, 'device revoked');
      return { id: d.id, revoked: true as const };
    },
  );

  app.post(
    '/api/v1/devices/bulk',
    {
      config: { access: access.roles(WRITERS, { scope: 'every device’s areaCode inside the caller’s area' }, { why: 'register devices' }) },
      schema: {
        tags: ['devices'],
        summary: 'Register up to 10,000 boxes at once (one transaction); their MQTT passwords are shown only in this answer',
        body: deviceBulkBodySchema,
        response: {
          201: deviceBulkCreatedSchema,
          400: errorBodySchema,
          403: errorBodySchema,
          503: errorBodySchema,
        },
      },
    },
    async (request, reply) => {
      const user = principalOf(request);
      const checked = new Map<string, string[]>();
      request.body.devices.forEach((d, i) => {
        if (checked.has(d.areaCode)) return;
        const area = deps.areas.get(d.areaCode);
        if (!area || area.validUntil) throw badRequest(`unknown or legacy area ${d.areaCode}`, [{ path: `devices.${i}.areaCode`, message: 'unknown area' }]);
        const ancestry = deps.areas.ancestry(d.areaCode);
        if (!coversArea(user, ancestry)) throw forbidden(`area ${d.areaCode} is outside your area`);
        checked.set(d.areaCode, ancestry);
      });
      const imeis = new Set<string>();
      request.body.devices.forEach((d, i) => {
        if (d.nationalId === undefined) return;
        if (imeis.has(d.nationalId)) throw badRequest(`Mã thiết bị quốc gia (IMEI) ${d.nationalId} lặp lại trong danh sách`, [{ path: `devices.${i}.nationalId`, message: 'duplicate' }]);
        if (deps.devices.byNationalId(d.nationalId) !== null) throw nationalIdTaken(d.nationalId);
        imeis.add(d.nationalId);
      });
      const now = Date.now();
      // SHA-256 of a random secret: cheap enough that 10,000 registrations never hold the server up (CONTRACTS.md).
      const rows = request.body.devices.map((d) => ({ id: newId('spk'), name: d.name, areaCode: d.areaCode, lat: d.lat ?? null, lon: d.lon ?? null, nationalId: d.nationalId ?? null, secret: newSecret(), createdAt: now }));
      deps.devices.insertMany(rows.map((r) => ({ id: r.id, name: r.name, areaCode: r.areaCode, lat: r.lat, lon: r.lon, nationalId: r.nationalId, secretHash: sha256Hex(r.secret), createdAt: r.createdAt })));
      const broker = deps.brokerIdentities;
      if (broker) await registerAtBroker(deps, rows.map((r) => r.id), () => broker.ensureDevices(rows.map((r) => ({ deviceId: r.id, password: r.secret, areaAncestry: checked.get(r.areaCode)! }))));
      const url = mqttUrlFor(deps, request);
      request.log.info({ count: rows.length, userId: user.id }, 'devices registered in bulk');
      return reply.status(201).send({ items: rows.map((r) => ({ id: r.id, name: r.name, areaCode: r.areaCode, mqtt: { url, username: r.id, password: r.secret } })) });
    },
  );
};
