/**
 * Issue 15 review (SSRF): the server's source checker and restream open a source's URLs with ffmpeg, so a
 * source on the server's own host, its LAN or a cloud metadata address is refused — when saved (a clear 400 on
 * the URL's field, nothing stored), when checked, and when restreamed — unless LOAXA_SOURCE_PRIVATE_NETS names
 * the network. Runs against a real server with the production default (no private networks) and a real
 * MP3 stream on loopback that would otherwise be opened.
 */
import t, { type Test } from 'tap';
import { createServer, type AddressInfo } from 'node:net';
import { importSampleAreas, startTestServer } from '../helpers/server.js';
import { startToneStream } from '../helpers/streams.js';
import { StreamAddressGuard, parseNet } from '../../server/src/relay/address-guard.js';
import { loadConfig } from '../../server/src/config.js';
import { Upstream, ChildSet } from '../../server/src/relay/upstream.js';
import { SourceChecker } from '../../server/src/services/source-checker.js';
import { pino } from 'pino';

t.test('the guard: loopback, link-local, private, CGNAT, mapped and IPv6 private refused; named networks allowed', async (t) => {
  const g = new StreamAddressGuard();
  for (const a of ['127.0.0.1', '127.9.9.9', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.10', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd12::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '224.0.0.1']) {
    t.notOk(g.addressAllowed(a), `${a} refused`);
  }
  for (const a of ['8.8.8.8', '172.32.0.1', '203.113.1.1', '2001:db8::1', '::ffff:8.8.8.8']) t.ok(g.addressAllowed(a), `${a} allowed`);

  const lan = new StreamAddressGuard(['10.20.0.0/16', 'fd00::/8']);
  t.ok(lan.addressAllowed('10.20.5.5'), 'a named province LAN is allowed');
  t.notOk(lan.addressAllowed('10.21.0.1'), 'the rest of 10/8 is not');
  t.ok(lan.addressAllowed('fd00::5'));
  t.notOk(lan.addressAllowed('127.0.0.1'));

  t.match(await g.refusal('http://127.0.0.1:8000/live.mp3'), /127\.0\.0\.1 is a loopback, link-local or private address.*LOAXA_SOURCE_PRIVATE_NETS/);
  t.match(await g.refusal('http://[::1]:8000/live.mp3'), /::1/);
  t.equal(await g.refusal('http://203.113.1.1/live.mp3'), null);

  // A name counts by every address it resolves to: one private address is enough to refuse it.
  const named = new StreamAddressGuard([], async (host) => (host === 'rebind.example' ? ['203.113.1.1', '192.168.0.5'] : host === 'vov.example' ? ['203.113.1.1'] : Promise.reject(new Error('ENOTFOUND'))));
  t.match(await named.refusal('http://rebind.example/x.mp3'), /rebind\.example \(192\.168\.0\.5\)/);
  t.equal(await named.refusal('http://vov.example/x.mp3'), null);
  t.equal(await named.refusal('http://nowhere.example/x.mp3'), null, 'an unresolvable name is not refused here: opening it fails on its own');

  t.throws(() => parseNet('10.0.0.0/33'), /prefix length/);
  t.throws(() => parseNet('intranet'), /not an address/);
  t.throws(() => loadConfig({ LOAXA_SOURCE_PRIVATE_NETS: '10.0.0.0/8,lan' }), /not an address/, 'a bad setting stops the server at start, naming the entry');
  t.same(loadConfig({ LOAXA_SOURCE_PRIVATE_NETS: ' 10.20.0.0/16 , fd00::/8 ' }).sourcePrivateNets, ['10.20.0.0/16', 'fd00::/8']);
  t.same(loadConfig({}).sourcePrivateNets, [], 'by default no private network is opened');
});

t.test('a real server with the default settings refuses a loopback source when saved, and stores nothing', async (t) => {
  const tone = await startToneStream(t, { format: 'mp3' });
  const { api, token } = await startTestServer(t, { sourceCheckSeconds: 0, sourcePrivateNets: [] });
  await importSampleAreas(api, token);

  const refused = await api('POST', '/api/v1/sources', { name: 'Trộm cổng nội bộ', urls: ['http://radio.example.invalid/a.mp3', tone.url] }, token);
  t.equal(refused.status, 400);
  t.equal(refused.body.error.fields[0].path, 'urls.1', 'the field names the URL');
  t.match(refused.body.error.fields[0].message, /LOAXA_SOURCE_PRIVATE_NETS/);
  t.equal((await api('GET', '/api/v1/sources', undefined, token)).body.items.length, 0, 'nothing stored');

  const metadata = await api('POST', '/api/v1/sources', { name: 'metadata', urls: ['http://169.254.169.254/latest/meta-data/'] }, token);
  t.equal(metadata.status, 400, 'a cloud metadata address is refused too');

  const ok = await api('POST', '/api/v1/sources', { name: 'VOV', urls: ['http://radio.example.invalid/vov1.mp3'] }, token);
  t.equal(ok.status, 201, 'a public (here: unresolvable) name is accepted');
  const edited = await api('PATCH', `/api/v1/sources/${ok.body.id}`, { urls: [tone.url] }, token);
  t.equal(edited.status, 400, 'an edit to a loopback URL is refused');
  t.same((await api('GET', `/api/v1/sources/${ok.body.id}`, undefined, token)).body.urls, ['http://radio.example.invalid/vov1.mp3'], 'and changes nothing');
});

/** A loopback listener that counts the connections made to it: a stand-in for a service on the server's host. */
async function countingListener(t: Test): Promise<{ url: string; accepted: () => number }> {
  let accepted = 0;
  const srv = createServer((sock) => {
    accepted += 1;
    sock.destroy();
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => srv.close(() => resolve())));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/admin`, accepted: () => accepted };
}

t.test('the checker marks a private URL down without opening it; the restream refuses to pull it', async (t) => {
  const tone = await countingListener(t);
  const checks: Array<{ url: string; status: string; reason: string | null }> = [];
  const source = { id: 'src-1', name: 'x', urls: [tone.url], areaCode: null, fallbackBulletinId: null, restream: false, createdBy: null, createdAt: 0, updatedAt: 0, deletedAt: null };
  const repo = { get: () => source, all: () => [source], putCheck: (c: (typeof checks)[number]) => void checks.push(c) };
  const guard = new StreamAddressGuard();
  const checker = new SourceChecker({ sources: repo as never, logger: pino({ level: 'silent' }), intervalMs: 0, addressGuard: guard });
  await checker.check('src-1');
  t.equal(checks[0]?.status, 'down');
  t.match(checks[0]?.reason, /loopback, link-local or private/);
  t.equal(tone.accepted(), 0, 'the URL was never opened');

  const children = new ChildSet();
  const up = new Upstream(tone.url, 'ffmpeg', children, guard);
  const failed = new Promise<Error>((resolve) => up.once('failed', resolve));
  up.start();
  t.match((await failed).message, /private address/);
  t.same(children.pids(), [], 'no ffmpeg was started');
  t.equal(tone.accepted(), 0);

  // The same URL with the network named is opened (the refusal above is the guard's, not a dead port's).
  const allowed = new SourceChecker({ sources: repo as never, logger: pino({ level: 'silent' }), intervalMs: 0, ioTimeoutMs: 2_000, sampleSeconds: 1, addressGuard: new StreamAddressGuard(['127.0.0.0/8']) });
  await allowed.check('src-1');
  t.ok(tone.accepted() > 0, 'with LOAXA_SOURCE_PRIVATE_NETS naming loopback the checker connects');
});
