/**
 * A speaker box as a bare MQTT client (its own credentials): it announces itself online, keeps every `play`
 * command it receives, and sends delivery reports as the agent does. For tests that drive the reports by hand.
 */
import type { Test } from 'tap';
import mqtt from 'mqtt';
import { decodeMessage, encodeMessage, topics, type Payload } from '@loaxa/shared';

export async function box(t: Test, mqttUrl: string, dev: { id: string; mqtt: { password: string } }) {
  const c = await mqtt.connectAsync(mqttUrl, { clientId: dev.id, username: dev.id, password: dev.mqtt.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  const plays: Array<Payload<'play'>> = [];
  c.on('message', (_topic, payload) => {
    const m = decodeMessage(payload, ['play']);
    if (m.ok && m.value.type === 'play') plays.push(m.value.payload);
  });
  await c.subscribeAsync(topics.deviceCmd(dev.id), { qos: 1 });
  await c.publishAsync(topics.deviceStatus(dev.id), encodeMessage('status', { state: 'online' }), { qos: 1, retain: true });
  const report = (p: Payload<'event'>) => c.publishAsync(topics.deviceEvent(dev.id), encodeMessage('event', p), { qos: 1 });
  return { plays, report };
}
