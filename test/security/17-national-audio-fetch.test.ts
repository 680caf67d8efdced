/**
 * Issue 17 review (hostile): fetching a parent's *NoiDung.Link* (server/src/national/downlink/fetch-audio.ts).
 *
 * HOLE (high, SSRF by DNS rebinding) — fetch-audio.ts:50-53: the address guard resolves the link's host name
 * (`guard.refusal(url)`, relay/address-guard.ts `refusal` → dns.lookup), and then `fetch(url)` resolves the
 * name a second time on its own and connects to whatever that answer is. The address that is checked is not
 * the address that is connected to. A parent (or anyone who controls a DNS name a parent links to — a province
 * media server's domain, a CDN CNAME) answers the first lookup with a public address and the second with
 * 127.0.0.1 / 10.x / 169.254.169.254 (TTL 0 rebinding), and the server GETs an internal URL: the broker's or
 * Icecast's admin pages, a cloud metadata service, the LAN's devices. What comes back is decoded as audio and
 * *broadcast on the communes' loudspeakers* if it decodes (an internal WAV/MP3), and in every case the
 * parent learns from the answer (MoTa: "HTTP 404", "không phải tệp âm thanh", timing) what exists inside.
 * Also, `refusal` answers null (allowed) when the name does not resolve within 3 s or the lookup throws, and
 * fetch then resolves it itself: a slow authoritative server is enough, no rebinding needed.
 * Fix: connect to the address that was checked — an undici Agent whose `connect.lookup` resolves once, refuses
 * any address `guard.addressAllowed` refuses (and a failed lookup), and hands that address to the socket; use
 * it for every hop of the redirect loop. (The same applies to the relay's other opens that use fetch.)
 *
 * The two HOLE tests below FAIL now: the guard is given a resolver that answers a public address (what the
 * attacker's DNS says to the first lookup), while the system resolver fetch uses says `localhost` is
 * 127.0.0.1 (what it says to the second). The REGRESSION tests pass now and must keep passing.
 */
import t, { type Test } from 'tap';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamAddressGuard } from '../../server/src/relay/address-guard.js';
import { AudioFetchError, fetchAudio } from '../../server/src/national/downlink/fetch-audio.js';
import { tempDir } from '../helpers/server.js';

/** An "internal" service on loopback, counting the requests that reach it. */
type T = Test;

async function internalService(t: T, handler?: (path: string, res: ServerResponse) => void) {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '/');
    if (handler) return handler(req.url ?? '/', res);
    res.writeHead(200, { 'content-type': 'audio/wav' }).end(Buffer.alloc(1024, 1));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.address() as AddressInfo).port, hits };
}

const refusedWith = async (t: T, p: Promise<string>, what: string) => {
  try {
    const path = await p;
    t.fail(`${what}: fetched into ${path}`);
  } catch (err) {
    t.ok(err instanceof AudioFetchError, `${what}: refused (${(err as Error).message.slice(0, 120)})`);
  }
};

t.test('HOLE: the address checked is not the address connected to (DNS rebinding reaches loopback)', async (t) => {
  const dir = await tempDir(t);
  const svc = await internalService(t);
  // The attacker's DNS: the guard's lookup sees a public address...
  const guard = new StreamAddressGuard([], async () => ['93.184.216.34']);
  // ...and fetch's own lookup of the same name then gets 127.0.0.1 (here: the system's answer for localhost).
  await refusedWith(t, fetchAudio(`http://localhost:${svc.port}/internal-admin.wav`, { guard, dir, timeoutMs: 3000 }), 'a name that rebinds to loopback');
  t.same(svc.hits, [], 'the internal service got no request');
});

t.test('HOLE: a name the guard cannot resolve is let through, and fetch resolves it to loopback', async (t) => {
  const dir = await tempDir(t);
  const svc = await internalService(t);
  const guard = new StreamAddressGuard([], async () => {
    throw new Error('no DNS answer within 3000 ms');
  });
  await refusedWith(t, fetchAudio(`http://localhost:${svc.port}/a.wav`, { guard, dir, timeoutMs: 3000 }), 'a name the guard could not resolve');
  t.same(svc.hits, [], 'the internal service got no request');
});

t.test('REGRESSION (passes now): loopback literals, mapped IPv6, other schemes and redirects into loopback are refused', async (t) => {
  const dir = await tempDir(t);
  const svc = await internalService(t);
  const guard = new StreamAddressGuard();
  for (const link of [
    `http://127.0.0.1:${svc.port}/a.wav`,
    `http://127.1:${svc.port}/a.wav`,
    `http://2130706433:${svc.port}/a.wav`,
    `http://[::ffff:127.0.0.1]:${svc.port}/a.wav`,
    `http://[::1]:${svc.port}/a.wav`,
    `http://localhost:${svc.port}/a.wav`,
    'http://169.254.169.254/latest/meta-data/',
    'file:///etc/passwd',
    'data:audio/wav;base64,UklGRg==',
    'ftp://example.org/a.wav',
  ]) {
    await refusedWith(t, fetchAudio(link, { guard, dir, timeoutMs: 3000 }), link);
  }
  t.same(svc.hits, [], 'nothing reached the loopback service');

  // A redirect from an allowed host into loopback is checked again at each hop.
  const allowLoopbackRedirector = new StreamAddressGuard(['127.0.0.1']);
  const target = `http://[::1]:1/x.wav`;
  const redirector = await internalService(t, (_p, res) => res.writeHead(302, { location: target }).end());
  await refusedWith(t, fetchAudio(`http://127.0.0.1:${redirector.port}/r.wav`, { guard: allowLoopbackRedirector, dir, timeoutMs: 3000 }), 'a redirect to ::1');
  t.equal(redirector.hits.length, 1, 'the redirect was read once and not followed');
});

t.test('REGRESSION (passes now): huge and never-ending audio is bounded', async (t) => {
  const dir = await tempDir(t);
  const guard = new StreamAddressGuard(['127.0.0.0/8']);
  const endless = await internalService(t, (_p, res) => {
    res.writeHead(200, { 'content-type': 'audio/wav' });
    const timer = setInterval(() => res.write(Buffer.alloc(64 * 1024)), 5);
    res.on('close', () => clearInterval(timer));
  });
  await refusedWith(t, fetchAudio(`http://127.0.0.1:${endless.port}/huge.wav`, { guard, dir, maxBytes: 1024 * 1024, timeoutMs: 10_000 }), 'a body larger than the bound');
  const trickle = await internalService(t, (_p, res) => {
    res.writeHead(200, { 'content-type': 'audio/wav' });
    const timer = setInterval(() => res.write(Buffer.alloc(10)), 100);
    res.on('close', () => clearInterval(timer));
  });
  await refusedWith(t, fetchAudio(`http://127.0.0.1:${trickle.port}/slow.wav`, { guard, dir, timeoutMs: 800 }), 'a body that never ends');
  const declared = await internalService(t, (_p, res) => res.writeHead(200, { 'content-length': String(10 * 1024 * 1024 * 1024) }).end());
  await refusedWith(t, fetchAudio(`http://127.0.0.1:${declared.port}/big.wav`, { guard, dir, maxBytes: 1024 * 1024, timeoutMs: 3000 }), 'a declared 10 GB body');
});
