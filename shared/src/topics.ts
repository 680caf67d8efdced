/**
 * The only place topic strings are built or parsed (STYLE.md habit 4). All topics live under `loaxa/v1/`;
 * a breaking change moves to `loaxa/v2/` instead of editing these.
 */
import { ID_PATTERN, AREA_CODE_PATTERN } from './ids.js';

export const TOPIC_ROOT = 'loaxa/v1';

export const DEVICE_CHANNELS = ['status', 'telemetry', 'event', 'cmd', 'res'] as const;
export type DeviceChannel = (typeof DEVICE_CHANNELS)[number];

/** Channels a device publishes on; `cmd` is server → device only. */
export const DEVICE_PUBLISH_CHANNELS: readonly DeviceChannel[] = ['status', 'telemetry', 'event', 'res'];

function checkId(id: string, what: string): string {
  if (!ID_PATTERN.test(id)) throw new Error(`invalid ${what} for a topic: ${JSON.stringify(id)}`);
  return id;
}

function checkArea(code: string): string {
  if (!AREA_CODE_PATTERN.test(code)) throw new Error(`invalid area code for a topic: ${JSON.stringify(code)}`);
  return code;
}

export const topics = {
  device(deviceId: string, channel: DeviceChannel): string {
    return `${TOPIC_ROOT}/d/${checkId(deviceId, 'device id')}/${channel}`;
  },
  deviceStatus: (deviceId: string) => topics.device(deviceId, 'status'),
  deviceTelemetry: (deviceId: string) => topics.device(deviceId, 'telemetry'),
  deviceEvent: (deviceId: string) => topics.device(deviceId, 'event'),
  deviceCmd: (deviceId: string) => topics.device(deviceId, 'cmd'),
  deviceRes: (deviceId: string) => topics.device(deviceId, 'res'),
  areaCmd(areaCode: string): string {
    return `${TOPIC_ROOT}/a/${checkArea(areaCode)}/cmd`;
  },
  serverStatus(): string {
    return `${TOPIC_ROOT}/server/status`;
  },
  /** Server-side subscription patterns: every device's upstream channel. */
  allDevices(channel: DeviceChannel): string {
    return `${TOPIC_ROOT}/d/+/${channel}`;
  },
};

export type ParsedTopic =
  | { kind: 'device'; deviceId: string; channel: DeviceChannel }
  | { kind: 'area'; areaCode: string; channel: 'cmd' }
  | { kind: 'server-status' };

/** Parses a concrete topic (no wildcards). Returns null for anything that is not a Loa Xã v1 topic. */
export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts[0] !== 'loaxa' || parts[1] !== 'v1') return null;
  if (parts.length === 5 && parts[2] === 'd') {
    const [, , , deviceId, channel] = parts as [string, string, string, string, string];
    if (!ID_PATTERN.test(deviceId)) return null;
    if (!(DEVICE_CHANNELS as readonly string[]).includes(channel)) return null;
    return { kind: 'device', deviceId, channel: channel as DeviceChannel };
  }
  if (parts.length === 5 && parts[2] === 'a' && parts[4] === 'cmd') {
    const areaCode = parts[3]!;
    if (!AREA_CODE_PATTERN.test(areaCode)) return null;
    return { kind: 'area', areaCode, channel: 'cmd' };
  }
  if (parts.length === 4 && parts[2] === 'server' && parts[3] === 'status') return { kind: 'server-status' };
  return null;
}
