/**
 * Issue 13 review, after finding 4: the pre-connect maximum stops a huge CONNECT, but once a CONNECT was accepted
 * aedes 1.x (mqtt-packet) still buffered any packet whole, up to the 268,435,455 bytes MQTT 3.1.1 §2.2.3 lets one
 * announce: one box's credentials streaming a 200 MiB PUBLISH kept the connection open while the server went from
 * 196 to 396 MiB. Now a packet announcing more than LOAXA_MQTT_MAX_PACKET_BYTES (by default the largest message the
 * server reads, plus a topic) closes the connection as soon as its fixed header is read, it is logged once a minute
 * per box, and it counts against the box's misbehaviour budget.
 */
import t, { type Test } from 'tap';
import mqtt from 'mqtt';
import { connect as netConnect } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { encodeMessage, topics, MAX_MESSAGE_BYTES } from '@loaxa/shared';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { remainingLength, rssPeak } from './helpers.js';

const MiB = 1024 * 1024;
/** LOAXA_MQTT_MAX_PACKET_BYTES's default: the largest message the server reads, plus 64 KiB for the topic. */
const DEFAULT_MAX = MAX_MESSAGE_BYTES + 64 * 1024;


const str = (s: string) => {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};

/** A 3.1.1 CONNECT with user name and password, clean session, keep alive 60 s. */
function connectPacket(clientId: string, username: string, password: string): Buffer {
  const rest = Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 60]), str(clientId), str(username), str(password)]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(rest.length), rest]);
}

/** The start of a QoS 0 PUBLISH on `topic` whose Remaining Length announces `length` bytes. */
function publishHead(topic: string, length: number): Buffer {
  return Buffer.concat([Buffer.from([0x30]), remainingLength(length), str(topic)]);
}

/**
 * Connects as the box with its own credentials, waits for CONNACK 0 (accepted), then streams one PUBLISH announcing
 * `announced` bytes at the pace the socket takes it, stopping after `maxBytes` if the server has not closed the
 * connection by then (and 2 s more). Answers how much was handed to the socket and whether the server closed it.
 */
function streamHugePublish(port: number, box: { id: string; password: string }, announced: number, maxBytes: number): Promise<{ accepted: boolean; written: number; closedByServer: boolean; ms: number }> {
  return new Promise((resolve) => {
    const chunk = Buffer.alloc(64 * 1024, 0x61); // one buffer, written again and again: the test itself allocates nothing
    const socket = netConnect({ port, host: '127.0.0.1' });
    let started = 0;
    let accepted = false;
    let written = 0;
    let done = false;
    let answer = Buffer.alloc(0);
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ accepted, written, closedByServer, ms: Date.now() - started });
    };
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('connect', () => socket.write(connectPacket(box.id, box.id, box.password)));
    socket.on('data', (d: Buffer) => {
      if (accepted) return;
      answer = Buffer.concat([answer, d]);
      if (answer.length < 4) return;
      // CONNACK: 0x20, length 2, flags, return code (0: accepted).
      if (answer[0] !== 0x20 || answer[3] !== 0) return finish(false);
      accepted = true;
      started = Date.now();
      const head = publishHead(topics.deviceTelemetry(box.id), announced);
      socket.write(head);
      written += head.length;
      const pump = () => {
        while (!done) {
          if (written >= maxBytes) return void setTimeout(() => finish(false), 2000);
          written += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
      };
      pump();
    });
  });
}


/** A logger whose warnings the test reads. */
function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: pino({ level: 'warn' }, sink), lines };
}

async function withBox(t: Test, overrides: Parameters<typeof startTestServer>[1] = {}) {
  const log = capturedLogger();
  const s = await startTestServer(t, overrides, { logger: log.logger });
  await importSampleAreas(s.api, s.token);
  const box = (await s.api('POST', '/api/v1/devices', { name: 'a', areaCode: '99003' }, s.token)).body;
  return { ...s, box: { id: box.id as string, password: box.mqtt.password as string }, log: log.lines, port: Number(new URL(s.urls.mqttUrl).port) };
}

const oversizedLogs = (lines: Array<Record<string, unknown>>) => lines.filter((l) => typeof l.msg === 'string' && /packet over the maximum/.test(l.msg));

t.test('a box with valid credentials streaming a PUBLISH announcing 200 MiB is cut off at its header', async (t) => {
  const { port, box, api, server, log } = await withBox(t);
  global.gc?.();
  const baseline = process.memoryUsage.rss();
  const sampler = rssPeak();
  // Stops on its own after 64 MiB: on a server without a limit that much is held, and the test still ends.
  const r = await streamHugePublish(port, box, 200 * MiB, 64 * MiB);
  const grown = (sampler.stop() - baseline) / MiB;
  t.ok(r.accepted, 'the CONNECT was accepted (the box’s own credentials)');
  t.ok(r.closedByServer, `the server closed the connection (${(r.written / MiB).toFixed(1)} MiB handed to the socket)`);
  // What the client wrote includes the loopback's kernel buffers (several MiB); the server read a chunk or two.
  t.ok(r.written < 16 * MiB, `cut off within a few MiB, not after ${(r.written / MiB).toFixed(1)} MiB`);
  t.ok(r.ms < 5000, `cut off within 5 s (${r.ms} ms)`);
  t.ok(grown < 50, `the server's memory grew by less than 50 MiB (${grown.toFixed(1)} MiB)`);
  const logged = oversizedLogs(log);
  t.equal(logged.length, 1, 'logged');
  t.match(logged[0], { deviceId: box.id, announced: 200 * MiB }, 'with the box and the size it announced');
  t.equal((await api('GET', '/healthz')).status, 200, 'the server kept serving');
  t.notOk(server.ctx.misbehaviour.over(box.id), 'one oversized packet is one malformed message, not yet a penalty');

  // The same box, connecting again, sends its heartbeat as usual.
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: box.id, username: box.id, password: box.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  await c.publishAsync(topics.deviceStatus(box.id), encodeMessage('status', { state: 'online' }), { qos: 1, retain: true });
  await c.publishAsync(topics.deviceTelemetry(box.id), encodeMessage('telemetry', { uptimeS: 5, volume: 61, cacheBytes: 0, cacheItems: 0 }), { qos: 1 });
  await waitFor('the heartbeat stored', () => (server.ctx.devices.get(box.id)?.volume === 61 ? true : null), 5000, 20);
  t.ok(server.ctx.devices.get(box.id)!.online, 'status and heartbeat of normal size still work');
  t.ok(c.connected);
});

t.test('legitimate packets up to the largest message the server reads pass; one byte over the setting does not', async (t) => {
  const { port, box, server, log } = await withBox(t);
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: box.id, username: box.id, password: box.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  // The largest payload the codec reads (dropped as malformed JSON here, but the connection carries it).
  await c.publishAsync(topics.deviceTelemetry(box.id), Buffer.alloc(MAX_MESSAGE_BYTES, 0x20), { qos: 1 });
  t.ok(c.connected, `a ${MAX_MESSAGE_BYTES / MiB} MiB message still passes by default`);
  await c.publishAsync(topics.deviceTelemetry(box.id), encodeMessage('telemetry', { uptimeS: 5, volume: 33, cacheBytes: 0, cacheItems: 0 }), { qos: 1 });
  await waitFor('the heartbeat stored', () => (server.ctx.devices.get(box.id)?.volume === 33 ? true : null), 5000, 20);
  t.equal(oversizedLogs(log).length, 0, 'nothing logged');
  // Exactly the maximum (Remaining Length: topic length, topic, payload of a QoS 0 PUBLISH).
  const topic = topics.deviceTelemetry(box.id);
  await new Promise<void>((resolve, reject) => c.publish(topic, Buffer.alloc(DEFAULT_MAX - 2 - Buffer.byteLength(topic), 0x20), { qos: 0 }, (err) => (err ? reject(err) : resolve())));
  await c.publishAsync(topic, encodeMessage('telemetry', { uptimeS: 6, volume: 34, cacheBytes: 0, cacheItems: 0 }), { qos: 1 });
  await waitFor('the heartbeat stored', () => (server.ctx.devices.get(box.id)?.volume === 34 ? true : null), 5000, 20);
  t.ok(c.connected, 'a packet of exactly LOAXA_MQTT_MAX_PACKET_BYTES passes');
  t.equal(oversizedLogs(log).length, 0, 'nothing logged');

  const over = await streamHugePublish(port, box, DEFAULT_MAX + 1, 1 * MiB);
  t.ok(over.accepted && over.closedByServer, 'one byte more closes the connection');
  t.match(oversizedLogs(log), [{ deviceId: box.id, announced: DEFAULT_MAX + 1, max: DEFAULT_MAX }], 'logged with the size announced and the maximum');
});

t.test('LOAXA_MQTT_MAX_PACKET_BYTES is honoured, logged once a minute per box, and repeated offences bring the penalty', async (t) => {
  const { port, box, server, log } = await withBox(t, { mqttMaxPacketBytes: 64 * 1024, malformedPerMinute: 3 });
  const url = `mqtt://127.0.0.1:${port}`;
  const c = await mqtt.connectAsync(url, { clientId: box.id, username: box.id, password: box.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  await c.publishAsync(topics.deviceTelemetry(box.id), Buffer.alloc(60 * 1024, 0x20), { qos: 1 });
  t.ok(c.connected, '60 KiB under a 64 KiB maximum passes');
  const closed = new Promise<void>((r) => c.once('close', () => r()));
  c.publish(topics.deviceTelemetry(box.id), Buffer.alloc(100 * 1024, 0x20), { qos: 1 });
  const closedInTime = await Promise.race([closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
  t.ok(closedInTime, '100 KiB over a 64 KiB maximum closes the connection');

  // Again and again: logged once, and over the budget the box is refused at connect for its penalty.
  for (let i = 0; i < 3; i++) {
    const r = await streamHugePublish(port, box, 1 * MiB, 8 * MiB);
    if (!r.accepted) break;
    t.ok(r.closedByServer, `offence ${i + 2} closed`);
  }
  t.equal(oversizedLogs(log).length, 1, 'logged once a minute per box, not once per packet');
  t.ok(server.ctx.misbehaviour.over(box.id), 'over its misbehaviour budget');
  await t.rejects(mqtt.connectAsync(url, { clientId: box.id, username: box.id, password: box.password, reconnectPeriod: 0 }), /Bad username or password|Not authorized/, 'refused at connect');
});

t.test('many small packets in a few TCP segments are followed packet by packet (a box’s burst of reports)', async (t) => {
  const { port, box, server } = await withBox(t);
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: box.id, username: box.id, password: box.password, reconnectPeriod: 0 });
  t.teardown(() => c.endAsync(true));
  for (let i = 0; i < 200; i++) c.publish(topics.deviceTelemetry(box.id), encodeMessage('telemetry', { uptimeS: i, volume: 40 + (i % 10), cacheBytes: 0, cacheItems: 0 }), { qos: 0 });
  await c.publishAsync(topics.deviceTelemetry(box.id), encodeMessage('telemetry', { uptimeS: 999, volume: 77, cacheBytes: 0, cacheItems: 0 }), { qos: 1 });
  await waitFor('the last heartbeat stored', () => (server.ctx.devices.get(box.id)?.volume === 77 ? true : null), 5000, 20);
  t.ok(c.connected, 'a burst of 200 small packets in a few TCP segments is framed correctly');
});
