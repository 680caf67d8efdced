import t from 'tap';
import { decide, type DeviceIdentity } from '../../server/src/broker/acl.js';

const me: DeviceIdentity = { kind: 'device', deviceId: 'spk-a', areaAncestry: ['99003', '99'] };

t.test('a device publishes only its own upstream channels', async (t) => {
  for (const ch of ['status', 'telemetry', 'event', 'res']) t.ok(decide(me, 'publish', `loaxa/v1/d/spk-a/${ch}`).allow, ch);
  t.notOk(decide(me, 'publish', 'loaxa/v1/d/spk-a/cmd').allow, 'never its own cmd');
  t.notOk(decide(me, 'publish', 'loaxa/v1/d/spk-b/event').allow, "never another device's topic");
  t.notOk(decide(me, 'publish', 'loaxa/v1/a/99003/cmd').allow, 'never an area command');
  t.notOk(decide(me, 'publish', 'loaxa/v1/server/status').allow, 'never the server status');
  t.notOk(decide(me, 'publish', '$SYS/broker/clients').allow);
  t.notOk(decide(me, 'publish', 'other/topic').allow);
});

t.test('a device subscribes to its cmd, its area chain and the server status', async (t) => {
  t.ok(decide(me, 'subscribe', 'loaxa/v1/d/spk-a/cmd').allow);
  t.ok(decide(me, 'subscribe', 'loaxa/v1/a/99003/cmd').allow);
  t.ok(decide(me, 'subscribe', 'loaxa/v1/a/99/cmd').allow);
  t.ok(decide(me, 'subscribe', 'loaxa/v1/server/status').allow);
  t.notOk(decide(me, 'subscribe', 'loaxa/v1/a/99004/cmd').allow, 'a sibling commune');
  t.notOk(decide(me, 'subscribe', 'loaxa/v1/d/spk-b/cmd').allow);
  t.notOk(decide(me, 'subscribe', 'loaxa/v1/d/spk-a/event').allow, 'its own upstream is not for reading');
  for (const wild of ['loaxa/v1/d/+/cmd', 'loaxa/#', '#', 'loaxa/v1/a/+/cmd']) t.notOk(decide(me, 'subscribe', wild).allow, wild);
  t.notOk(decide(me, 'subscribe', '$SYS/broker/load').allow);
});
