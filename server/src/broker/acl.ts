/**
 * Who may publish and subscribe where: one pure table (ARCHITECTURE.md § MQTT), used by the embedded
 * broker's hooks and meant to be offered to external brokers as well.
 */
import { parseTopic, DEVICE_PUBLISH_CHANNELS } from '@loaxa/shared';

export interface DeviceIdentity {
  kind: 'device';
  deviceId: string;
  /** The device's area and its ancestors, the area first. */
  areaAncestry: readonly string[];
}

export type AclAction = 'publish' | 'subscribe';

export interface AclDecision {
  allow: boolean;
  reason: string;
}

const deny = (reason: string): AclDecision => ({ allow: false, reason });
const allow = (reason: string): AclDecision => ({ allow: true, reason });

/**
 * The rule table. Wildcards and `$`-topics are refused outright for devices: a `+` or `#` would match
 * other devices' topics, and `$SYS/` leaks broker internals ([MQTT-4.7.2-1]).
 */
export function decide(identity: DeviceIdentity, action: AclAction, topic: string): AclDecision {
  if (topic.includes('+') || topic.includes('#')) return deny('wildcards are not allowed for devices');
  if (topic.startsWith('$')) return deny('$-topics are reserved');
  const parsed = parseTopic(topic);
  if (!parsed) return deny('not a loaxa/v1 topic');
  if (action === 'publish') {
    if (parsed.kind !== 'device') return deny('devices publish only on their own device topics');
    if (parsed.deviceId !== identity.deviceId) return deny("another device's topic");
    if (!DEVICE_PUBLISH_CHANNELS.includes(parsed.channel)) return deny(`devices may not publish to ${parsed.channel}`);
    return allow('own upstream channel');
  }
  switch (parsed.kind) {
    case 'device':
      if (parsed.deviceId !== identity.deviceId) return deny("another device's topic");
      if (parsed.channel !== 'cmd') return deny('devices subscribe only to their cmd channel');
      return allow('own command channel');
    case 'area':
      if (!identity.areaAncestry.includes(parsed.areaCode)) return deny('area outside the device’s ancestry');
      return allow('area fan-out of own area or an ancestor');
    case 'server-status':
      return allow('server status');
  }
}
