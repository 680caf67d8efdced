import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { topics } from '@loaxa/shared';
import { SimBoard } from '@loaxa/device-agent';
import { fakeTools } from './fake-tools.js';
import { fakeClock, type FakeClock } from '../helpers/clock.js';
import { answersOn, command, faultEvents, rawTelemetry, startAgent, startBroker, waitFor } from './helpers.js';
import type { DeviceAgent, FaultTransition } from '@loaxa/device-agent';

const FAST = { faultPollMs: 20, faultDebounce: 2 };

/**
 * Tests that count readings run the agent on a fake clock: its timer then takes no readings of its own, and
 * each of these is exactly one round a period later (the timer's round, due at the advance, joins the one
 * `checkFaults` starts: a round in progress is shared). Every transition is recorded as the agent makes it,
 * so "nothing was reported" does not depend on how long the broker takes.
 */
function readings(agent: DeviceAgent, clock: FakeClock, pollMs = FAST.faultPollMs) {
  const changes: FaultTransition[] = [];
  agent.on('fault', (f: FaultTransition) => changes.push(f));
  const rounds = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      clock.advance(pollMs);
      await agent.checkFaults();
    }
  };
  return { changes, rounds };
}

t.test('mains power lost and back: one start and one end event, QoS 1, timed at the first reading', async (t) => {
  const b = await startBroker(t);
  const board = new SimBoard();
  const clock = fakeClock();
  const { agent } = await startAgent(t, b, { ...FAST, board, clock });
  const { changes, rounds } = readings(agent, clock);
  await rounds(5);
  t.same(changes, [], 'no transition on a healthy board');
  t.same(faultEvents(b), [], 'no fault on a healthy board');

  const cutAt = clock.now();
  board.inputs.powerLost = true;
  await rounds(2);
  const start = await waitFor(() => faultEvents(b).find((e) => e.fault === 'power'), 2_000, 'power fault');
  t.match(start, { fault: 'power', active: true, detail: 'mains power lost' });
  t.ok(start.at >= cutAt && start.at <= clock.now(), 'timed when first seen');
  t.equal(start.at, cutAt + FAST.faultPollMs, 'at the first reading that showed it');
  t.match(agent.activeFaults, [{ fault: 'power', active: true }]);
  await rounds(5);
  t.equal(changes.length, 1, 'one transition while the fault lasts');
  t.equal(faultEvents(b).length, 1, 'a lasting fault is reported once');

  board.inputs.powerLost = false;
  await rounds(2);
  const end = await waitFor(() => faultEvents(b).find((e) => e.fault === 'power' && !e.active), 2_000, 'power back');
  t.ok(end.at >= start.at);
  t.equal(end.detail, undefined);
  t.ok(b.published.filter((p) => p.topic === topics.deviceEvent('spk-01')).every((p) => p.qos === 1));
});

t.test('a blip shorter than the debounce is not a fault', async (t) => {
  const b = await startBroker(t);
  const board = new SimBoard();
  const clock = fakeClock();
  const { agent } = await startAgent(t, b, { faultPollMs: 40, faultDebounce: 3, board, clock });
  const { changes, rounds } = readings(agent, clock, 40);
  await rounds(1);
  board.inputs.ampFault = true;
  await rounds(2); // two readings of the blip: one short of the debounce
  board.inputs.ampFault = false;
  await rounds(7);
  t.same(changes, [], 'no transition');
  t.same(faultEvents(b), []);
});

t.test('amplifier, speaker line, disk, clock and sound card faults carry their kind and detail', async (t) => {
  const b = await startBroker(t);
  const board = new SimBoard();
  const clock = fakeClock();
  const { agent } = await startAgent(t, b, { ...FAST, board, diskMinFreeBytes: 100 * 1024 ** 2, clockSyncGraceMs: 0, clock });
  const { changes, rounds } = readings(agent, clock);
  board.inputs.ampFault = true;
  board.inputs.lineOpen = true;
  board.disk.freeBytes = 10 * 1024 ** 2;
  board.clockSynced = false;
  board.audio = { present: false, detail: 'no sound card found' };
  await agent.checkFaults();
  await agent.checkFaults();
  const kinds = await waitFor(() => {
    const active = new Map(faultEvents(b).filter((e) => e.active).map((e) => [e.fault, e.detail]));
    return active.size === 5 ? active : undefined;
  }, 3_000, 'five faults');
  t.same(Object.fromEntries(kinds), {
    amplifier: 'amplifier reports a fault',
    'speaker-line': 'speaker line open',
    disk: '10 MiB free, below 100 MiB',
    clock: 'system clock not synchronized (NTP)',
    'audio-device': 'no sound card found',
  });

  // Open and short at once are one speaker-line fault; switching failures are amplifier faults too.
  board.inputs.lineOpen = false;
  board.inputs.lineShort = true;
  await rounds(5);
  t.equal(changes.filter((e) => e.fault === 'speaker-line').length, 1, 'no new transition');
  t.equal(faultEvents(b).filter((e) => e.fault === 'speaker-line').length, 1, 'still the same fault');
});

t.test('a clock minutes off the server is a clock fault, estimated from command timestamps', async (t) => {
  const b = await startBroker(t);
  const skew = 5 * 60_000;
  const { agent } = await startAgent(t, b, { ...FAST, clock: { now: () => Date.now() - skew }, clockSampleSettleMs: 0, heartbeatMs: 100 });
  const cmd = command('set-volume', { volume: 50 });
  await b.publish(topics.deviceCmd('spk-01'), cmd.body);
  await waitFor(() => answersOn(b, topics.deviceRes('spk-01')).find((a) => a.re === cmd.id), 2_000, 'answer');
  t.ok(Math.abs(agent.clockOffsetMs! - skew) < 1_000, `offset ≈ 5 min (${agent.clockOffsetMs})`);
  await agent.checkFaults();
  await agent.checkFaults();
  const fault = await waitFor(() => faultEvents(b).find((e) => e.fault === 'clock'), 2_000, 'clock fault');
  t.match(fault.detail, /clock behind the server by 30\d s/);
  const tele = await waitFor(() => rawTelemetry(b).find((p) => p.clockOffsetMs !== undefined), 2_000, 'telemetry with the offset');
  t.ok(Math.abs(tele.clockOffsetMs - skew) < 1_000);
});

t.test('faults survive a restart: an ended one reports its end, a lasting one is announced again once', async (t) => {
  const b = await startBroker(t);
  const board = new SimBoard();
  const first = await startAgent(t, b, { ...FAST, board });
  board.inputs.powerLost = true;
  board.inputs.lineOpen = true;
  await waitFor(() => faultEvents(b).length === 2, 2_000, 'two faults');
  const started = new Map(faultEvents(b).map((e) => [e.fault, e.at]));
  await first.agent.stop({ timeoutMs: 1_000 });

  board.inputs.powerLost = false; // mains came back while the agent was down
  const before = faultEvents(b).length;
  const clock = fakeClock();
  const second = await startAgent(t, b, { ...FAST, board, dir: first.dir, clock });
  const { changes, rounds } = readings(second.agent, clock);
  await rounds(2);
  await waitFor(() => faultEvents(b).slice(before).some((e) => e.fault === 'power' && !e.active), 2_000, 'power end');
  await rounds(5);
  t.same(changes.map((e) => [e.fault, e.active]), [['power', false]], 'the one transition since the restart');
  const after = faultEvents(b).slice(before);
  // Both carried-over starts are repeated with their original times (their first copy may have been lost
  // with the old process); the server takes them as the same faults. Power then ends.
  t.same(after.filter((e) => e.active).map((e) => [e.fault, e.at]).sort(), [...started].sort(), 'repeated with the original start');
  t.equal(after.filter((e) => e.fault === 'speaker-line').length, 1, 'the lasting fault once');
  t.same(after.filter((e) => !e.active).map((e) => e.fault), ['power'], 'the ended fault ends');
});

t.test('health rides in every heartbeat', async (t) => {
  const b = await startBroker(t);
  const board = new SimBoard();
  board.inputs.powerLost = true;
  await startAgent(t, b, { ...FAST, board, heartbeatMs: 100 });
  const tele = await waitFor(() => rawTelemetry(b).find((p) => p.health?.faults?.includes('power')), 3_000, 'telemetry with health');
  t.match(tele.health, {
    systemUptimeS: 1_000,
    cpuTempC: 48.5,
    load1: 0.2,
    memTotalBytes: 1024 ** 3,
    diskFreeBytes: board.disk.freeBytes,
    network: { type: 'cellular', accessTech: 'lte', signalPct: 70, operator: 'Viettel' },
    clockSynced: true,
    amplifierOn: false,
    faults: ['power'],
    linkFailures: 0,
  });
  t.match(tele, { volume: 80, agentVersion: String, playing: null });
});

t.test('real readers end to end: gpioget sense inputs, amixer volume, aplay card check', async (t) => {
  const tools = fakeTools(t, {
    gpioget: 'cat "$FAKE_STATE/line-$2"',
    amixer: 'true',
    aplay: 'echo "card 0: Headphones [bcm2835 Headphones], device 0: bcm2835 Headphones [bcm2835 Headphones]"',
    timedatectl: 'echo yes',
  });
  const line = (n: number, v: 0 | 1) => writeFileSync(join(tools.state, `line-${n}`), `${v}\n`);
  line(5, 1); // power good (active low "lost")
  line(6, 0); // amplifier fault, active high
  const b = await startBroker(t);
  const clock = fakeClock();
  const { agent } = await startAgent(t, b, {
    ...FAST,
    realHardware: tools.env,
    gpio: 'gpiod',
    powerLostGpio: '5:low',
    ampFaultGpio: '6',
    mixer: 'amixer',
    mixerControl: 'Speaker',
    alsaDevice: 'hw:0,0',
    clock,
  });
  const { changes, rounds } = readings(agent, clock);
  await rounds(5);
  t.same(changes, []);
  t.same(faultEvents(b), []);
  line(5, 0);
  await rounds(2);
  const fault = await waitFor(() => faultEvents(b).find((e) => e.fault === 'power'), 3_000, 'power fault from gpioget');
  t.equal(fault.active, true);
  t.ok(tools.calls().includes('gpioget gpiochip0 5') && tools.calls().includes('gpioget gpiochip0 6'));
  t.ok(tools.calls().includes('aplay -l'), 'the sound card is checked');

  const cmd = command('set-volume', { volume: 37 });
  await b.publish(topics.deviceCmd('spk-01'), cmd.body);
  t.match(await waitFor(() => answersOn(b, topics.deviceRes('spk-01')).find((a) => a.re === cmd.id), 2_000), { ok: true, data: { volume: 37 } });
  t.ok(tools.calls().includes('amixer -q -M -D default sset Speaker 80%'), 'the saved volume is applied at start');
  t.ok(tools.calls().includes('amixer -q -M -D default sset Speaker 37%'));
  t.equal(agent.volume, 37);

  tools.add('amixer', 'echo "amixer: Mixer attach default error: No such device" >&2; exit 1');
  const broken = command('set-volume', { volume: 90 });
  await b.publish(topics.deviceCmd('spk-01'), broken.body);
  t.match(await waitFor(() => answersOn(b, topics.deviceRes('spk-01')).find((a) => a.re === broken.id), 2_000), { ok: false, error: { code: 'LOAXA_UNAVAILABLE', message: /No such device/ } });
  t.equal(agent.volume, 37, 'the volume is not recorded as changed');
});
