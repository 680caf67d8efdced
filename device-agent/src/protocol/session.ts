/**
 * What a box says to the broker when it connects, and what it listens to: the MQTT connect options, the
 * `status` message (online, and the offline last will), the subscriptions and which incoming topics are
 * commands. Pure: the agent's session (session.ts) and the fleet's load-test box (firmware-sim
 * fleet-box.ts) both build their link from these, so the thousands of boxes a benchmark runs speak exactly
 * the agent's protocol (issue 14).
 */
import type { IClientOptions, ISubscriptionGrant } from 'mqtt';
import { encodeMessage, parseTopic, topics, type HeldAgenda } from '@loaxa/shared';

export interface ConnectSpec {
  deviceId: string;
  username?: string | undefined;
  password?: string | undefined;
  keepaliveSeconds: number;
  connectTimeoutMs: number;
  /** The encoded `offline` status (statusMessage), published by the broker if the box vanishes. */
  will: string;
  /** Whether status messages are retained (the server learns presence from the retained one). */
  retainStatus: boolean;
  /** The broker URL and the other nodes of its cluster, in the order reconnects try them (none: `url` only). */
  brokerUrls?: readonly string[] | undefined;
}

/**
 * mqtt.js's `servers`: each stream it opens (the first connect and every `reconnect()`) takes the next
 * entry, round robin, so after a node dies the next attempt goes to another node (issue 21).
 */
export function brokerServers(urls: readonly string[]): Array<{ host: string; port: number; protocol: 'mqtt' | 'mqtts' }> {
  return urls.map((u) => {
    const url = new URL(u);
    const secure = url.protocol === 'mqtts:' || url.protocol === 'tls:';
    return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port ? Number(url.port) : secure ? 8883 : 1883, protocol: secure ? 'mqtts' : 'mqtt' };
  });
}

export function connectOptions(spec: ConnectSpec): IClientOptions {
  return {
    clientId: spec.deviceId,
    ...(spec.username !== undefined ? { username: spec.username } : {}),
    ...(spec.password !== undefined ? { password: spec.password } : {}),
    protocolVersion: 4,
    // A persistent session keeps QoS 1 commands sent while the box was briefly away [MQTT-3.1.2-4].
    clean: false,
    keepalive: spec.keepaliveSeconds,
    connectTimeout: spec.connectTimeoutMs,
    // Reconnects are the caller's (jittered, link.ts ReconnectPolicy): mqtt.js's fixed interval cannot back
    // off, and would bring a fleet back in lockstep.
    reconnectPeriod: 0,
    resubscribe: false,
    will: { topic: topics.deviceStatus(spec.deviceId), payload: Buffer.from(spec.will), qos: 1, retain: spec.retainStatus },
    // WebSocket URLs carry a path that `servers` cannot: those boxes keep their one URL.
    ...(spec.brokerUrls && spec.brokerUrls.length > 1 && spec.brokerUrls.every((u) => /^(mqtts?|tcp|tls):/.test(u)) ? { servers: brokerServers(spec.brokerUrls) } : {}),
  };
}

export interface StatusSpec {
  agentVersion: string;
  areaCode: string;
  /**
   * The agenda held (null: none; undefined: not known), asked only for `online`: the server resends an
   * agenda only when it differs from the one last sent (issue 8: a reconnect storm of boxes that are up
   * to date).
   */
  heldAgenda?: (() => HeldAgenda | null | undefined) | undefined;
}

/** The encoded `status` message: `online` after each connect, `offline` as the will and on a clean stop. */
export function statusMessage(state: 'online' | 'offline', spec: StatusSpec, ts?: number): string {
  const held = state === 'online' ? spec.heldAgenda?.() : undefined;
  const agenda = held !== undefined ? { agenda: held } : {};
  return encodeMessage('status', { state, agentVersion: spec.agentVersion, areaCode: spec.areaCode, ...agenda }, ts !== undefined ? { ts } : {});
}

/** The box's own `cmd`, the `a/{code}/cmd` of its area and of each ancestor (once each), and `server/status`. */
export function subscriptionTopics(box: { deviceId: string; areaCode: string; areaAncestors: readonly string[] }): string[] {
  const areaTopics = [...new Set([box.areaCode, ...box.areaAncestors])].map((code) => topics.areaCmd(code));
  return [topics.deviceCmd(box.deviceId), ...areaTopics, topics.serverStatus()];
}

/** Topics the broker refused in a SUBACK: 0x80 is a refusal [MQTT-3.9.3] (its ACL did not allow them). */
export function refusedTopics(granted: readonly ISubscriptionGrant[] | undefined): string[] {
  return (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
}

/**
 * What an incoming message is: a command on the box's own topic (`device`) or on an area topic it follows
 * (`area`), the server's status, or null (anything else is ignored).
 */
export function inboundKind(topic: string, deviceId: string): 'device' | 'area' | 'server-status' | null {
  const parsed = parseTopic(topic);
  if (parsed?.kind === 'server-status') return 'server-status';
  if (parsed?.kind === 'area') return 'area';
  if (parsed?.kind === 'device' && parsed.channel === 'cmd' && parsed.deviceId === deviceId) return 'device';
  return null;
}
