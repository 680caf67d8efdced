import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { topics, type Payload } from '@loaxa/shared';
import { startSimulation, type Simulation, type SimulationOptions } from '@loaxa/firmware-sim';
import { command, faultEvents, messagesOn, randomAudio, sha256Of, silentLogger, tempDir, waitFor, type TestBroker } from '../device-agent/helpers.js';
import { ADMIN_PASSWORD, startStandIn, type StandIn } from './stand-in-server.js';

type Tap = { teardown(fn: () => unknown): void };

async function sim(t: Tap, server: StandIn, opts: Partial<SimulationOptions>): Promise<Simulation> {
  const s = await startSimulation({
    serverUrl: server.url,
    count: 2,
    areaCode: '00004',
    stateFile: `${tempDir(t)}/s.json`,
    logger: silentLogger(),
    env: { LOAXA_ADMIN_PASSWORD: ADMIN_PASSWORD },
    startSpreadMs: 20,
    random: () => 0.3,
    ...opts,
    agentConfig: { faultPollMs: 20, faultDebounce: 2, reconnectMs: 50, ...opts.agentConfig },
  });
  t.teardown(() => s.stop({ timeoutMs: 1_000 }));
  await s.waitForConnections(5_000);
  return s;
}

const faultsOf = (b: TestBroker, id: string) => faultEvents(b, id);

t.test('power-loss: mains fails on a share of the boxes and returns; each reports start and end', async (t) => {
  const server = await startStandIn(t);
  const s = await sim(t, server, { count: 4, scenarios: ['power-loss'], scenarioOptions: { share: 0.5, delayMs: 50, periodMs: 0, durationMs: 500 } });
  const hit = await waitFor(() => {
    const ids = s.devices.map((d) => d.id).filter((id) => faultsOf(server.broker, id).some((e) => e.fault === 'power' && e.active));
    return ids.length === 2 ? ids : undefined;
  }, 3_000, 'two boxes on battery');
  for (const id of hit) await waitFor(() => faultsOf(server.broker, id).some((e) => e.fault === 'power' && !e.active), 3_000, `${id} power back`);
  const untouched = s.devices.map((d) => d.id).filter((id) => !hit.includes(id));
  t.same(untouched.flatMap((id) => faultsOf(server.broker, id)), [], 'the other half saw nothing');
});

t.test('amplifier-failure, speaker-line-cut, disk-full: the right fault kinds from every affected box', async (t) => {
  const server = await startStandIn(t);
  const s = await sim(t, server, { scenarios: ['amplifier-failure', 'speaker-line-cut', 'disk-full'], scenarioOptions: { share: 1, delayMs: 0 } });
  for (const d of s.devices) {
    const kinds = await waitFor(() => {
      const k = new Set(faultsOf(server.broker, d.id).filter((e) => e.active).map((e) => e.fault));
      return k.size === 3 ? k : undefined;
    }, 3_000, `${d.id} faults`);
    t.same([...kinds].sort(), ['amplifier', 'disk', 'speaker-line']);
  }
  t.match(faultsOf(server.broker, s.devices[0]!.id).find((e) => e.fault === 'speaker-line'), { detail: 'speaker line open' });
  t.match(faultsOf(server.broker, s.devices[0]!.id).find((e) => e.fault === 'disk'), { detail: /5 MiB free/ });
});

t.test('clock-drift: clocks run minutes off and lose NTP; boxes report a clock fault', async (t) => {
  const server = await startStandIn(t);
  const s = await sim(t, server, { scenarios: ['clock-drift'], scenarioOptions: { share: 1, driftMsPerMinute: 60 * 60_000 }, agentConfig: { clockSyncGraceMs: 0 } });
  for (const d of s.devices) await waitFor(() => faultsOf(server.broker, d.id).find((e) => e.fault === 'clock' && e.active), 3_000, `${d.id} clock fault`);
  await waitFor(() => s.boxes.every((b) => b.clock.offsetMs <= -60_000), 3_000, 'a minute off');
  t.ok(s.boxes.every((b) => Math.abs(b.clock.now() - Date.now()) >= 60_000), 'the agents see the drifted time');
});

/** A media server without auth (the stand-in's boxes have random passwords). */
async function mediaServer(t: Tap, bytes: Buffer): Promise<{ url: string; sha256: string }> {
  const sha256 = sha256Of(bytes);
  const server = createServer((req, res) => {
    if (req.url === `/media/${sha256}`) res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/media/${sha256}`, sha256 };
}

function deliveries(b: TestBroker, id: string): Array<Extract<Payload<'event'>, { kind: 'delivery' }>> {
  return messagesOn(b, topics.deviceEvent(id), 'event')
    .map((m) => m.payload)
    .filter((p): p is Extract<Payload<'event'>, { kind: 'delivery' }> => p.kind === 'delivery');
}

t.test('corrupt-audio: the hash check refuses the download and the delivery fails', async (t) => {
  const server = await startStandIn(t);
  const s = await sim(t, server, { count: 1, scenarios: ['corrupt-audio'] });
  const media = await mediaServer(t, randomAudio(10_000));
  const id = s.devices[0]!.id;
  const now = Date.now();
  await server.broker.publish(topics.deviceCmd(id), command('play', { broadcastId: 'bc-1', occurrenceAt: now, priority: 'normal', media: { ...media, durationMs: 100 }, startAt: now, windowMs: 5_000 }).body);
  const failed = await waitFor(() => deliveries(server.broker, id).find((d) => d.state === 'failed'), 3_000, 'failed delivery');
  t.match(failed.reason, /LOAXA_HASH_MISMATCH/);
  t.equal(s.boxes[0]!.media.requests, 1);
});

t.test('slow-downloads: audio arrives at the throttled rate', async (t) => {
  const server = await startStandIn(t);
  const s = await sim(t, server, { count: 1, scenarios: ['slow-downloads'], scenarioOptions: { bytesPerSecond: 40_000 } });
  const media = await mediaServer(t, randomAudio(40_000));
  const id = s.devices[0]!.id;
  const sent = Date.now();
  await server.broker.publish(topics.deviceCmd(id), command('play', { broadcastId: 'bc-1', occurrenceAt: sent, priority: 'normal', media: { ...media, durationMs: 100 }, startAt: sent, windowMs: 10_000 }).body);
  const cached = await waitFor(() => deliveries(server.broker, id).find((d) => d.state === 'cached'), 5_000, 'cached');
  t.ok(cached.at - sent >= 800, `40 kB at 40 kB/s took ${cached.at - sent} ms`);
  await waitFor(() => deliveries(server.broker, id).find((d) => d.state === 'played'), 3_000, 'played');
});
