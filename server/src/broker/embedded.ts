/**
 * The embedded aedes 1.x broker on TCP, with device authentication and the ACL table in its hooks.
 * Just over 300 lines because every guard a connection meets, from the TCP accept to a box's last packet
 * (per-address limits, pre-connect and packet sizes, authentication, ACL, presence), is wired here in the
 * order a connection meets it, so the broker's whole security policy reads in one file (SECURITY.md).
 */
import { Aedes, type Client, type AuthenticateError, type PublishPacket } from 'aedes';
import { createServer, type Server, type AddressInfo, type Socket } from 'node:net';
import { AddressLimits, addressKey, normalizeAddress } from './address-limits.js';
import { createServer as createTlsServer } from 'node:tls';
import type { Logger } from 'pino';
import { DEVICE_PUBLISH_CHANNELS, MAX_MESSAGE_BYTES, topics } from '@loaxa/shared';
import { decide, type DeviceIdentity } from './acl.js';
import type { MessageHandler, PublishOptions } from './bus.js';
import type { Broker } from './broker.js';
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
  /**
   * Bytes a connection may send before its CONNECT is accepted; `maxPacketBytes` applies after it.
   * Default 8192, as `LOAXA_MQTT_PRECONNECT_MAX_BYTES`'s.
   */
  preconnectMaxBytes?: number;
  /**
   * The largest packet (its Remaining Length, MQTT 3.1.1 §2.2.3) a connection may send once its CONNECT is accepted;
   * a larger one closes the connection as soon as its fixed header is read. Default `DEFAULT_MAX_PACKET_BYTES`,
   * as `LOAXA_MQTT_MAX_PACKET_BYTES`'s.
   */
  maxPacketBytes?: number;
  /** A box's connection was closed for a packet over `maxPacketBytes` (the server counts it as misbehaviour). */
  onOversizedPacket?: (deviceId: string) => void;
  /** Open connections from one address (0, the default here: no cap; the server passes its setting). */
  maxConnectionsPerAddress?: number;
  /** New connections per second from one address, in bursts of at most as many (0, the default here: no cap). */
  connectsPerAddressPerSecond?: number;
  /** Addresses neither cap applies to (the server's setting exempts loopback: the fleet simulator, benchmarks). */
  limitsExempt?: readonly string[];
  /** The monotonic clock (ms) the connect rate and the refusal log are measured on; default performance.now. A test passes a fake one. */
  now?: () => number;
}

// CONNACK return codes of MQTT 3.1.1 [MQTT-3.2.2-3]: 4 = bad user name or password, 5 = not authorized.
const BAD_USERNAME_OR_PASSWORD = 4;

/**
 * What a box may send in one packet by default: the largest message the codec reads (`MAX_MESSAGE_BYTES`, larger
 * ones are dropped unread anyway) plus a PUBLISH's topic (at most 2 + 65,535 bytes) and packet id.
 */
export const DEFAULT_MAX_PACKET_BYTES = MAX_MESSAGE_BYTES + 64 * 1024;

export class EmbeddedBroker implements Broker {
  private broker: Aedes | null = null;
  private server: Server | null = null;
  private readonly identities = new WeakMap<Client, DeviceIdentity>();
  /**
   * Each box's own upstream topics, the only ones `decide()` lets it publish on: a heartbeat is then allowed
   * by one lookup instead of a topic parse (2 % of the server's CPU in a heartbeat minute, issue 8 bench).
   * Anything else still goes through `decide()`, which refuses it with its reason.
   */
  private readonly ownTopics = new WeakMap<Client, ReadonlySet<string>>();
  /**
   * Every authenticated connection of each box, from authentication on: aedes' `clients` holds a box's connection
   * only once it is registered, a few asynchronous steps after authentication, so a connection authenticated just
   * before a penalty began would otherwise stay open (issue 13: every connection of it is closed).
   */
  private readonly connections = new Map<string, Set<Client>>();
  /** Tells the byte watch of a connection that its CONNECT was accepted, and for which box. */
  private readonly preconnect = new WeakMap<object, (deviceId: string) => void>();
  private readonly perAddress: AddressLimits;

  constructor(private readonly opts: EmbeddedBrokerOptions) {
    this.perAddress = new AddressLimits(opts.now ?? (() => performance.now()));
  }

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
      this.preconnect.get(client.conn)?.(identity.deviceId);
      this.track(identity.deviceId, client);
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
      done(null, null);
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
    // The per-address caps act on the TCP connection, before a TLS handshake costs anything; the pre-connect
    // maximum on what aedes reads, the decrypted stream.
    const server: Server = this.opts.tls
      ? createTlsServer({ cert: this.opts.tls.cert, key: this.opts.tls.key }, (socket) => this.serve(broker, socket))
      : createServer((socket) => {
          if (this.admit(socket)) this.serve(broker, socket);
        });
    if (this.opts.tls) server.on('connection', (socket: Socket) => void this.admit(socket));
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

  /** Disconnects every connection of a device at once (revoked credentials, a flood). */
  disconnect(deviceId: string): void {
    // `clients` is public at run time but missing from aedes' type definitions.
    const clients = (this.broker as unknown as { clients?: Record<string, Client> } | null)?.clients;
    const client = clients?.[deviceId];
    client?.close();
    for (const c of this.connections.get(deviceId) ?? []) c.close();
  }

  /**
   * Whether a new TCP connection may go on; closes it when not. Caps connections and the connect rate per
   * address (issue 13 finding 4): each connection may hold up to the pre-connect maximum plus its socket
   * buffers until aedes' connect timeout, so without a cap one address could still open enough of them to
   * matter, and a reconnect storm from one address is spread out instead of taken at once.
   */
  private admit(socket: Socket): boolean {
    const { maxConnectionsPerAddress = 0, connectsPerAddressPerSecond = 0, limitsExempt = [] } = this.opts;
    const address = normalizeAddress(socket.remoteAddress);
    if (address === null) {
      socket.destroy(); // already gone
      return false;
    }
    if (limitsExempt.includes(address)) return true;
    const key = addressKey(address);
    const refusal = this.perAddress.take(key, socket, maxConnectionsPerAddress, connectsPerAddressPerSecond);
    if (refusal === null) return true;
    if (this.perAddress.shouldLog(key)) this.opts.logger.warn({ address, refusal }, 'mqtt connection refused (per-address cap; logged once a minute per address)');
    socket.destroy();
    return false;
  }

  /**
   * Hands the connection to aedes, watching what it reads. aedes (mqtt-packet) buffers a packet whole before
   * parsing it, and a packet may announce 268,435,455 bytes (MQTT 3.1.1 §2.2.3): four sockets streaming a 250 MB
   * CONNECT without credentials took the server from 329 MB to 1.34 GB (issue 13 finding 4), and one box's
   * credentials streaming a 200 MiB PUBLISH after its CONNECT held 200 MiB more (issue 13 review), and aedes 1.x has
   * no packet size limit. So: the first packet must be CONNECT [MQTT-3.1.0-1] and a box's is under 1 KiB, and a
   * connection that sends more than the small pre-connect maximum before it is accepted is closed; after it, a
   * connection whose packet announces more than the packet maximum is closed as soon as that packet's fixed header
   * is read, before its body is buffered.
   */
  private serve(broker: Aedes, socket: Socket): void {
    broker.handle(socket);
    // Attached after aedes' own `readable` listener, so the stream stays in paused mode and `data` is emitted
    // for exactly what aedes reads (Readable#read), chunk by chunk, before its parser sees it.
    const max = this.opts.preconnectMaxBytes ?? 8192;
    const packetMax = this.opts.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
    let seen = 0;
    let deviceId: string | null = null; // set once the CONNECT is accepted
    // The fixed headers of the packets in the stream, read as the bytes go by (nothing is copied or kept):
    // `body` bytes of the current packet still to skip; else at the header, `header` its bytes read so far
    // (0: next is the packet type, 1-4: the Remaining Length's, §2.2.3) and `length` that length so far.
    let body = 0;
    let header = 0;
    let length = 0;
    let first = true;
    const refuse = (why: 'preconnect' | 'packet', fields: Record<string, unknown>) => {
      socket.off('data', watch);
      const address = normalizeAddress(socket.remoteAddress);
      const key = deviceId ?? (address === null ? '?' : addressKey(address));
      if (this.perAddress.shouldLog(`${why} ${key}`)) {
        if (why === 'preconnect') this.opts.logger.warn({ address, ...fields }, 'mqtt connection sent more than the pre-connect maximum before its CONNECT was accepted; closed (logged once a minute per address)');
        else this.opts.logger.warn({ address, deviceId, ...fields }, 'mqtt packet over the maximum (LOAXA_MQTT_MAX_PACKET_BYTES); connection closed (logged once a minute per box)');
      }
      socket.destroy();
      if (why === 'packet' && deviceId !== null) this.opts.onOversizedPacket?.(deviceId);
    };
    const watch = (chunk: Buffer) => {
      if (deviceId === null) {
        seen += chunk.length;
        if (seen > max) return refuse('preconnect', { bytes: seen, max });
      }
      for (let i = 0; i < chunk.length; ) {
        if (body > 0) {
          const n = Math.min(body, chunk.length - i);
          body -= n;
          i += n;
          continue;
        }
        const b = chunk[i++]!;
        if (header++ === 0) continue; // the packet type and flags
        length += (b & 0x7f) * 128 ** (header - 2);
        if (b & 0x80) {
          // At most four bytes (§2.2.3): a malformed packet, which closes the connection [MQTT-4.8.0-1]; aedes'
          // parser would refuse it too, but this watch could no longer follow the stream.
          if (header === 5) {
            socket.off('data', watch);
            socket.destroy();
            return;
          }
          continue;
        }
        // The first packet, the CONNECT, can never be accepted when larger than the pre-connect maximum.
        if (first && length > max) return refuse('preconnect', { announced: length, max });
        if (length > packetMax) return refuse('packet', { announced: length, max: packetMax });
        first = false;
        body = length;
        header = 0;
        length = 0;
      }
    };
    socket.on('data', watch);
    this.preconnect.set(socket, (id) => (deviceId = id));
  }

  health(): { up: boolean; deviceConnections: number } {
    return { up: this.server?.listening ?? false, deviceConnections: this.connectionCount };
  }

  /** Authenticated box connections open now (kept as a count: summing the sets per scrape is 10,000 steps). */
  private connectionCount = 0;

  /** Remembers an authenticated connection of a device until it closes. */
  private track(deviceId: string, client: Client): void {
    const conn = client.conn as Socket;
    if (conn.destroyed) return; // aedes drops a connection closed during authentication itself
    let set = this.connections.get(deviceId);
    if (!set) this.connections.set(deviceId, (set = new Set()));
    set.add(client);
    this.connectionCount++;
    conn.once('close', () => {
      this.connectionCount--;
      set.delete(client);
      if (!set.size && this.connections.get(deviceId) === set) this.connections.delete(deviceId);
    });
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
