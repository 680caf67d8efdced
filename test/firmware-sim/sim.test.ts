import t from 'tap';
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { topics } from '@loaxa/shared';
import { readSimState, startSimulation, type Simulation } from '@loaxa/firmware-sim';
import { messagesOn, silentLogger, tempDir, waitFor } from '../device-agent/helpers.js';
import { ADMIN_PASSWORD, startStandIn } from './stand-in-server.js';

const env = { LOAXA_ADMIN_PASSWORD: ADMIN_PASSWORD };

async function run(t: { teardown(fn: () => unknown): void }, opts: { url: string; stateFile: string; count: number; areaCode?: string }): Promise<Simulation> {
  const sim = await startSimulation({ serverUrl: opts.url, count: opts.count, areaCode: opts.areaCode ?? '00004', stateFile: opts.stateFile, logger: silentLogger(), env, startSpreadMs: 100 });
  t.teardown(() => sim.stop({ timeoutMs: 1_000 }));
  return sim;
}

t.test('provisions boxes once and reuses them from the state file', async (t) => {
  const server = await startStandIn(t);
  const stateFile = `${tempDir(t)}/.sim-state.json`;

  const first = await run(t, { url: server.url, stateFile, count: 3 });
  t.same(server.calls, { login: 1, areas: 1, devices: 3 });
  t.equal(first.provisioned, 3);
  t.equal(await first.waitForConnections(5_000), 3, 'every box connects with its own credentials');
  for (const d of first.devices) {
    await waitFor(() => messagesOn(server.broker, topics.deviceStatus(d.id), 'status').some((m) => m.payload.state === 'online'), 2_000, `${d.id} online`);
    t.same(d.areaAncestors, ['01'], 'ancestors from the area tree');
  }
  const saved = await readSimState(stateFile);
  t.equal(saved?.devices.length, 3);
  t.equal(statSync(stateFile).mode & 0o777, 0o600, 'state file readable by its owner only');
  const cacheDirs = new Set(first.agents.map((a) => a.deviceId));
  t.equal(cacheDirs.size, 3);
  t.ok(statSync(`${stateFile.replace(/\.json$/, '')}.boxes/${first.devices[0]!.id}/cache`).isDirectory(), 'each box has its own cache next to the state file');
  await first.stop({ timeoutMs: 1_000 });

  const second = await run(t, { url: server.url, stateFile, count: 3 });
  t.same(server.calls, { login: 1, areas: 1, devices: 3 }, 'nothing provisioned, not even a login');
  t.equal(second.provisioned, 0);
  t.same(second.devices.map((d) => d.id), first.devices.map((d) => d.id), 'the same boxes');
  t.equal(await second.waitForConnections(5_000), 3);
  await second.stop({ timeoutMs: 1_000 });

  const third = await run(t, { url: server.url, stateFile, count: 5 });
  t.same(server.calls, { login: 2, areas: 2, devices: 5 }, 'only the two missing boxes are provisioned');
  t.equal(third.agents.length, 5);
  await third.stop({ timeoutMs: 1_000 });
});

t.test('errors say what to do', async (t) => {
  const server = await startStandIn(t);
  const dir = tempDir(t);
  await t.rejects(
    startSimulation({ serverUrl: server.url, count: 1, areaCode: '00004', stateFile: `${dir}/a.json`, logger: silentLogger(), env: { LOAXA_ADMIN_PASSWORD: 'wrong' } }),
    { name: 'SimError', message: /LOAXA_ADMIN_PASSWORD/ },
  );
  await t.rejects(startSimulation({ serverUrl: server.url, count: 1, areaCode: '00004', stateFile: `${dir}/a.json`, logger: silentLogger(), env: {} }), /LOAXA_ADMIN_PASSWORD is not set/);
  await t.rejects(startSimulation({ serverUrl: server.url, count: 1, areaCode: '99999', stateFile: `${dir}/a.json`, logger: silentLogger(), env }), /area 99999 is not in the server's area tree/);

  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const { port } = closed.address() as AddressInfo;
  await new Promise<void>((r) => closed.close(() => r()));
  await t.rejects(startSimulation({ serverUrl: `http://127.0.0.1:${port}`, count: 1, areaCode: '00004', stateFile: `${dir}/b.json`, logger: silentLogger(), env }), /cannot reach the server .*ECONNREFUSED.*--server/);

  await t.rejects(startSimulation({ serverUrl: server.url, count: 1, areaCode: '00004', stateFile: `${dir}/a.json`, logger: silentLogger(), env, scenarios: ['meteor'] }), /unknown scenario "meteor"; known scenarios: steady/);

  const { writeFile } = await import('node:fs/promises');
  await writeFile(`${dir}/other.json`, JSON.stringify({ serverUrl: 'http://elsewhere:8080', devices: [] }));
  await t.rejects(startSimulation({ serverUrl: server.url, count: 1, areaCode: '00004', stateFile: `${dir}/other.json`, logger: silentLogger(), env }), /holds boxes of http:\/\/elsewhere:8080/);
  await writeFile(`${dir}/broken.json`, '{"serverUrl": 3');
  await t.rejects(startSimulation({ serverUrl: server.url, count: 1, areaCode: '00004', stateFile: `${dir}/broken.json`, logger: silentLogger(), env }), /not valid JSON; move it away/);
  t.equal(server.calls.devices, 0);
  t.notOk(await readFile(`${dir}/a.json`).catch(() => null), 'no state written when nothing was provisioned');
});
