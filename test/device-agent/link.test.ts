import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { topics } from '@loaxa/shared';
import { ReconnectPolicy, SimBoard } from '@loaxa/device-agent';
import { FlakyLink } from '@loaxa/firmware-sim';
import { fakeTools } from './fake-tools.js';
import { answersOn, command, delay, faultEvents, messagesOn, rawTelemetry, startAgent, startBroker, waitFor, type TestBroker } from './helpers.js';

async function flakyLink(t: { teardown(fn: () => unknown): void }, b: TestBroker): Promise<{ link: FlakyLink; url: string }> {
  const port = Number(new URL(b.url).port);
  const link = new FlakyLink({ host: '127.0.0.1', port });
  const url = await link.start();
  t.teardown(() => link.stop());
  return { link, url };
}

t.test('reconnect waits grow exponentially with jitter, up to the ceiling', async (t) => {
  for (const r of [0, 0.5, 0.999]) {
    const p = new ReconnectPolicy({ baseMs: 1_000, maxMs: 30_000, random: () => r });
    const delays = Array.from({ length: 10 }, () => p.nextDelay());
    t.ok(delays[0]! >= 500 && delays[0]! <= 1_500, `first retry is the base ± 50 % (${delays[0]})`);
    for (let n = 1; n < delays.length; n++) {
      const ceiling = Math.min(30_000, 1_000 * 2 ** n);
      t.ok(delays[n]! >= ceiling / 2 && delays[n]! <= ceiling, `attempt ${n}: ${delays[n]} within [${ceiling / 2}, ${ceiling}]`);
    }
    t.equal(p.consecutiveFailures, 10);
    p.connected();
    t.ok(p.nextDelay() <= 1_500, 'a success starts over');
  }
  const refused = new ReconnectPolicy({ baseMs: 1_000, maxMs: 300_000, random: () => 0.5 });
  refused.refused();
  t.equal(refused.nextDelay(), 12_000, 'a refused CONNECT waits 12 base periods');
  // A fleet spreads out: 200 boxes' third retries are not in step.
  const third = new Set(Array.from({ length: 200 }, () => {
    const p = new ReconnectPolicy({ baseMs: 1_000, maxMs: 60_000 });
    p.nextDelay();
    p.nextDelay();
    return Math.round(p.nextDelay() / 100);
  }));
  t.ok(third.size > 15, `spread over ${third.size} tenths of a second`);
});

t.test('on repeated failures the modem recovery command runs, once per interval; the link then recovers', async (t) => {
  const b = await startBroker(t);
  const { link, url } = await flakyLink(t, b);
  const tools = fakeTools(t);
  const marker = join(tools.state, 'recovered');
  link.setDown(true);
  const started = Date.now();
  const { agent } = await startAgent(t, b, {
    mqtt: { url, username: 'dev-spk-01', password: 'secret-0123456789abcdef' },
    realHardware: tools.env,
    reconnectMs: 50,
    reconnectMaxMs: 200,
    modemRecoveryCommand: `echo "recovery $(date +%s%N)" >> '${marker}'`,
    modemRecoveryAfterFailures: 3,
    modemRecoveryIntervalMs: 60_000,
    heartbeatMs: 100,
    waitConnected: false,
  });
  await waitFor(() => existsSync(marker), 5_000, 'the recovery command');
  const attemptsBeforeRecovery = link.stats.attempts.length;
  t.ok(attemptsBeforeRecovery >= 3 && attemptsBeforeRecovery <= 4, `ran after ${attemptsBeforeRecovery} failed attempts`);
  // Real time on purpose: what is checked is how the MQTT client's reconnects over a real TCP link back off
  // (session.ts and mqtt.js time them with their own timers, which take no clock).
  await delay(1_200);
  const spent = Date.now() - started;
  t.ok(link.stats.attempts.length < spent / 50 / 2, `backed off: ${link.stats.attempts.length} attempts in ${spent} ms`);
  const gaps = link.stats.attempts.slice(1).map((at, i) => at - link.stats.attempts[i]!);
  t.ok(Math.max(...gaps.slice(-3)) > 90, `later gaps are longer (${gaps.join(', ')})`);
  t.equal(readFileSync(marker, 'utf8').trim().split('\n').length, 1, 'not again within its interval');

  link.setDown(false);
  await waitFor(() => agent.connected, 3_000, 'connected once the link is back');
  const tele = await waitFor(() => rawTelemetry(b).at(-1), 2_000, 'telemetry');
  t.ok(tele.health.linkFailures >= 3, 'failures are counted in the heartbeat');
  t.equal(tele.health.modemRecoveries, 1);
});

t.test('persistent session: a QoS 1 command sent while the box is offline arrives when it is back', async (t) => {
  const b = await startBroker(t);
  const { link, url } = await flakyLink(t, b);
  const board = new SimBoard();
  const { agent } = await startAgent(t, b, { mqtt: { url, username: 'dev-spk-01', password: 'secret-0123456789abcdef' }, reconnectMs: 50, faultPollMs: 20, board });
  const offline = new Promise<void>((r) => agent.once('offline', () => r()));
  link.setDown(true);
  await offline;
  await waitFor(() => messagesOn(b, topics.deviceStatus('spk-01'), 'status').some((m) => m.payload.state === 'offline'), 2_000, 'the will');

  const cmd = command('set-volume', { volume: 21 });
  await b.publish(topics.deviceCmd('spk-01'), cmd.body);
  board.inputs.powerLost = true; // a fault while offline is queued, not lost
  // A negative over a real, cut TCP link: nothing can be polled for, so the command is given time to (not) arrive.
  await delay(200);
  t.equal(agent.volume, 80, 'not delivered while offline');
  link.setDown(false);
  const answer = await waitFor(() => answersOn(b, topics.deviceRes('spk-01')).find((a) => a.re === cmd.id), 5_000, 'the queued command');
  t.match(answer, { ok: true, data: { volume: 21 } });
  await waitFor(() => faultEvents(b).find((e) => e.fault === 'power' && e.active), 3_000, 'the fault that began offline');
  t.equal(faultEvents(b).filter((e) => e.fault === 'power').length, 1, 'sent once');
});
