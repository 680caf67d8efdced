/**
 * The embedded aedes 1.x broker on TCP, with device authentication and the ACL table in its hooks.
 */
import { Aedes, type Client, type AuthenticateError, type PublishPacket, type Subscription } from 'aedes';
import { createServer, type Server, type AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Logger } from 'pino';
import { DEVICE_PUBLISH_CHANNELS, topics } from '@loaxa/shared';
import { decide, type DeviceIdentity } from './acl.js';
import type { MessageBus, MessageHandler, PublishOptions } from './bus.js';
import { indexRetained } from './retained-index.js';

export interface DeviceAuthenticator {
  /** Returns the identity when the credentials are valid, else null. */
  authenticate(username: string, password: string): DeviceIdentity | null;
}

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  drainTimeoutMs: number;
  auth: DeviceAuthenticator;
  logger: Logger;
  /** Certificate and key (PEM): the broker then speaks MQTT over TLS only. */
  tls?: { cert: Buffer; key: Buffer } | undefined;
  /** A device's connection ended and no other connection of it remains. */
  onDeviceGone?: (deviceId: string) => void;
}

// CONNACK return codes of MQTT 3.1.1 [MQTT-3.2.2-3]: 4 = bad user name or password, 5 = not authorized.
const BAD_USERNAME_OR_PASSWORD = 4;

export class EmbeddedBroker implements MessageBus {
  private broker: Aedes | null = null;
  private server: Server | null = null;
  private readonly identities = new WeakMap<Client, DeviceIdentity>();
  /**
   * Each box's own upstream topics, the only ones `decide()` lets it publish on: a heartbeat is then allowed
   * by one lookup instead of a topic parse (2 % of the server's CPU in a heartbeat minute, issue 8 bench).
   * Anything else still goes through `decide()`, which refuses it with its reason.
   */
  private readonly ownTopics = new WeakMap<Client, ReadonlySet<string>>();

  constructor(private readonly opts: EmbeddedBrokerOptions) {}

  async start(): Promise<{ port: number }> {
    const log = this.opts.logger;
    const broker = await Aedes.createBroker({ drainTimeout: this.opts.drainTimeoutMs });
    // Each box's SUBSCRIBE otherwise scans every box's retained status (see retained-index.ts).
    indexRetained((broker as unknown as { persistence: unknown }).persistence);
    broker.authenticate = (client, username, password, done) => {
      const identity = username && password ? this.opts.auth.authenticate(username, password.toString('utf8')) : null;
      // The client id must be the device id, so one box's credentials can never take over another box's session.
      if (!identity || client.id !== identity.deviceId) {
        const err = new Error('bad device credentials') as AuthenticateError;
        err.returnCode = BAD_USERNAME_OR_PASSWORD;
        log.warn({ clientId: client.id, username }, 'mqtt connect refused');
        return done(err, false);
      }
      this.identities.set(client, identity);
      this.ownTopics.set(client, new Set(DEVICE_PUBLISH_CHANNELS.map((ch) => topics.device(identity.deviceId, ch))));
      done(null, true);
    };
    broker.authorizePublish = (client, packet, done) => {
      if (!client) return done(null); // the server's own publishes
      if (this.ownTopics.get(client)?.has(packet.topic)) return done(null);
      const identity = this.identities.get(client);
      const decision = identity ? decide(identity, 'publish', packet.topic) : { allow: false, reason: 'unauthenticated' };
      if (decision.allow) return done(null);
      // MQTT 3.1.1 has no negative PUBACK; closing the connection is the allowed answer [MQTT-3.3.5-2].
      log.warn({ deviceId: identity?.deviceId, topic: packet.topic, reason: decision.reason }, 'publish refused');
      done(new Error(decision.reason));
    };
    broker.authorizeSubscribe = (client, sub, done) => {
      const identity = client ? this.identities.get(client) : undefined;
      const decision = identity ? decide(identity, 'subscribe', sub.topic) : { allow: false, reason: 'unauthenticated' };
      if (decision.allow) return done(null, sub);
      // A refused subscription is negated (SUBACK 0x80) rather than dropping the client [MQTT-3.9.3].
      log.warn({ deviceId: identity?.deviceId, topic: sub.topic, reason: decision.reason }, 'subscribe refused');
      done(null, null as unknown as Subscription);
    };
    broker.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'mqtt client error'));
    // Presence from the broker itself: a box that disconnects cleanly sends no last will [MQTT-3.1.2-10],
    // and one that never says `offline` would otherwise stay online forever. A session taken over by a new
    // connection of the same box is not a disconnect of the box.
    broker.on('clientDisconnect', (client) => {
      const identity = this.identities.get(client);
      const current = (broker as unknown as { clients?: Record<string, Client> }).clients?.[client.id];
      if (identity && (!current || current === client)) this.opts.onDeviceGone?.(identity.deviceId);
    });
    this.broker = broker;
    // With a certificate the broker speaks only TLS: boxes on public 4G must not send their secret in clear.
    const server: Server = this.opts.tls ? createTlsServer({ cert: this.opts.tls.cert, key: this.opts.tls.key }, broker.handle) : createServer(broker.handle);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // After a restart the whole fleet reconnects at once: beyond the default backlog (511) the kernel drops
      // SYNs and each such box waits a 1 s retransmit. Linux caps this at net.core.somaxconn (4096 by default).
      server.listen({ port: this.opts.port, host: this.opts.host, backlog: 4096 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return { port: (server.address() as AddressInfo).port };
  }

  publish(topic: string, payload: string, opts: PublishOptions): Promise<void> {
    const broker = this.broker;
    if (!broker) return Promise.reject(new Error('broker not started'));
    const packet = { cmd: 'publish', topic, payload: Buffer.from(payload), qos: opts.qos, retain: opts.retain, dup: false } as PublishPacket;
    return new Promise((resolve, reject) => broker.publish(packet, (err?: Error | null) => (err ? reject(err) : resolve())));
  }

  subscribe(pattern: string, handler: MessageHandler): Promise<void> {
    const broker = this.broker;
    if (!broker) return Promise.reject(new Error('broker not started'));
    return new Promise((resolve) =>
      broker.subscribe(
        pattern,
        (packet: PublishPacket, cb: () => void) => {
          try {
            handler(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload));
          } catch (err) {
            this.opts.logger.error({ err, topic: packet.topic }, 'mqtt handler threw');
          }
          // Completed after the stack unwinds, never inside it. aedes' emitter (mqemitter) keeps at most 100
          // messages in flight and starts the next queued one from this callback; a synchronous callback made
          // that drain one nested call per queued message, and 10,000 boxes reporting at once (an emergency
          // fan-out) overflowed the stack and killed the server. A microtask keeps the order and adds no delay.
          queueMicrotask(cb);
        },
        () => resolve(),
      ),
    );
  }

  /** Disconnects a device at once (revoked credentials). */
  disconnect(deviceId: string): void {
    // `clients` is public at run time but missing from aedes' type definitions.
    const clients = (this.broker as unknown as { clients?: Record<string, Client> } | null)?.clients;
    const client = clients?.[deviceId];
    client?.close();
  }

  async stop(): Promise<void> {
    const server = this.server;
    const broker = this.broker;
    this.server = null;
    this.broker = null;
    // net.Server#close waits for every socket to end, and only aedes ends them: stop accepting first,
    // close the broker (which disconnects its clients), then wait for the listener to finish.
    const listenerClosed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
    await listenerClosed;
  }
}
