import t from 'tap';
import { topics } from '@loaxa/shared';
import { startSimulation } from '@loaxa/firmware-sim';
import { answersOn, command, messagesOn, silentLogger, tempDir, waitFor } from '../device-agent/helpers.js';
import { ADMIN_PASSWORD, startStandIn } from './stand-in-server.js';

const env = { LOAXA_ADMIN_PASSWORD: ADMIN_PASSWORD };

t.test('4g-flapping: links drop and stall, boxes come back and still answer', async (t) => {
  const server = await startStandIn(t);
  const s = await startSimulation({
    serverUrl: server.url,
    count: 3,
    areaCode: '00004',
    stateFile: `${tempDir(t)}/s.json`,
    logger: silentLogger(),
    env,
    startSpreadMs: 20,
    scenarios: ['4g-flapping'],
    scenarioOptions: { periodMs: 500, durationMs: 150, loss: 0.1, latencyMs: 20 },
    agentConfig: { reconnectMs: 50, reconnectMaxMs: 200 },
  });
  t.teardown(() => s.stop({ timeoutMs: 1_000 }));
  t.ok(s.boxes.every((b) => b.link), 'every box behind its own flaky link');
  for (const d of s.devices) {
    await waitFor(() => messagesOn(server.broker, topics.deviceStatus(d.id), 'status').filter((m) => m.payload.state === 'online').length >= 2, 8_000, `${d.id} reconnected after a drop`);
  }
  t.ok(s.boxes.every((b) => b.link!.stats.cuts + b.link!.stats.refused > 0), 'links went down');
  const id = s.devices[0]!.id;
  const cmd = command('set-volume', { volume: 33 });
  await server.broker.publish(topics.deviceCmd(id), cmd.body);
  t.match(await waitFor(() => answersOn(server.broker, topics.deviceRes(id)).find((a) => a.re === cmd.id), 10_000, 'answer through the flapping link'), { ok: true });
});

t.test('reboot-storm: a hundred boxes lose power together and all come back', async (t) => {
  const server = await startStandIn(t);
  const count = 100;
  const s = await startSimulation({
    serverUrl: server.url,
    count,
    areaCode: '00004',
    stateFile: `${tempDir(t)}/s.json`,
    logger: silentLogger(),
    env,
    startSpreadMs: 200,
    scenarios: ['reboot-storm'],
    scenarioOptions: { delayMs: 3_000, periodMs: 0 },
    agentConfig: { reconnectMs: 200, heartbeatMs: 60_000 },
  });
  t.teardown(() => s.stop({ timeoutMs: 2_000 }));
  const onlineCount = (id: string) => messagesOn(server.broker, topics.deviceStatus(id), 'status').filter((m) => m.payload.state === 'online').length;
  await waitFor(() => s.devices.every((d) => onlineCount(d.id) >= 1), 2_900, 'every box online before the storm');
  await waitFor(() => s.devices.every((d) => onlineCount(d.id) >= 2), 10_000, 'every box online again');
  const wills = s.devices.filter((d) => messagesOn(server.broker, topics.deviceStatus(d.id), 'status').some((m) => m.payload.state === 'offline'));
  t.equal(wills.length, count, 'each abrupt loss left its last will');
  t.equal(s.connectedCount(), count);
});
