/**
 * Issue 8 § connect storm: a reconnecting box says in its `online` status which agenda it holds, and the
 * server sends it the agenda only when that is not the current one. Boxes that say nothing (older agents)
 * get it on every reconnect, as before.
 */
import t from 'tap';
import mqtt from 'mqtt';
import { topics, encodeMessage, decodeMessage, type HeldAgenda, type Payload } from '@loaxa/shared';
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

type Agenda = Payload<'sync-agenda'>;

async function setup(t: Parameters<typeof startTestServer>[0], opts: { broadcast: boolean }) {
  const ctx = await startTestServer(t);
  const { api, token, server } = ctx;
  await importSampleAreas(api, token);
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa', areaCode: '99003' }, token)).body;
  let broadcastId: string | null = null;
  if (opts.broadcast) {
    const bulletin = (await api('POST', '/api/v1/bulletins', { title: 'Sáng', text: 'Chương trình phát thanh buổi sáng.' }, token)).body;
    broadcastId = (await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['99003'] }, schedule: { kind: 'daily', times: ['05:30', '17:00'] } }, token)).body.id;
  }
  // Reconciles the server has finished (agendas sent or skipped), by device.
  const reconciled: string[] = [];
  const delivery = server.ctx.deliveryService;
  const original = delivery.onReconciled!;
  delivery.onReconciled = async (ids, held) => {
    const r = await original(ids, held);
    reconciled.push(...ids);
    return r;
  };

  /**
   * Connects as the box, says online (with `agenda` when given: null = holds none) and answers the
   * agendas the server sent during the reconcile that followed, then disconnects.
   */
  async function session(agenda?: HeldAgenda | null): Promise<Agenda[]> {
    const c = await mqtt.connectAsync(ctx.urls.mqttUrl, { clientId: dev.id, username: dev.id, password: dev.mqtt.password, reconnectPeriod: 0 });
    const got: Agenda[] = [];
    c.on('message', (_topic, payload) => {
      const m = decodeMessage(payload, ['sync-agenda']);
      if (m.ok) got.push(m.value.payload);
    });
    await c.subscribeAsync(topics.deviceCmd(dev.id), { qos: 1 });
    const done = reconciled.length;
    const status = encodeMessage('status', { state: 'online', ...(agenda !== undefined ? { agenda } : {}) });
    await c.publishAsync(topics.deviceStatus(dev.id), status, { qos: 1, retain: true });
    await waitFor('the reconcile', () => (reconciled.length > done ? true : null), 5000, 20);
    // What was published before the reconcile ended is on its way: let it arrive.
    await new Promise((r) => setTimeout(r, 200));
    await c.endAsync();
    return got;
  }
  const held = (a: Agenda): HeldAgenda => ({ version: a.version, generatedAt: a.generatedAt });
  return { ...ctx, dev, broadcastId, session, held };
}

t.test('a box holding the current agenda gets none on reconnect; an older agent gets it every time', async (t) => {
  const { session, held } = await setup(t, { broadcast: true });
  const [first, ...more] = await session(null);
  t.ok(first, 'a box holding none gets the agenda');
  t.same(more, []);
  t.equal(first!.items.length, 14);

  t.same(await session(held(first!)), [], 'holding the one last sent: nothing is sent');
  t.same(await session(held(first!)), [], 'again');

  const old = await session();
  t.equal(old.length, 1, 'a status without `agenda` (an older agent) gets it, as before');
  t.equal(old[0]!.version, first!.version, 'the same version: the agenda has not changed');
});

t.test('a box holding an older agenda, or another one, gets the current one', async (t) => {
  const { session, held, api, token, broadcastId } = await setup(t, { broadcast: true });
  const [v1] = await session(null);
  const occ = v1!.items[3]!.occurrenceAt;
  // A cancellation while the box is away: the agenda it holds still has the occurrence.
  await api('POST', `/api/v1/broadcasts/${broadcastId}/cancel`, { occurrenceAt: new Date(occ).toISOString() }, token);
  const [v2, ...more] = await session(held(v1!));
  t.same(more, []);
  t.ok(v2!.version > v1!.version, 'a newer version');
  t.equal(v2!.items.length, 13);
  t.notOk(v2!.items.some((i) => i.occurrenceAt === occ), 'without the cancelled occurrence: the cancellation reaches it');

  t.same(await session(held(v2!)), [], 'then it is up to date');
  const [again] = await session(held(v1!));
  t.ok(again, 'a box that holds the older one again (a restored disk) gets the current one');
  t.same(again!.items, v2!.items);

  // The box holds an agenda the server never sent it, of a higher version (the server's database was
  // restored from an older backup): the agent ignores versions it does not exceed, so ours goes above.
  const [above] = await session({ version: 40, generatedAt: 1 });
  t.equal(above!.version, 41);
  t.same(above!.items, v2!.items);
  t.same(await session(held(above!)), [], 'and it is recorded as sent');
});

t.test('a new box with nothing to play gets no agenda; once there is one it gets it', async (t) => {
  const { session, api, token, server, dev } = await setup(t, { broadcast: false });
  t.same(await session(null), [], 'holds none and there is none: nothing is sent');
  t.same(await session(null), [], 'again');
  const old = await session();
  t.equal(old.length, 1, 'an older agent still gets the empty agenda');
  t.same(old[0]!.items, []);
  // It holds none (its disk was wiped): the empty agenda recorded as sent is what it should hold.
  t.same(await session(null), []);

  const bulletin = (await api('POST', '/api/v1/bulletins', { title: 'Sáng', text: 'Chương trình phát thanh buổi sáng.' }, token)).body;
  t.equal((await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { deviceIds: [dev.id] }, schedule: { kind: 'daily', times: ['05:30'] } }, token)).status, 201);
  await server.ctx.agenda.flush(); // the box is offline: nothing is sent now
  const [now] = await session(null);
  t.ok(now, 'holding none while there is something for it: it gets the agenda');
  t.equal(now!.items.length, 7);
});
