/**
 * Issue 18, the pieces together on a real server: a feed source is pulled by the server's own poller (Atom with
 * the alert inline, then an Update linked by URL, with ETags), and a source set to sign has its pushed messages
 * checked against its certificate — unsigned, tampered or signed by another key, nothing is stored or aired.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { capReferenceOf, formatCapDateTime, type CapAlertInput } from '@loaxa/shared';
import { writeAtomFeed, writeCap } from '../../server/src/warnings/cap-write.js';
import { tempDir } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { alert, warningServer } from './server-helpers.js';
import { signCapAlert } from './helpers/sign.js';

/** A feed server whose documents the test changes; it honours If-None-Match with the document's ETag. */
async function feedServer(t: Parameters<typeof warningServer>[0]) {
  const docs = new Map<string, { body: string; type: string; etag: string }>();
  const requests: Array<{ url: string; ifNoneMatch: string | undefined }> = [];
  const server = createServer((req: IncomingMessage, res) => {
    requests.push({ url: req.url ?? '', ifNoneMatch: req.headers['if-none-match'] });
    const d = docs.get(req.url ?? '');
    if (!d) return void res.writeHead(404).end();
    if (req.headers['if-none-match'] === d.etag) return void res.writeHead(304, { etag: d.etag }).end();
    res.writeHead(200, { 'content-type': d.type, etag: d.etag }).end(d.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let n = 0;
  const set = (path: string, body: string, type: string) => docs.set(path, { body, type, etag: `"v${++n}"` });
  return { base, set, requests };
}

t.test('a feed source is pulled by the poller: an inline Alert airs, a linked Update replaces it, a 304 changes nothing', async (t) => {
  // The feed is on loopback: allowed only because the installation says so (as for relays).
  const s = await warningServer(t, { sourcePrivateNets: ['127.0.0.0/8'] });
  const feed = await feedServer(t);
  const first: CapAlertInput = alert();
  feed.set('/atom.xml', writeAtomFeed({ id: `${feed.base}/atom.xml`, title: 'Cảnh báo', author: { name: 'KTTV' }, entries: [{ alert: first }] }), 'application/atom+xml');
  const src = await s.api('POST', '/api/v1/warning-sources', { name: 'Nguồn cảnh báo KTTV (Atom)', kind: 'feed', feedUrl: `${feed.base}/atom.xml`, pollSeconds: 60, areaCodes: ['99'] }, s.token);
  t.equal(src.status, 201, JSON.stringify(src.body));
  // A new feed is read at once, not at the poller's next look at the list of sources (up to a minute later).
  let list = await waitFor('the new feed read and its alert taken', async () => {
    const items = (await s.api('GET', '/api/v1/warnings', undefined, s.token)).body.items;
    return items.length ? items : null;
  }, 10_000, 50);
  t.equal(list.length, 1, 'the inline alert became a warning');
  t.match(list[0], { identifier: first.identifier, state: 'airing', priority: 'emergency', version: 1, sourceName: 'Nguồn cảnh báo KTTV (Atom)' });
  let state = await s.server.warnings.poller.pollNow(src.body.id);
  t.equal(state.failures, 0, `polled (${state.lastResult})`);

  await s.server.warnings.poller.pollNow(src.body.id);
  t.equal(feed.requests.at(-1)!.ifNoneMatch, '"v1"', 'the poller sends the ETag it was given');
  t.equal((await s.api('GET', '/api/v1/warnings', undefined, s.token)).body.items[0].version, 1, 'a 304 changes nothing');

  // The Update is linked from the feed, not inline: the poller fetches it.
  const update = alert({ msgType: 'Update', references: [capReferenceOf({ sender: first.sender, identifier: first.identifier, sent: first.sent })], sent: formatCapDateTime(Date.now() + 1000) });
  feed.set('/alerts/2.xml', writeCap(update), 'application/cap+xml');
  feed.set('/atom.xml', `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><id>${feed.base}/atom.xml</id><title>Cảnh báo</title><updated>${update.sent}</updated><author><name>KTTV</name></author>
<entry><id>${feed.base}/alerts/2.xml</id><title>Cập nhật</title><updated>${update.sent}</updated><link rel="alternate" type="application/cap+xml" href="/alerts/2.xml"/></entry>
</feed>`, 'application/atom+xml');
  state = await s.server.warnings.poller.pollNow(src.body.id);
  t.equal(state.failures, 0, `polled again (${state.lastResult})`);
  t.ok(feed.requests.some((r) => r.url === '/alerts/2.xml'), 'the linked CAP document was fetched');
  list = (await s.api('GET', '/api/v1/warnings', undefined, s.token)).body.items;
  t.equal(list.length, 1, 'still one warning');
  t.match(list[0], { version: 2, state: 'airing' }, 'the Update replaced the first version');
  t.same(list[0].versions.map((v: { msgType: string }) => v.msgType), ['Alert', 'Update']);

  const sources = (await s.api('GET', '/api/v1/warning-sources', undefined, s.token)).body.items;
  t.match(sources[0].feed, { failures: 0, lastPolledAt: String }, 'the source page shows how its feed is doing');
});

t.test('a feed the guard refuses (the server\'s own network) is an error with backoff, and nothing airs', async (t) => {
  const s = await warningServer(t, { sourcePrivateNets: [] }); // the server's own host is not a feed
  const feed = await feedServer(t);
  feed.set('/atom.xml', writeAtomFeed({ id: 'x', title: 'x', author: { name: 'x' }, entries: [{ alert: alert() }] }), 'application/atom+xml');
  const src = await s.api('POST', '/api/v1/warning-sources', { name: 'Nguồn nội bộ', kind: 'feed', feedUrl: `${feed.base}/atom.xml`, pollSeconds: 60, areaCodes: ['99'] }, s.token);
  // Read at once when made (and refused); the next try waits past the poll interval.
  const state = await waitFor('the first read refused', () => {
    const st = s.server.warnings.sources.state(src.body.id);
    return st && st.failures > 0 ? st : null;
  }, 10_000, 20);
  t.equal(state.failures, 1, `refused: ${state.lastResult}`);
  t.match(state.lastResult, /loopback, link-local or private address/);
  t.ok(state.nextPollAt! > Date.now() + 60_000, 'backed off past the poll interval');
  t.equal(feed.requests.length, 0, 'no request left the server');
  t.equal(s.count('warnings'), 0);
});

function openssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

t.test('a source set to sign: only messages signed by its certificate are taken', { skip: openssl() ? false : 'openssl is not installed: it makes the test certificates' }, async (t) => {
  const dir = await tempDir(t, 'loaxa-sign-');
  const make = (name: string) => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-days', '30', '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`)], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, `${name}.key`), 'utf8'), cert: readFileSync(join(dir, `${name}.crt`), 'utf8') };
  };
  const kttv = make('KTTV');
  const other = make('Other');
  const s = await warningServer(t);
  const src = await s.addSource({ requireSignature: true, certificatePem: kttv.cert });
  t.equal(src.certificateSubject, 'CN=KTTV', 'the certificate is read when it is set');

  const unsigned = await s.push(writeCap(alert()), src.token);
  t.equal(unsigned.status, 403, 'unsigned: refused as not the source\'s');
  t.match(unsigned.body.error.message, /Chữ ký của bản tin không hợp lệ: the alert is not signed/);
  const foreign = await s.push(signCapAlert(writeCap(alert()), other.key), src.token);
  t.equal(foreign.status, 403, 'signed by another key');
  const tampered = signCapAlert(writeCap(alert()), kttv.key).replace('<severity>Extreme</severity>', '<severity>Minor</severity>');
  t.equal((await s.push(tampered, src.token)).status, 403, 'changed after signing');
  t.equal(s.count('warnings'), 0, 'none of them stored');

  const good = await s.push(signCapAlert(writeCap(alert()), kttv.key), src.token);
  t.ok(good.status === 200 || good.status === 202, `signed by the source's key: ${good.status} ${JSON.stringify(good.body)}`);
  t.equal(good.body.accepted, true);
  t.equal(s.count('warnings'), 1);
});
