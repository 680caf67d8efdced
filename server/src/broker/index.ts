/**
 * The one place that picks the broker: an external one when LOAXA_MQTT_URL names it, else the embedded aedes
 * broker. Either way the server gets a `Broker` (broker.ts) and never asks which one it is. An external Mosquitto
 * gets the boxes' identities through dynamic security (LOAXA_MQTT_DYNSEC) or its password and ACL files
 * (LOAXA_MOSQUITTO_PASSWORD_FILE, issue 21); see `Broker.deviceIdentities`.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { ServerEvents } from '../services/events.js';
import type { MisbehaviourMeter } from '../services/misbehaviour.js';
import type { Broker } from './broker.js';
import { EmbeddedBroker, type DeviceAuthenticator } from './embedded.js';
import { ExternalBroker } from './external.js';
import { MosquittoFiles, type MosquittoIdentityStore } from './mosquitto-files.js';

export type { Broker } from './broker.js';
export type { MessageBus, MessageHandler, PublishOptions } from './bus.js';

export interface BrokerDeps {
  logger: Logger;
  /** Sent in the external broker's retained `server/status` messages. */
  serverVersion: string;
  /** Certificate and key (PEM) read from LOAXA_TLS_*: the embedded broker then speaks MQTT over TLS only. */
  tls: { cert: Buffer; key: Buffer } | undefined;
  /** Checks a box's login at the embedded broker (an external broker checks logins its own way). */
  auth: DeviceAuthenticator;
  /** Boxes over their misbehaviour budget; an oversized packet counts against it (embedded broker). */
  misbehaviour: MisbehaviourMeter;
  /** Where the embedded broker says that a box's last connection ended (`deviceGone`). */
  events: ServerEvents;
  /** The embedded broker's monotonic clock for its connect rate (default performance.now; tests pass a fake one). */
  now?: () => number;
  /** Boxes' Mosquitto password lines in the database, for LOAXA_MOSQUITTO_PASSWORD_FILE (issue 21). */
  mosquittoStore?: MosquittoIdentityStore;
}

export function createBroker(config: Config, deps: BrokerDeps): Broker {
  const logger = deps.logger.child({ module: 'broker' });
  if (config.mqttUrl) {
    const files = config.mosquittoFiles;
    if (files && !deps.mosquittoStore) throw new Error('LOAXA_MOSQUITTO_PASSWORD_FILE needs the database of Mosquitto hashes');
    return new ExternalBroker({
      ...(files
        ? {
            mosquittoFiles: new MosquittoFiles({
              passwordFile: files.passwordFile,
              aclFile: files.aclFile,
              pidFile: files.pidFile,
              reloadCommand: files.reloadCommand,
              reloadTimeoutMs: files.reloadTimeoutMs,
              probeUrl: config.mqttUrl,
              server: { username: config.mqttUsername!, password: config.mqttPassword! },
              store: deps.mosquittoStore!,
              logger: logger.child({ module: 'mosquitto-files' }),
            }),
          }
        : {}),
      url: config.mqttUrl,
      failoverUrls: config.mqttFailoverUrls,
      ...(config.mqttUsername ? { username: config.mqttUsername } : {}),
      ...(config.mqttPassword ? { password: config.mqttPassword } : {}),
      serverVersion: deps.serverVersion,
      logger,
      dynamicSecurity: config.mqttDynsec,
      connectTimeoutMs: config.mqttConnectTimeoutMs,
    });
  }
  const { misbehaviour, events } = deps;
  const broker: EmbeddedBroker = new EmbeddedBroker({
    host: config.mqttHost,
    port: config.mqttPort,
    drainTimeoutMs: config.mqttDrainTimeoutMs,
    logger,
    tls: deps.tls,
    // A cross-feature notice (the delivery service marks the box offline): the broker is built before the
    // service that listens, which needs the broker to publish.
    onDeviceGone: (deviceId) => events.emit('deviceGone', { deviceId }),
    preconnectMaxBytes: config.mqttPreconnectMaxBytes,
    maxPacketBytes: config.mqttMaxPacketBytes,
    // An oversized packet counts as misbehaviour: a box sending them again and again is refused for its penalty.
    onOversizedPacket: (id) => {
      if (misbehaviour.record(id)) broker.disconnect(id);
    },
    maxConnectionsPerAddress: config.mqttMaxConnectionsPerAddress,
    connectsPerAddressPerSecond: config.mqttConnectsPerAddressPerSecond,
    limitsExempt: config.mqttLimitsExempt,
    auth: deps.auth,
    ...(deps.now ? { now: deps.now } : {}),
  });
  return broker;
}
