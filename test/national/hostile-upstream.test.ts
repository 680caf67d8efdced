/**
 * A hostile or broken province (issue 17: "hostile answers from upstream (garbage, huge, slow) change nothing and
 * are reported"). A Loa Xã commune server with simulated boxes reports to the conformance kit, which answers
 * garbage, then 10 MB, then slowly, then never, then 500, then drops the connection: each time the events stay
 * pending in the outbox in the same order, nothing counts as delivered, the server answers its users at once,
 * and `GET /api/v1/national/link` says what went wrong. When the province behaves again everything arrives, in
 * the order it happened, and passes the checker's rules.
 *
 * The server runs on a fake clock (test/helpers/clock.ts): the status tick and every retry's backoff fire when
 * the test moves the clock, never by sleeping; only the kit's slowness is real time (the link's timeout is 400 ms).
 */
import t from 'tap';
import { join } from 'node:path';
import { pino } from 'pino';
import { startSimulation } from '../../firmware-sim/src/index.js';
import { startTestServer, importSampleAreas, tempDir, ADMIN_PASSWORD } from '../helpers/server.js';
import { fakeClock } from '../helpers/clock.js';
import { waitFor } from '../helpers/wait.js';
import { startProvinceKit, type Misbehaviour } from './kit/province.js';

const USER = 'xa-tan-lap';
const PASSWORD = 'mat-khau-thu-2026';

t.test('garbage, 10 MB, slow, silent, 500 and dropped answers change nothing and are reported', async (t) => {
  const clock = fakeClock(Date.parse('2026-12-07T01:00:00Z'));
  const kit = await startProvinceKit({ variant: 'vi', users: { [USER]: PASSWORD } });
  t.teardown(() => kit.close());
  const { server, api, token, base } = await startTestServer(
    t,
    {
      national: {
        url: kit.url,
        mapping: 'vi',
        username: USER,
        password: PASSWORD,
        passwordFile: undefined,
        sourceId: '99003',
        sourceName: 'Hệ thống truyền thanh xã Tân Lập',
        vendorCode: 'LOAXA',
        vendorName: 'Loa Xã',
        // One status tick in the whole test (the first, an hour in), so no coalesced status reorders the queue.
        statusSeconds: 3600,
        timeoutMs: 400,
        maxAnswerBytes: 65_536,
      },
    },
    { clock },
  );
  const link = server.nationalLink!;
  t.ok(link, 'the link is on');
  await importSampleAreas(api, token);
  const simDir = await tempDir(t, 'loaxa-sim-');
  const sim = await startSimulation({ serverUrl: base, count: 2, areaCode: '99003', stateFile: join(simDir, 's.json'), logger: pino({ level: 'silent' }), username: 'admin', password: ADMIN_PASSWORD, startSpreadMs: 0 });
  t.teardown(() => sim.stop());
  t.equal(await sim.waitForConnections(10_000), 2);
  await waitFor('both boxes online', async () => ((await api('GET', '/api/v1/devices?state=online', undefined, token)).body.total === 2 ? true : null), 5000);

  // A well-behaved province first: the first tick's statuses go up and are accepted.
  clock.advance(3600_000);
  await link.idle();
  await waitFor('the first statuses accepted', () => (kit.accepted('box-status').length === 2 ? true : null), 5000);

  // Then the province turns hostile, with five events waiting: the next statuses and three acks.
  kit.misbehave({ kind: 'garbage' });
  const acceptedBefore = kit.accepted().length;
  let attempts = kit.records.length;
  clock.advance(3600_000);
  for (const id of ['HTTTN-99-001', 'HTTTN-99-002', 'HTTTN-99-003']) link.ack(id, true, 'inbox');
  await link.idle();
  const pending = async () => (await api('GET', '/api/v1/national/outbox?state=pending', undefined, token)).body.items.map((i: { seq: number; kind: string }) => `${i.seq}:${i.kind}`).reverse();
  const queued: string[] = await pending();
  t.same(
    queued.map((q) => q.split(':')[1]),
    ['box-status', 'box-status', 'schedule-ack', 'schedule-ack', 'schedule-ack'],
    'five events pending, in the order they happened',
  );

  const phases: Array<{ m: Misbehaviour; error: RegExp; what: string }> = [
    { m: { kind: 'garbage' }, error: /JSON|định dạng|không đọc/i, what: 'garbage' },
    { m: { kind: 'huge' }, error: /lớn|byte/i, what: 'a 10 MB answer' },
    { m: { kind: 'slow', ms: 1500 }, error: /thời gian|timeout|quá lâu/i, what: 'a slow answer' },
    { m: { kind: 'hang' }, error: /thời gian|timeout|quá lâu/i, what: 'no answer' },
    { m: { kind: 'error500' }, error: /500/, what: 'HTTP 500' },
    { m: { kind: 'drop' }, error: /kết nối|socket|ngắt|mạng|fetch/i, what: 'a dropped connection' },
  ];
  for (const p of phases) {
    kit.misbehave(p.m);
    if (p.what !== 'garbage') {
      // The next attempt is due after the backoff: move the clock there, and while it is in flight the
      // server still answers its users at once.
      const due = link.state().nextAttemptAt;
      t.ok(due !== null, `${p.what}: a retry is planned`);
      clock.advance(due! - clock.now());
      const started = performance.now();
      const health = await api('GET', '/api/v1/national/link', undefined, token);
      t.equal(health.status, 200);
      t.ok(performance.now() - started < 300, `${p.what}: the server answers while the province stalls (${Math.round(performance.now() - started)} ms)`);
      await link.idle();
    }
    await waitFor(`${p.what}: the attempt`, () => (kit.records.length > attempts ? true : null), 5000);
    attempts = kit.records.length;
    const state = (await api('GET', '/api/v1/national/link', undefined, token)).body;
    t.equal(state.pending, 5, `${p.what}: all five still pending`);
    t.match(state.lastError, p.error, `${p.what}: reported as «${state.lastError}»`);
    t.ok(state.nextAttemptAt, `${p.what}: and when it will be tried again`);
    t.same(await pending(), queued, `${p.what}: the same events in the same order`);
    t.equal(kit.accepted().length, acceptedBefore, `${p.what}: nothing counted as delivered`);
  }
  const outbox = (await api('GET', '/api/v1/national/outbox?state=pending', undefined, token)).body.items;
  const head = outbox.at(-1);
  t.ok(head.attempts >= phases.length, `the head event was tried ${head.attempts} times`);
  t.ok(head.lastError.length <= 2001, 'a 10 MB answer is not what is kept');

  // The province recovers: everything arrives, in order, and passes the checker.
  kit.misbehave({ kind: 'none' });
  for (let i = 0; i < 10 && link.state().pending > 0; i++) {
    const due = link.state().nextAttemptAt;
    if (due !== null) clock.advance(due - clock.now());
    await link.idle();
  }
  const state = (await api('GET', '/api/v1/national/link', undefined, token)).body;
  t.equal(state.pending, 0, 'nothing left waiting');
  const delivered = kit.accepted().slice(acceptedBefore);
  t.same(
    delivered.map((r) => (r.kind === 'schedule-ack' ? (r.body as { BanTinId: string }).BanTinId : r.kind)),
    ['box-status', 'box-status', 'HTTTN-99-001', 'HTTTN-99-002', 'HTTTN-99-003'],
    'delivered once each, in the order they happened',
  );
  t.same(
    kit.records.filter((r) => r.kind !== 'login' && r.status === 400),
    [],
    'and the checker refused none of them',
  );
  t.ok(Date.parse(state.lastSuccessAt) >= Date.parse(state.lastErrorAt), 'the last success is after the last error');

  // The province restarts and forgets its tokens: the next message meets a 401, the link logs in again and
  // delivers it (CV 1273: the token is renewed on 401).
  const logins = kit.tokensIssued();
  kit.revokeTokens();
  link.ack('HTTTN-99-004', false, 'Địa bàn 99999 không thuộc hệ thống');
  await link.idle();
  await waitFor('the ack after a new login', () => (kit.accepted('schedule-ack').length === 4 ? true : null), 5000);
  t.equal(kit.tokensIssued(), logins + 1, 'one new login');
  t.equal(kit.records.filter((r) => r.status === 401).length, 1, 'after exactly one 401');
  t.equal((await api('GET', '/api/v1/national/link', undefined, token)).body.pending, 0);
});
