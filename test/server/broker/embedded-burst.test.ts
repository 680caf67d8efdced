/**
 * A burst of device messages larger than aedes' in-flight limit (100) queues in its emitter (mqemitter), and
 * the queue is drained by each delivery's completion callback. If the server's handler completes
 * synchronously, that drain recurses once per queued message: 10,000 boxes reporting `playing` at once
 * overflowed the stack and killed the server (bench:fanout at 10,000 boxes). Every message must arrive.
 */
import t from 'tap';
import { pino } from 'pino';
import { EmbeddedBroker } from '../../../server/src/broker/embedded.js';

t.test('100,000 messages published at once all reach the server handler, in order, without exhausting the stack', async (t) => {
  const broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0, drainTimeoutMs: 1000, logger: pino({ level: 'silent' }), auth: { authenticate: () => null } });
  await broker.start();
  t.teardown(() => broker.stop());
  const seen: number[] = [];
  await broker.subscribe('loaxa/v1/d/+/event', (_topic, payload) => void seen.push(Number(payload.toString())));
  const N = 100_000;
  // Straight into aedes' emitter, as a storm of devices' publishes reaches it while earlier deliveries are
  // still under way (more than its 100 in flight): the rest wait in its queue.
  const aedes = (broker as unknown as { broker: { mq: { emit(packet: unknown, cb: () => void): void }; subscribe(topic: string, fn: (p: unknown, cb: () => void) => void, done: () => void): void } }).broker;
  const mq = aedes.mq;
  // Deliveries to slow subscribers (boxes on 4G) hold aedes' 100 slots...
  const slow: Array<() => void> = [];
  await new Promise<void>((r) => aedes.subscribe('loaxa/v1/d/slow/cmd', (_p, cb) => void slow.push(cb), r));
  for (let i = 0; i < 100; i++) mq.emit({ cmd: 'publish', topic: 'loaxa/v1/d/slow/cmd', payload: Buffer.from('x'), qos: 1, retain: false }, () => undefined);
  let done = 0;
  for (let i = 0; i < N; i++) mq.emit({ cmd: 'publish', topic: `loaxa/v1/d/spk-${i % 1000}/event`, payload: Buffer.from(String(i)), qos: 1, retain: false }, () => void done++);
  t.equal(slow.length, 100);
  t.equal(seen.length, 0, 'the burst waits in the queue');
  // ...and when they complete, the queue drains through the server's handler.
  for (const cb of slow.splice(0)) cb();
  await new Promise<void>((resolve) => {
    const check = () => (done === N ? resolve() : setTimeout(check, 20));
    check();
  });
  t.equal(seen.length, N, 'every message handled');
  t.ok(seen.every((v, i) => v === i), 'in the order published');
});
