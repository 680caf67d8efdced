/**
 * Issue 13 review: a live event stream (`GET /api/v1/events`) outlived the login it was opened with. After
 * `PATCH /api/v1/users/:id {disabled:true}` the user's token answered 401, but its open stream still delivered
 * events; it also outlived the token's expiry, and its visibility cache kept the old area after a move. Now the
 * stream checks its session and user again at each keepalive (LOAXA_EVENT_KEEPALIVE_MS), before each send, and at
 * once when the user's sessions change (logout, an admin's change), and ends when the session is revoked or
 * expired or the user disabled, demoted or moved.
 */
import t, { type Test } from 'tap';
import { securityServer } from './helpers.js';
import { waitFor } from '../helpers/wait.js';
import type { Config } from '../../server/src/config.js';

type Sse = { events: Array<{ event: string; data: any }>; comments: string[]; ended: boolean; endedAt: number; close: () => void };

/** Reads an SSE stream into its events and comment lines, noting when the server ends it. */
async function listen(base: string, token: string): Promise<Sse> {
  const ac = new AbortController();
  const res = await fetch(`${base}/api/v1/events`, { headers: { authorization: `Bearer ${token}` }, signal: ac.signal });
  if (res.status !== 200) throw new Error(`stream refused: ${res.status}`);
  const s: Sse = { events: [], comments: [], ended: false, endedAt: 0, close: () => ac.abort() };
  const reader = res.body!.getReader();
  void (async () => {
    let buf = '';
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) {
        s.ended = true;
        s.endedAt = Date.now();
        return;
      }
      buf += decoder.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (block.startsWith(':')) s.comments.push(block.slice(1).trim());
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) s.events.push({ event, data: JSON.parse(data) });
      }
    }
  })();
  await waitFor('the stream open', () => (s.comments.includes('connected') ? true : null), 3000, 10);
  return s;
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setup(t: Test, keepaliveMs = 60_000, overrides: Partial<Config> = {}) {
  const s = await securityServer(t, { eventKeepaliveMs: keepaliveMs, ...overrides });
  const box = (await s.api('POST', '/api/v1/devices', { name: 'a', areaCode: '99003' }, s.token)).body;
  let n = 0;
  /** A presence change of the box (in commune 99003), as the delivery service emits it. */
  const emit = () => s.server.ctx.events.emit('device', { deviceId: box.id, online: ++n % 2 === 1 });
  /** Whether the stream got the next presence event (within `ms`). */
  const delivered = async (sse: Sse, ms = 1000) => {
    const before = sse.events.length;
    emit();
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (sse.events.length > before) return true;
      await settle(20);
    }
    return false;
  };
  return { ...s, box, emit, delivered };
}

/** Waits until the server ended the stream, up to `ms`; answers whether it did. */
async function endsWithin(sse: Sse, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!sse.ended && Date.now() < deadline) await settle(10);
  return sse.ended;
}

t.test('disabling a user ends its open stream at once, and nothing is delivered after', async (t) => {
  const { base, api, token, login, delivered, emit } = await setup(t);
  const op = await login('operator', '99003');
  const sse = await listen(base, op.token);
  t.teardown(() => sse.close());
  t.ok(await delivered(sse), 'the stream delivers while the user is enabled');

  const before = sse.events.length;
  const patched = await api('PATCH', `/api/v1/users/${op.id}`, { disabled: true }, token);
  t.equal(patched.status, 200);
  emit(); // right after: must not reach the disabled user
  t.ok(await endsWithin(sse, 2000), 'the stream ended (keepalive is 60 s here: the change itself ended it)');
  await settle(300);
  t.equal(sse.events.length, before, 'no event delivered after the user was disabled');
  t.equal((await api('GET', '/api/v1/me', undefined, op.token)).status, 401, 'and the token answers 401');
});

t.test('moving a user to another area ends its stream: its visibility was the old area’s', async (t) => {
  const { base, api, token, login, delivered } = await setup(t);
  const op = await login('operator', '99003');
  const sse = await listen(base, op.token);
  t.teardown(() => sse.close());
  t.ok(await delivered(sse), 'delivers events of its commune');
  const before = sse.events.length;
  t.equal((await api('PATCH', `/api/v1/users/${op.id}`, { areaCode: '99004' }, token)).status, 200);
  t.ok(await endsWithin(sse, 2000), 'the stream ended');
  t.notOk(await delivered(sse, 300), 'no event of the old commune after the move');
  t.equal(sse.events.length, before);
});

t.test('demoting a user ends its stream', async (t) => {
  const { base, api, token, login, delivered } = await setup(t);
  const op = await login('operator', '99003');
  const sse = await listen(base, op.token);
  t.teardown(() => sse.close());
  t.ok(await delivered(sse));
  t.equal((await api('PATCH', `/api/v1/users/${op.id}`, { role: 'viewer' }, token)).status, 200);
  t.ok(await endsWithin(sse, 2000), 'the stream ended');
  t.notOk(await delivered(sse, 300), 'nothing after');
});

t.test('logging out ends the streams of that session only', async (t) => {
  const { base, api, login, delivered } = await setup(t);
  const op = await login('viewer', '99003');
  const other = await api<{ token: string }>('POST', '/api/v1/auth/login', { username: op.username, password: `pw-${op.username}-secret` });
  t.equal(other.status, 200, 'the same user logged in a second time (another browser)');
  const mine = await listen(base, op.token);
  const theirs = await listen(base, other.body.token);
  t.teardown(() => (mine.close(), theirs.close()));
  t.ok(await delivered(mine));
  t.equal((await api('POST', '/api/v1/auth/logout', undefined, op.token)).status, 204);
  t.ok(await endsWithin(mine, 2000), 'the logged-out session’s stream ended');
  const before = mine.events.length;
  t.ok(await delivered(theirs), 'the other session’s stream still delivers');
  t.notOk(theirs.ended, 'and stays open');
  t.equal(mine.events.length, before, 'nothing more on the ended one');
});

t.test('a session revoked behind the route’s back ends at the next keepalive', async (t) => {
  const { base, server, login, delivered } = await setup(t, 300);
  const op = await login('operator', '99003');
  const sse = await listen(base, op.token);
  t.teardown(() => sse.close());
  t.ok(await delivered(sse));
  // No event on the bus and nothing to send: only the keepalive's check can notice.
  server.ctx.sessions.revokeAll(op.id);
  const revokedAt = Date.now();
  t.ok(await endsWithin(sse, 2000), 'the stream ended');
  t.ok(sse.ended && sse.endedAt - revokedAt < 300 + 200, `within the keepalive interval (300 ms here; ${sse.endedAt - revokedAt} ms)`);
});

t.test('an event after a revocation the stream was not told of is not sent: the check comes before each send', async (t) => {
  const { base, server, login, delivered, emit } = await setup(t);
  const op = await login('operator', '99003');
  const sse = await listen(base, op.token);
  t.teardown(() => sse.close());
  t.ok(await delivered(sse));
  const before = sse.events.length;
  server.ctx.sessions.revokeAll(op.id);
  emit();
  t.ok(await endsWithin(sse, 2000), 'the stream ended when it was about to send (keepalive is 60 s here)');
  t.equal(sse.events.length, before, 'the event was not sent');
});

t.test('an expired session ends its stream at the next keepalive', async (t) => {
  const { base, login, delivered } = await setup(t, 200, { tokenTtlSeconds: 2 });
  const op = await login('viewer', '99003');
  const sse = await listen(base, op.token);
  t.teardown(() => sse.close());
  t.ok(await delivered(sse), 'delivers while the session is valid');
  t.ok(await endsWithin(sse, 4000), 'ended after the token expired');
  t.notOk(await delivered(sse, 300), 'nothing after');
});

t.test('other users’ streams are untouched by a change to one user', async (t) => {
  const { base, api, token, login, delivered } = await setup(t, 200);
  const a = await login('operator', '99003');
  const b = await login('operator', '99003');
  const sa = await listen(base, a.token);
  const sb = await listen(base, b.token);
  t.teardown(() => (sa.close(), sb.close()));
  t.equal((await api('PATCH', `/api/v1/users/${a.id}`, { disabled: true }, token)).status, 200);
  t.ok(await endsWithin(sa, 2000));
  await settle(500); // a few keepalives
  t.notOk(sb.ended, 'the other user’s stream stays open');
  t.ok(await delivered(sb), 'and delivers');
  t.ok(sb.comments.includes('keepalive'), 'with its keepalives');
});
