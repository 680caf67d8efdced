import t from 'tap';
import { randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { pino } from 'pino';
import { topics } from '@loaxa/shared';
import { LogRing, SimBoard, type Player, type PlayOptions } from '@loaxa/device-agent';
import { fakeClock } from '../helpers/clock.js';
import { CREDENTIALS, answersOn, command, messagesOn, randomAudio, rawTelemetry, startAgent, startBroker, startMediaServer, waitFor, type TestBroker } from './helpers.js';

const CMD = topics.deviceCmd('spk-01');
const RES = topics.deviceRes('spk-01');

/** A command built by hand, so it can carry a payload the shared schema refuses. */
function raw(type: string, payload: unknown): { id: string; body: string } {
  const id = randomUUID();
  return { id, body: JSON.stringify({ v: 1, id, type, ts: Date.now(), payload }) };
}

async function ask(b: TestBroker, cmd: { id: string; body: string }, timeoutMs = 3_000) {
  await b.publish(CMD, cmd.body);
  return waitFor(() => answersOn(b, RES).find((a) => a.re === cmd.id), timeoutMs, `answer to ${cmd.id}`);
}

/** Records what it is asked to play, taking the real duration. */
class RecordingPlayer implements Player {
  readonly calls: Array<{ file: string; volume: number; durationMs: number }> = [];
  play(file: string, opts: PlayOptions): Promise<void> {
    this.calls.push({ file, volume: opts.volume, durationMs: opts.durationMs });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, opts.durationMs);
      opts.signal.addEventListener('abort', () => (clearTimeout(timer), reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))), { once: true });
    });
  }
}

t.test('test tone: played through the amplifier at the asked volume, answered when done', async (t) => {
  const b = await startBroker(t);
  const board = new SimBoard();
  board.hardwareMixer = false;
  const player = new RecordingPlayer();
  // The agent's clock times the amplifier's hold (agent-parts.ts hands it to the amplified player).
  const clock = fakeClock();
  await startAgent(t, b, { board, audio: player, ampHoldMs: 50, ampWarmupMs: 0, clock });
  const switched: boolean[] = [];
  board.on('amplifier', (on) => switched.push(on));
  const answer = await ask(b, command('test-tone', { durationMs: 300, frequencyHz: 440, volume: 60 }));
  t.match(answer, { ok: true, data: { played: true, durationMs: 300, frequencyHz: 440 } });
  t.equal(player.calls.length, 1);
  t.match(player.calls[0], { file: /test-tone-440hz-300ms\.wav$/, volume: 60, durationMs: 300 });
  const wav = readFileSync(player.calls[0]!.file);
  t.equal(wav.subarray(0, 4).toString(), 'RIFF');
  t.equal(wav.length, 44 + Math.round(22_050 * 0.3) * 2, '300 ms of 16-bit mono at 22.05 kHz');
  t.same(switched, [true], 'still on through the hold');
  clock.advance(50);
  // Switching off is a write to the board, done once the hold has passed: waited for, not slept for.
  await waitFor(() => switched.length >= 2, 2_000, 'the amplifier switched off');
  t.same(switched, [true, false], 'amplifier on for the tone, off after the hold time');
});

t.test('test tone is refused while a bulletin plays, and defaults apply', async (t) => {
  const b = await startBroker(t);
  const media = await startMediaServer(t, CREDENTIALS);
  const player = new RecordingPlayer();
  await startAgent(t, b, { audio: player });
  const ref = media.put(randomAudio());
  const now = Date.now();
  await b.publish(CMD, command('play', { broadcastId: 'bc-1', occurrenceAt: now, priority: 'normal', media: { ...ref, durationMs: 1_500 }, startAt: now, windowMs: 5_000 }).body);
  await waitFor(() => player.calls.length === 1, 2_000, 'the bulletin playing');
  const busy = await ask(b, command('test-tone', {}));
  t.match(busy, { ok: false, error: { code: 'LOAXA_CONFLICT', message: /busy with bc-1/ } });
  const bad = await ask(b, raw('test-tone', { durationMs: 999_999 }));
  t.match(bad, { ok: false, error: { code: 'LOAXA_BAD_MESSAGE', message: /durationMs/ } });
});

t.test('an emergency interrupts the test tone', async (t) => {
  const b = await startBroker(t);
  const media = await startMediaServer(t, CREDENTIALS);
  const player = new RecordingPlayer();
  await startAgent(t, b, { audio: player });
  const ref = media.put(randomAudio());
  const tone = command('test-tone', { durationMs: 5_000 });
  await b.publish(CMD, tone.body);
  await waitFor(() => player.calls.length === 1, 2_000, 'tone playing');
  const now = Date.now();
  await b.publish(CMD, command('play', { broadcastId: 'alarm', occurrenceAt: now, priority: 'emergency', media: { ...ref, durationMs: 100 }, startAt: now, windowMs: 5_000 }).body);
  t.match(await waitFor(() => answersOn(b, RES).find((a) => a.re === tone.id), 3_000), { ok: true, data: { played: false } });
  await waitFor(() => player.calls.length === 2, 2_000, 'the emergency played');
});

t.test('fetch-logs returns the recent lines, filtered by level', async (t) => {
  const b = await startBroker(t);
  const logs = new LogRing(500);
  const logger = pino({ level: 'debug' }, { write: (line: string) => logs.write(line) });
  await startAgent(t, b, { logs, logger });
  const all = await ask(b, command('fetch-logs', { lines: 50 }));
  t.equal(all.ok, true);
  const lines = (all as { data: { lines: string[]; truncated: boolean } }).data.lines;
  t.ok(lines.some((l) => l.includes('agent started')), 'includes the start');
  t.ok(lines.every((l) => JSON.parse(l).level >= 10));
  const warn = await ask(b, command('fetch-logs', { minLevel: 'warn' }));
  t.ok((warn as { data: { lines: string[] } }).data.lines.every((l) => JSON.parse(l).level >= 40));
  const one = await ask(b, command('fetch-logs', { lines: 1 }));
  t.match(one, { ok: true, data: { truncated: true } });
  t.equal((one as { data: { lines: string[] } }).data.lines.length, 1);

  const none = await startBroker(t);
  await startAgent(t, none);
  t.match(await ask(none, command('fetch-logs', {})), { ok: false, error: { code: 'LOAXA_UNAVAILABLE' } });
});

t.test('update-config: live keys apply at once, others restart the agent; identity stays out of reach', async (t) => {
  const b = await startBroker(t);
  const { agent, dir } = await startAgent(t, b, { heartbeatMs: 30_000 });
  const live = await ask(b, command('update-config', { set: { heartbeatMs: 100 } }));
  t.match(live, { ok: true, data: { changed: ['heartbeatMs'], restart: false } });
  const file = `${dir}/state/config-overrides.json`;
  t.same(JSON.parse(readFileSync(file, 'utf8')), { heartbeatMs: 100 });
  t.equal(statSync(file).mode & 0o777, 0o600);
  await waitFor(() => rawTelemetry(b).length >= 2, 3_000, 'heartbeats at the new period');

  for (const [set, message] of [
    [{ mqtt: { url: 'mqtt://evil:1883' } }, /not remotely changeable: mqtt/],
    [{ modemRecoveryCommand: 'rm -rf /' }, /not remotely changeable: modemRecoveryCommand/],
    [{ heartbeatMs: 'soon' }, /heartbeatMs/],
  ] as const) {
    t.match(await ask(b, command('update-config', { set })), { ok: false, error: { code: 'LOAXA_BAD_REQUEST', message } });
  }

  const statuses = () => messagesOn(b, topics.deviceStatus('spk-01'), 'status').map((m) => m.payload.state);
  const restart = await ask(b, command('update-config', { set: { cacheMaxBytes: 123_456_789 } }));
  t.match(restart, { ok: true, data: { changed: ['cacheMaxBytes'], restart: true } });
  await waitFor(() => statuses().join() === 'online,offline,online', 5_000, 'restarted in place');
  t.equal(agent.effectiveConfig.cacheMaxBytes, 123_456_789);
  t.equal(agent.effectiveConfig.heartbeatMs, 100, 'earlier overrides kept');

  const unset = await ask(b, command('update-config', { unset: ['heartbeatMs'] }));
  t.match(unset, { ok: true, data: { changed: ['heartbeatMs'], restart: false } });
  t.equal(agent.effectiveConfig.heartbeatMs, 30_000, 'back to the installer value');
});

t.test('reboot restarts the agent (in place here; main.ts exits for systemd)', async (t) => {
  const b = await startBroker(t);
  const { agent } = await startAgent(t, b);
  const statuses = () => messagesOn(b, topics.deviceStatus('spk-01'), 'status').map((m) => m.payload.state);
  t.match(await ask(b, command('reboot', { delayMs: 50 })), { ok: true, data: { restartingInMs: 50 } });
  await waitFor(() => statuses().join() === 'online,offline,online', 5_000, 'offline then online again');
  t.ok(agent.connected);

  let asked = '';
  agent.on('restart-requested', (reason) => (asked = reason));
  await ask(b, command('reboot', { delayMs: 0 }));
  await waitFor(() => asked, 2_000, 'the process is asked to restart');
  t.match(asked, /restart requested by the server/);
  t.equal(statuses().length, 3, 'a listener takes over the restart');
});
