import t from 'tap';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { pino } from 'pino';
import { decodeMessage, encodeMessage, topics, type Payload } from '@loaxa/shared';
import { AgendaStore, ReportOutbox, SimBoard } from '@loaxa/device-agent';
import { CREDENTIALS, delay, freePort, messagesOn, randomAudio, silentLogger, startAgent, startBroker, startMediaServer, tempDir, waitFor } from './helpers.js';

const EVENT = topics.deviceEvent('spk-01');

t.test('reports made offline survive a restart and reach the broker in order once it is reachable', async (t) => {
  const media = await startMediaServer(t, CREDENTIALS);
  const ref = media.put(randomAudio());
  const dir = tempDir(t);
  // An agenda the box took before it lost the link: an item in a moment.
  const startAt = Date.now() + 1_000;
  const commandId = randomUUID();
  await new AgendaStore({ dir: `${dir}/state`, logger: silentLogger() }).save({
    version: 3,
    generatedAt: Date.now(),
    items: [{ commandId, broadcastId: 'bc-1', occurrenceAt: startAt, priority: 'normal', media: { ...ref, durationMs: 200 }, startAt, windowMs: 5_000 }],
  });
  const port = await freePort();
  const broker = { url: `mqtt://127.0.0.1:${port}` };
  const board = new SimBoard();
  const first = await startAgent(t, broker, { dir, board, faultPollMs: 20, faultDebounce: 1, waitConnected: false });
  board.inputs.powerLost = true;
  const played = new Promise<void>((resolve) => first.agent.on('delivery', (r) => r.state === 'played' && resolve()));
  await played;
  await waitFor(() => first.agent.queuedReports >= 5, 1_000, 'reports queued');
  await first.agent.stop({ timeoutMs: 1_000 });
  const files = readdirSync(`${dir}/state/outbox`);
  t.ok(files.length >= 5 && files.every((f) => /^\d{16}\.json$/.test(f)), `one file per report (${files.length})`);

  // A new process, still offline, then the broker comes back.
  const second = await startAgent(t, broker, { dir, board, faultPollMs: 20, faultDebounce: 1, waitConnected: false });
  // A negative over the network: the agent's reconnect attempts to a closed port get time to (not) succeed.
  await delay(200);
  t.equal(second.agent.connected, false);
  const b = await startBroker(t, { port });
  await waitFor(() => second.agent.connected, 5_000, 'reconnected');
  const delivered = await waitFor(() => {
    const evs = messagesOn(b, EVENT, 'event').map((m) => m.payload);
    return evs.filter((e) => e.kind === 'delivery').length >= 4 ? evs : undefined;
  }, 3_000, 'the queued reports');
  const deliveries = delivered.filter((e): e is Extract<Payload<'event'>, { kind: 'delivery' }> => e.kind === 'delivery');
  t.same(deliveries.map((d) => d.state), ['acknowledged', 'cached', 'playing', 'played'], 'in the order they happened');
  t.ok(deliveries.every((d) => d.commandId === commandId && d.occurrenceAt === startAt));
  const playing = deliveries.find((d) => d.state === 'playing')!;
  t.ok(playing.at >= startAt && playing.at - startAt < 200, 'with the time it happened, not the time it was sent');
  t.match(delivered.find((e) => e.kind === 'fault'), { kind: 'fault', fault: 'power', active: true });
  await waitFor(() => readdirSync(`${dir}/state/outbox`).length === 0, 2_000, 'the outbox to empty once acknowledged');
  t.equal(second.agent.queuedReports, 0);
});

t.test('the outbox is bounded: the oldest reports are dropped first, with a warning', async (t) => {
  const dir = tempDir(t);
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg) });
  const sent: string[] = [];
  let connected = false;
  const outbox = new ReportOutbox({ stateDir: dir, maxBytes: () => 3_000, logger, connected: () => connected, publish: async (body) => void sent.push(body) });
  await outbox.open();
  const bodies = Array.from({ length: 30 }, (_, i) => encodeMessage('event', { kind: 'fault', fault: 'power', active: i % 2 === 0, at: 1_000 + i }));
  for (const body of bodies) outbox.add(body);
  await outbox.flush();
  const size = Buffer.byteLength(bodies[0]!);
  const kept = Math.floor(3_000 / size);
  t.equal(outbox.pending, kept, `${kept} reports of ${size} bytes fit in 3000`);
  t.ok(warnings.includes('report queue full: oldest reports dropped'));
  t.equal(readdirSync(`${dir}/outbox`).length, kept, 'dropped from disk too');

  // A new instance finds them; sent in order once connected, and removed when acknowledged.
  const again = new ReportOutbox({ stateDir: dir, maxBytes: () => 3_000, logger, connected: () => connected, publish: async (body) => void sent.push(body) });
  await again.open();
  connected = true;
  again.connected();
  await waitFor(() => again.pending === 0, 1_000, 'all sent');
  t.same(sent, bodies.slice(-kept), 'the newest, oldest first');
  t.ok(sent.every((b) => decodeMessage(b, ['event']).ok));
  t.same(readdirSync(`${dir}/outbox`), []);
});

t.test('a report in flight when the link drops is sent again on the next link', async (t) => {
  const dir = tempDir(t);
  const attempts: string[] = [];
  let ack: (() => void) | null = null;
  let connected = true;
  const outbox = new ReportOutbox({
    stateDir: dir,
    maxBytes: () => 1_000_000,
    logger: silentLogger(),
    connected: () => connected,
    publish: (body) => {
      attempts.push(body);
      // The first attempt is never acknowledged (lost with the link); later ones are.
      return attempts.length === 1 ? new Promise(() => undefined) : new Promise<void>((resolve) => (ack = resolve));
    },
  });
  await outbox.open();
  const body = encodeMessage('event', { kind: 'fault', fault: 'disk', active: true, at: 5 });
  outbox.add(body);
  await outbox.flush();
  await waitFor(() => attempts.length === 1, 1_000, 'first attempt');
  connected = false;
  outbox.disconnected();
  connected = true;
  outbox.connected();
  await waitFor(() => attempts.length === 2, 1_000, 'sent again');
  t.equal(outbox.pending, 1, 'kept until acknowledged');
  ack!();
  await waitFor(() => outbox.pending === 0, 1_000, 'acknowledged');
  t.same(attempts, [body, body]);
});
