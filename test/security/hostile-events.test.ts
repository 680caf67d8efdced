/**
 * Issue 13, hostile input: exhausting the live-events stream (`GET /api/v1/events`, Server-Sent Events).
 * Each stream holds a socket, listeners on the event bus and a send buffer, so one user may hold at most
 * LOAXA_EVENT_STREAMS_PER_USER (default 5) at once; the next gets a 429 that says so. A slot comes back when
 * the browser leaves, however it leaves, and a stream nobody reads is cut off before it holds megabytes.
 */
import t from 'tap';
import { connect, type Socket } from 'node:net';
import { securityServer } from './helpers.js';
import { waitFor } from '../helpers/wait.js';

type Server = Awaited<ReturnType<typeof securityServer>>['server'];
/**
 * Listeners the live-event streams hold on the bus: the count beyond what the server keeps for itself from the
 * start (the feeds' cache and the notifications listen for good, issues 20 and 22).
 */
function streamListeners(server: Server): (event: 'delivery' | 'device') => number {
  const resident = { delivery: server.ctx.events.listenerCount('delivery'), device: server.ctx.events.listenerCount('device') };
  return (event) => server.ctx.events.listenerCount(event) - resident[event];
}

/** Opens a stream on a raw socket and resolves once the status line is in (the socket stays open, unread after). */
function openRaw(base: string, token: string, opts: { read?: boolean } = {}): Promise<{ status: number; head: string; socket: Socket; closed: Promise<void> }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      // A reader keeps draining; a "frozen tab" stops reading right here and lets the kernel buffers fill.
      if (!opts.read) {
        socket.off('data', onData);
        socket.pause();
      }
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]), head, socket, closed });
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(`GET /api/v1/events HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${token}\r\nAccept: text/event-stream\r\n\r\n`);
  });
}

t.test('five streams per user; the sixth is refused with 429, others are not affected, a slot frees when a browser leaves', async (t) => {
  const { base, server, login } = await securityServer(t);
  const held = streamListeners(server);
  const op = await login('operator', '99003');
  const other = await login('viewer', '99003');
  const streams: Array<Awaited<ReturnType<typeof openRaw>>> = [];
  for (let i = 0; i < 5; i++) {
    const s = await openRaw(base, op.token, { read: true });
    t.equal(s.status, 200, `stream ${i + 1} opens`);
    streams.push(s);
  }
  t.teardown(() => streams.forEach((s) => s.socket.destroy()));

  const sixth = await fetch(`${base}/api/v1/events`, { headers: { authorization: `Bearer ${op.token}` } });
  t.equal(sixth.status, 429, 'the sixth stream of the same user');
  // (Were it let in, its body would be an endless stream: read it only when refused.)
  const body = (sixth.status === 429 ? await sixth.json() : (await sixth.body?.cancel(), { error: {} })) as any;
  t.equal(body.error.code, 'LOAXA_RATE_LIMITED');
  t.match(body.error.message, /5 live event streams .*LOAXA_EVENT_STREAMS_PER_USER.*close another tab/, 'the message says why and what to do');

  const theirs = await openRaw(base, other.token);
  t.equal(theirs.status, 200, 'another user of the same commune still gets a stream');
  theirs.socket.destroy();
  await theirs.closed;

  // A browser tab closed abruptly (no FIN handshake of HTTP, just the socket gone).
  streams.shift()!.socket.destroy();
  const again = await waitFor('a freed slot', async () => {
    const s = await openRaw(base, op.token, { read: true });
    if (s.status === 200) return s;
    s.socket.destroy();
    return null;
  }, 3000, 50);
  streams.push(again);
  t.equal(again.status, 200, 'after one stream closed, the user opens one again');
  const over = await openRaw(base, op.token);
  t.equal(over.status, 429, 'and is at the cap again');
  over.socket.destroy();

  // Leaving frees everything: slots and the bus listeners each stream held.
  for (const s of streams.splice(0)) s.socket.destroy();
  await waitFor('every listener gone', () => (held('delivery') === 0 && held('device') === 0 ? true : null), 3000, 20);
  const back: Array<Awaited<ReturnType<typeof openRaw>>> = [];
  for (let i = 0; i < 5; i++) back.push(await openRaw(base, op.token));
  t.same(back.map((s) => s.status), [200, 200, 200, 200, 200], 'all five slots came back');
  for (const s of back) s.socket.destroy();
});

t.test('opening and dropping streams in a loop leaks no slot and no listener', async (t) => {
  const { base, server, login } = await securityServer(t);
  const held = streamListeners(server);
  const op = await login('operator', '99003');
  for (let round = 0; round < 40; round++) {
    const batch = await Promise.all(Array.from({ length: 5 }, () => openRaw(base, op.token)));
    if (batch.some((s) => s.status !== 200)) {
      for (const s of batch) s.socket.destroy();
      t.fail(`round ${round}: ${batch.map((s) => s.status).join(',')}`);
      return;
    }
    for (const s of batch) s.socket.destroy();
    await Promise.all(batch.map((s) => s.closed));
    await waitFor('the slots of this round', () => (held('delivery') === 0 ? true : null), 3000, 5);
  }
  t.pass('200 streams opened and dropped, five at a time, never refused');
  t.equal(held('device'), 0, 'no listener left behind');
});

t.test('a stream that is never read is cut off instead of growing in memory; its slot comes back', async (t) => {
  const { base, api, token: adminToken, server, login } = await securityServer(t);
  const held = streamListeners(server);
  const op = await login('operator', '99003');
  const dev = (await api('POST', '/api/v1/devices', { name: 'loa', areaCode: '99003' }, adminToken)).body;
  const frozen = await openRaw(base, op.token);
  t.equal(frozen.status, 200);
  t.teardown(() => frozen.socket.destroy());
  const listening = () => held('delivery');
  t.equal(listening(), 1, 'the frozen browser’s stream is the one listening');
  // An emergency storm as the delivery service reports it: 2,000 distinct transitions every 100 ms window
  // (~0.5 MB a window for this one browser), while the browser reads nothing. Once the kernel's buffers are
  // full, what the server cannot send piles up in its memory: it must give up on the stream first.
  const at = Date.now();
  let rounds = 0;
  for (; rounds < 200 && listening() > 0; rounds++) {
    for (let i = 0; i < 2000; i++) {
      server.ctx.events.emit('delivery', { broadcastId: `bc-${rounds}-${i}-${'x'.repeat(40)}`, deviceId: dev.id, occurrenceAt: at, state: 'sent', at, reason: null });
    }
    await new Promise((r) => setTimeout(r, 110));
  }
  t.equal(listening(), 0, `the server closed the unread stream after ${rounds} windows (~${Math.round(rounds * 0.5)} MB offered)`);
  // The frozen client notices once it reads again.
  frozen.socket.resume();
  await Promise.race([frozen.closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the stream is still open')), 5000))]);
  await waitFor('its listeners gone', () => (held('delivery') === 0 ? true : null), 3000, 20);
  const next = await openRaw(base, op.token);
  t.equal(next.status, 200, 'the user can open a stream again');
  next.socket.destroy();
  t.equal((await api('GET', '/healthz')).status, 200, 'the server kept serving');
});

t.test('shutdown ends every open stream at once and stops promptly', async (t) => {
  const { base, server, login } = await securityServer(t);
  const held = streamListeners(server);
  const op = await login('operator', '99003');
  const open = await Promise.all(Array.from({ length: 5 }, () => openRaw(base, op.token, { read: true })));
  t.same(open.map((s) => s.status), [200, 200, 200, 200, 200]);
  const started = Date.now();
  await server.stop();
  await Promise.race([Promise.all(open.map((s) => s.closed)), new Promise((_, reject) => setTimeout(() => reject(new Error('a stream outlived the server')), 3000))]);
  t.ok(Date.now() - started < 3000, `stopped in ${Date.now() - started} ms with five streams open`);
  t.equal(held('delivery'), 0, 'their listeners are gone');
});
