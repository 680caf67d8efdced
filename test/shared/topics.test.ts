import t from 'tap';
import { topics, parseTopic, TOPIC_ROOT } from '@loaxa/shared';

t.test('builds device and area topics under loaxa/v1', async (t) => {
  t.equal(topics.deviceStatus('spk-01'), 'loaxa/v1/d/spk-01/status');
  t.equal(topics.deviceCmd('spk-01'), 'loaxa/v1/d/spk-01/cmd');
  t.equal(topics.areaCmd('01001'), 'loaxa/v1/a/01001/cmd');
  t.equal(topics.serverStatus(), 'loaxa/v1/server/status');
  t.equal(topics.allDevices('event'), 'loaxa/v1/d/+/event');
  t.equal(TOPIC_ROOT, 'loaxa/v1');
});

t.test('refuses ids that could widen a subscription', async (t) => {
  for (const bad of ['a/b', '+', '#', 'A', '', '-x', 'x'.repeat(65), 'spk 1']) {
    t.throws(() => topics.deviceCmd(bad), /invalid device id/, JSON.stringify(bad));
  }
  t.throws(() => topics.areaCmd('ab'), /invalid area code/);
  t.throws(() => topics.areaCmd('1'), /invalid area code/);
});

t.test('parses what it builds and nothing else', async (t) => {
  t.same(parseTopic('loaxa/v1/d/spk-01/event'), { kind: 'device', deviceId: 'spk-01', channel: 'event' });
  t.same(parseTopic('loaxa/v1/a/01/cmd'), { kind: 'area', areaCode: '01', channel: 'cmd' });
  t.same(parseTopic('loaxa/v1/server/status'), { kind: 'server-status' });
  for (const bad of ['loaxa/v2/d/x/event', 'loaxa/v1/d/x/other', 'loaxa/v1/d/X/event', 'loaxa/v1/d/x/event/extra', 'loaxa/v1/a/x1/cmd', 'loaxa/v1/a/01/status', 'foo', '$SYS/broker']) {
    t.equal(parseTopic(bad), null, bad);
  }
});
