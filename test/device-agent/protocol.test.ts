/**
 * The protocol pieces the agent and the fleet's load-test boxes share (device-agent/src/protocol, issue 14):
 * what they put on the wire, checked once here for both.
 */
import t from 'tap';
import { decodeMessage, topics } from '@loaxa/shared';
import {
  connectOptions,
  deliveryEvent,
  deliveryReport,
  healthBlock,
  inboundKind,
  nextHeartbeatDelay,
  refusedTopics,
  statusMessage,
  subscriptionTopics,
  telemetryPayload,
} from '@loaxa/device-agent';

const ID = '3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f';

t.test('connect options: the device id as client id, a persistent session, the offline status as a retained will', async (t) => {
  const will = statusMessage('offline', { agentVersion: '1.0.0', areaCode: '99003' });
  const o = connectOptions({ deviceId: ID, username: ID, password: 'secret', keepaliveSeconds: 60, connectTimeoutMs: 30_000, will, retainStatus: true });
  t.match(o, { clientId: ID, username: ID, password: 'secret', protocolVersion: 4, clean: false, keepalive: 60, connectTimeout: 30_000, reconnectPeriod: 0, resubscribe: false });
  t.same(o.will && { ...o.will, payload: o.will.payload.toString() }, { topic: topics.deviceStatus(ID), payload: will, qos: 1, retain: true });
  const bare = connectOptions({ deviceId: ID, keepaliveSeconds: 5, connectTimeoutMs: 1_000, will, retainStatus: false });
  t.notOk('username' in bare || 'password' in bare, 'no login for a broker without authentication');
  t.equal(bare.will?.retain, false);
});

t.test('connect options: the nodes of a broker cluster, tried in turn (issue 21)', async (t) => {
  const will = statusMessage('offline', { agentVersion: '1.0.0', areaCode: '99003' });
  const spec = { deviceId: ID, keepaliveSeconds: 5, connectTimeoutMs: 1_000, will, retainStatus: true };
  t.same(connectOptions({ ...spec, brokerUrls: ['mqtt://10.0.0.1:1884', 'mqtts://broker-b.example', 'mqtt://[::1]'] }).servers, [
    { host: '10.0.0.1', port: 1884, protocol: 'mqtt' },
    { host: 'broker-b.example', port: 8883, protocol: 'mqtts' },
    { host: '::1', port: 1883, protocol: 'mqtt' },
  ]);
  t.notOk('servers' in connectOptions({ ...spec, brokerUrls: ['mqtt://10.0.0.1:1884'] }), 'one URL: nothing to rotate');
  t.notOk('servers' in connectOptions({ ...spec, brokerUrls: ['wss://a.example/mqtt', 'mqtt://b.example'] }), 'a WebSocket URL keeps its path: no rotation');
});

t.test('status: the held agenda only in online, and only when known', async (t) => {
  const status = (state: 'online' | 'offline', held: { version: number; generatedAt: number } | null | undefined) => {
    const d = decodeMessage(Buffer.from(statusMessage(state, { agentVersion: '1.0.0', areaCode: '99003', heldAgenda: () => held }, 1_700_000_000_000)), ['status']);
    if (!d.ok) throw new Error(d.error.message);
    return d.value;
  };
  t.same(status('online', { version: 3, generatedAt: 5 }).payload, { state: 'online', agentVersion: '1.0.0', areaCode: '99003', agenda: { version: 3, generatedAt: 5 } });
  t.same(status('online', null).payload.agenda, null, 'none held');
  t.notOk('agenda' in status('online', undefined).payload, 'not known yet: nothing said');
  t.notOk('agenda' in status('offline', { version: 3, generatedAt: 5 }).payload, 'the will says nothing of the agenda');
  t.equal(status('offline', null).ts, 1_700_000_000_000);
});

t.test('subscriptions and incoming topics', async (t) => {
  t.same(subscriptionTopics({ deviceId: ID, areaCode: '99003', areaAncestors: ['99', '99003'] }), [topics.deviceCmd(ID), topics.areaCmd('99003'), topics.areaCmd('99'), topics.serverStatus()]);
  t.same(refusedTopics([{ topic: 'a', qos: 1 }, { topic: 'b', qos: 128 }]), ['b']);
  t.same(refusedTopics(undefined), []);
  t.equal(inboundKind(topics.deviceCmd(ID), ID), 'device');
  t.equal(inboundKind(topics.areaCmd('99'), ID), 'area');
  t.equal(inboundKind(topics.serverStatus(), ID), 'server-status');
  t.equal(inboundKind(topics.deviceCmd('4f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f'), ID), null, "another box's commands");
  t.equal(inboundKind(topics.deviceRes(ID), ID), null);
  t.equal(inboundKind('elsewhere/x', ID), null);
});

t.test('telemetry: the clock offset only when known; the health block from readings and counters', async (t) => {
  const health = healthBlock({ system: { load1: 0.5 }, network: undefined, clockSynced: null, amplifierOn: true }, { faults: ['amplifier'], linkFailures: 2, modemRecoveries: 1 });
  t.same(health, { load1: 0.5, clockSynced: null, amplifierOn: true, faults: ['amplifier'], linkFailures: 2, modemRecoveries: 1 });
  const status = { uptimeS: 10, volume: 80, cacheBytes: 0, cacheItems: 0, playing: null };
  t.notOk('clockOffsetMs' in telemetryPayload({ ...status, clockOffsetMs: null }, health, '1.0.0'));
  t.equal(telemetryPayload({ ...status, clockOffsetMs: -3 }, health, '1.0.0').clockOffsetMs, -3);
  for (const r of [0, 0.5, 0.999]) {
    const d = nextHeartbeatDelay(30_000, () => r);
    t.ok(d >= 27_000 && d <= 33_000, `± 10 % (${d})`);
  }
});

t.test('delivery reports: the media hash once the audio is held, reasons cut to the schema', async (t) => {
  const play = { broadcastId: 'b1', occurrenceAt: 1_000, media: { sha256: 'a'.repeat(64) } };
  t.same(deliveryReport(ID, play, 'acknowledged'), { commandId: ID, broadcastId: 'b1', occurrenceAt: 1_000, state: 'acknowledged' });
  for (const state of ['cached', 'playing', 'played'] as const) t.equal(deliveryReport(ID, play, state).sha256, play.media.sha256, state);
  t.equal(deliveryReport(ID, play, 'missed', 'x'.repeat(600)).reason?.length, 500);
  t.same(deliveryEvent(deliveryReport(ID, play, 'cancelled', 'stopped'), 5), { kind: 'delivery', commandId: ID, broadcastId: 'b1', occurrenceAt: 1_000, state: 'cancelled', reason: 'stopped', at: 5 });
});
