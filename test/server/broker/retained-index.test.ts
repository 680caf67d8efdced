/**
 * The retained-message index beside aedes' store (server/src/broker/retained-index.ts): a subscriber gets
 * exactly the retained messages it got from aedes' own scan, for exact topics and for wildcards.
 */
import t, { type Test } from 'tap';
import mqtt from 'mqtt';
import { Aedes } from 'aedes';
import { createServer, type AddressInfo } from 'node:net';
import { indexRetained } from '../../../server/src/broker/retained-index.js';

async function broker(t: Test) {
  const b = await Aedes.createBroker({});
  indexRetained((b as unknown as { persistence: unknown }).persistence);
  const server = createServer(b.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(async () => {
    await new Promise<void>((r) => b.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
  });
  return `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function retainedFor(url: string, filters: string[]): Promise<string[]> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  const got: string[] = [];
  c.on('message', (topic, payload, packet) => {
    if (packet.retain) got.push(`${topic}=${payload.toString()}`);
  });
  await c.subscribeAsync(filters, { qos: 1 });
  // A settle over a real socket: how many retained messages come (none, for a cleared one) is what is checked,
  // so there is no condition to poll for.
  await new Promise((r) => setTimeout(r, 150));
  await c.endAsync(true);
  return got.sort();
}

t.test('retained messages reach exact and wildcard subscriptions as before; an empty payload clears one', async (t) => {
  const url = await broker(t);
  const pub = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  t.teardown(() => pub.endAsync(true));
  await pub.publishAsync('loaxa/v1/d/spk-a/status', 'online', { qos: 1, retain: true });
  await pub.publishAsync('loaxa/v1/d/spk-b/status', 'online', { qos: 1, retain: true });
  await pub.publishAsync('loaxa/v1/d/spk-b/status', 'offline', { qos: 1, retain: true });
  await pub.publishAsync('loaxa/v1/server/status', 'up', { qos: 1, retain: true });
  await pub.publishAsync('loaxa/v1/d/spk-a/telemetry', 'not retained', { qos: 1 });

  t.same(await retainedFor(url, ['loaxa/v1/d/spk-b/status']), ['loaxa/v1/d/spk-b/status=offline'], 'an exact topic: the latest retained message');
  t.same(await retainedFor(url, ['loaxa/v1/d/spk-a/cmd', 'loaxa/v1/server/status']), ['loaxa/v1/server/status=up'], 'several exact topics, one of them retained');
  t.same(await retainedFor(url, ['loaxa/v1/d/+/status']), ['loaxa/v1/d/spk-a/status=online', 'loaxa/v1/d/spk-b/status=offline'], 'a wildcard: aedes’ own scan');
  t.same(await retainedFor(url, ['loaxa/v1/server/status', 'loaxa/#']).then((l) => l.length), 4, 'exact and wildcard together');
  await pub.publishAsync('loaxa/v1/d/spk-a/status', '', { qos: 1, retain: true });
  t.same(await retainedFor(url, ['loaxa/v1/d/spk-a/status']), [], 'cleared by an empty retained message');
  t.same(await retainedFor(url, ['loaxa/v1/d/+/status']), ['loaxa/v1/d/spk-b/status=offline']);
});
