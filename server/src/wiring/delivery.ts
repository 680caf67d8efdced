/**
 * The way to the boxes, wired for app.ts: the MQTT broker (embedded or external, see broker/index.ts), the
 * delivery service with its ingest of what boxes send, the agendas, the scheduler and the broadcast use cases.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { createBroker, type Broker } from '../broker/index.js';
import type { DeviceAuthenticator } from '../broker/embedded.js';
import type { MosquittoIdentityStore } from '../broker/mosquitto-files.js';
import { secretMatches } from '../auth/passwords.js';
import type { ObjectScope } from '../auth/objects.js';
import { MisbehaviourMeter } from '../services/misbehaviour.js';
import { RequestCorrelator } from '../services/requests.js';
import type { ServerEvents } from '../services/events.js';
import { DeliveryService } from '../services/delivery-service.js';
import { AgendaService } from '../services/agenda-service.js';
import { Scheduler } from '../services/scheduler.js';
import { BroadcastService } from '../services/broadcast-service.js';
import type { SpeechService } from '../services/speech.js';
import type { Storage } from './storage.js';

export interface DeliveryParts {
  broker: Broker;
  /** Boxes over their malformed-message budget, refused at connect for their penalty. */
  meter: MisbehaviourMeter;
  requests: RequestCorrelator;
  deliveryService: DeliveryService;
  agenda: AgendaService;
  scheduler: Scheduler;
  broadcastService: BroadcastService;
}

export function wireDelivery(
  config: Config,
  deps: {
    logger: Logger;
    serverVersion: string;
    tls: { cert: Buffer; key: Buffer } | undefined;
    events: ServerEvents;
    objects: ObjectScope;
    storage: Storage;
    /** How text bulletins are read, for the approval's reading check (issue 19). */
    speech: SpeechService;
    /**
     * The clock of the scheduler, the delivery and agenda services, the misbehaviour meter and the embedded
     * broker's connect rate, and the scheduler's timer: real time when not given (the broker then reads
     * performance.now, monotonic; it only measures intervals, so a test's epoch-based clock serves it as well).
     * A test passes test/helpers/clock.ts `fakeClock()` (app.ts BuildOptions.clock) to move time (an offer's
     * expiry, a penalty's end, the next tick, a refilled connect budget) instead of sleeping for it.
     */
    clock?: { now: () => number; schedule?: (fn: () => void, ms: number) => () => void } | undefined;
  },
): DeliveryParts {
  const { logger, events, objects } = deps;
  // Spread into each part's options: absent, each part reads Date.now.
  const clock = deps.clock ? { now: deps.clock.now } : {};
  const { areas, devices, bulletins, broadcasts, faults, offers, sources, relayLog, programmes, live } = deps.storage;
  const meter = new MisbehaviourMeter({ limitPerMinute: config.malformedPerMinute, penaltyMs: config.malformedPenaltySeconds * 1000, ...clock });
  const requests = new RequestCorrelator();
  const broker = createBroker(config, { logger, serverVersion: deps.serverVersion, tls: deps.tls, auth: deviceLogin(deps.storage, meter), misbehaviour: meter, events, mosquittoStore: mosquittoStore(deps.storage), ...clock });

  // The delivery service and the agenda service need each other: the agenda builds on the delivery service's
  // play book, and a reconnecting box gets its agenda unless its status says it holds the current one
  // (AgendaService) once the delivery service has brought it up to date. `onReconciled` is awaited there, so
  // it is a callback (a closure over `agenda`, built next) rather than a notice on the event bus.
  const deliveryService: DeliveryService = new DeliveryService({
    bus: broker,
    broadcasts,
    bulletins,
    devices,
    faults,
    sources,
    relayLog,
    programmes,
    live,
    events,
    logger,
    dispatchAheadMs: config.dispatchAheadSeconds * 1000,
    ingestFlushMs: config.ingestFlushMs,
    requests,
    meter,
    onFlood: (id) => broker.disconnect(id),
    onReconciled: (deviceIds, held) => agenda.syncReconnected(deviceIds, held),
    ...clock,
  });
  const agenda = new AgendaService({ agendas: deps.storage.agendas, bus: broker, broadcasts, devices, delivery: deliveryService, logger, ...clock });
  // The embedded broker is built before the delivery service (which publishes through it), so it says on the
  // event bus that a box's last connection ended.
  events.on('deviceGone', ({ deviceId }) => deliveryService.deviceGone(deviceId));
  const schedule = deps.clock?.schedule;
  const scheduler = new Scheduler({ broadcasts, devices, areas, delivery: deliveryService, logger, tickMs: config.schedulerTickSeconds * 1000, offers, agenda, ...clock, ...(schedule ? { schedule } : {}) });
  const broadcastService = new BroadcastService({ config, areas, devices, bulletins, broadcasts, delivery: deliveryService, scheduler, agenda, objects, sources, programmes, speech: deps.speech, logger, events });
  return { broker, meter, requests, deliveryService, agenda, scheduler, broadcastService };
}

/** The embedded broker's login check: a box's id and secret against its remembered credentials. */
function deviceLogin(storage: Pick<Storage, 'deviceCredentials' | 'areas'>, meter: MisbehaviourMeter): DeviceAuthenticator {
  const { deviceCredentials, areas } = storage;
  return {
    authenticate(username, password) {
      // A box cut off for flooding stays out for its whole penalty (issue 13 finding 7).
      if (meter.over(username)) return null;
      const creds = deviceCredentials.get(username);
      if (!creds || creds.revoked || !secretMatches(password, creds.secretHash)) return null;
      return { kind: 'device', deviceId: username, areaAncestry: areas.ancestry(creds.areaCode) };
    },
  };
}

/** Boxes' Mosquitto password lines with their area chains, for the Mosquitto files (issue 21). */
function mosquittoStore(storage: Pick<Storage, 'mosquittoHashes' | 'areas'>): MosquittoIdentityStore {
  const { mosquittoHashes, areas } = storage;
  return {
    setHashes: (rows) => mosquittoHashes.set(rows),
    hasHash: (id) => mosquittoHashes.has(id),
    clearHash: (id) => mosquittoHashes.clear(id),
    entries() {
      // One ancestry per area, not per box: 10,000 boxes sit in a few hundred areas.
      const chains = new Map<string, string[]>();
      return mosquittoHashes.entries().map((e) => {
        let chain = chains.get(e.areaCode);
        if (!chain) chains.set(e.areaCode, (chain = areas.ancestry(e.areaCode)));
        return { deviceId: e.deviceId, hash: e.hash, areaAncestry: chain };
      });
    },
    countWithoutHash: () => mosquittoHashes.countWithout(),
  };
}
