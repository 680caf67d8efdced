/**
 * Icecast in front of the server's restream (issue 15: "beyond that, README documents Icecast relays in front
 * of the server for larger fleets, tested"): Debian's icecast2 started with deploy/icecast/icecast.xml as
 * shipped — only its ports, paths, the server's address, the source's id and the relay box's credentials
 * substituted — pulls a real server's `/streams/{sourceId}` once with the box's credentials, and listeners
 * tuned in to Icecast hear the station's tone. With a wrong password the server refuses the relay and
 * listeners get nothing, so the credentials in the config are what lets it in. Skipped when icecast2 is not installed.
 */
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ICECAST_BIN, ICECAST_SKIP, icecastAvailable } from '../helpers/icecast.js';
import { importSampleAreas, startTestServer } from '../helpers/server.js';
import { listen, measureTone, startToneStream, type Teardown } from '../helpers/streams.js';
import { freePort, waitFor } from '../helpers/wait.js';

const DEPLOY_CONF = fileURLToPath(new URL('../../deploy/icecast/icecast.xml', import.meta.url));
const LOCAL_MOUNT = '/vov1.mp3';

interface Relay {
  serverPort: number;
  sourceId: string;
  deviceId: string;
  password: string;
}

/** deploy/icecast/icecast.xml with this test's values; fails if the file no longer has what it substitutes. */
async function renderConfig(dir: string, port: number, relay: Relay): Promise<string> {
  const asRoot = process.getuid?.() === 0;
  const swaps: Array<[string | RegExp, string]> = [
    ['<port>8000</port>', `<port>${port}</port>`],
    [/<!-- <bind-address>[^<]*<\/bind-address>[^>]*-->/, '<bind-address>127.0.0.1</bind-address>'],
    ['<server>LOAXA_SERVER_HOST</server>', '<server>127.0.0.1</server>'],
    ['<port>8080</port>', `<port>${relay.serverPort}</port>`],
    ['/streams/SOURCE_ID', `/streams/${relay.sourceId}`],
    ['<username>RELAY_DEVICE_ID</username>', `<username>${relay.deviceId}</username>`],
    ['<password>RELAY_DEVICE_PASSWORD</password>', `<password>${relay.password}</password>`],
    ['<logdir>/var/log/icecast2</logdir>', `<logdir>${dir}</logdir><pidfile>${join(dir, 'icecast.pid')}</pidfile>`],
    // Icecast refuses to run as root; Debian's service runs it as its own user, a root test drops to nobody.
    ['<chroot>0</chroot>', asRoot ? '<chroot>0</chroot><changeowner><user>nobody</user><group>nogroup</group></changeowner>' : '<chroot>0</chroot>'],
  ];
  let conf = await readFile(DEPLOY_CONF, 'utf8');
  for (const [from, to] of swaps) {
    const next = conf.replace(from, to);
    if (next === conf) throw new Error(`deploy/icecast/icecast.xml no longer contains ${String(from)}; update this test`);
    conf = next;
  }
  return conf;
}

/** icecast2 on `conf`, stopped (and its folder removed) with the test; resolves once it answers. */
async function startIcecastWith(t: Teardown, relay: Relay): Promise<{ url: string; status: () => Promise<any>; log: () => Promise<string> }> {
  const dir = await mkdtemp(join(tmpdir(), 'loaxa-icecast-relay-'));
  if (process.getuid?.() === 0) {
    const id = (db: string, name: string) => Number(execFileSync('getent', [db, name], { encoding: 'utf8' }).split(':')[2]);
    await chown(dir, id('passwd', 'nobody'), id('group', 'nogroup'));
  }
  const port = await freePort();
  const file = join(dir, 'icecast.xml');
  await writeFile(file, await renderConfig(dir, port, relay));
  // Under coreutils' timeout: nothing outlives a test process killed without its teardown for long.
  const child = spawn('timeout', ['300', ICECAST_BIN, '-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => (stderr = (stderr + s).slice(-2000)));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const hard = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(hard);
    }
    await rm(dir, { recursive: true, force: true });
  });
  const log = async (): Promise<string> => `${stderr}${(await readFile(join(dir, 'error.log'), 'utf8').catch(() => '')).slice(-2000)}`;
  const base = `http://127.0.0.1:${port}`;
  const status = async (): Promise<any> => (await fetch(`${base}/status-json.xsl`, { signal: AbortSignal.timeout(2000) })).json();
  await waitFor(
    'icecast2 to answer',
    async () => {
      if (child.exitCode !== null) throw new Error(`icecast2 exited (${child.exitCode}): ${await log()}`);
      return (await status().then(() => true, () => false)) || null;
    },
    15_000,
    150,
  );
  return { url: `${base}${LOCAL_MOUNT}`, status, log };
}

/** The status Icecast answers for `url` (0: no answer); the body is not read. */
async function mountStatus(url: string): Promise<number> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 3000);
  try {
    const res = await fetch(url, { signal: ac.signal });
    void res.body?.cancel().catch(() => undefined);
    return res.status;
  } catch {
    return 0;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}

t.test('icecast2 with deploy/icecast/icecast.xml relays the server restream to listeners with the relay box credentials', { skip: icecastAvailable() ? false : ICECAST_SKIP, timeout: 90_000 }, async (t) => {
  const { api, token, base, server } = await startTestServer(t, { sourceCheckSeconds: 0 });
  await importSampleAreas(api, token);
  const station = await startToneStream(t, { format: 'mp3', frequencyHz: 440 });
  const source = await api('POST', '/api/v1/sources', { name: 'Đài tỉnh (qua Icecast)', urls: [station.url], areaCode: null, restream: true }, token);
  t.equal(source.status, 201, 'the source is registered for the restream', { body: source.body });
  const box = await api('POST', '/api/v1/devices', { name: 'Icecast tiếp sóng huyện', areaCode: '99003' }, token);
  t.equal(box.status, 201, 'a box is registered for the relay', { body: box.body });
  const relay: Relay = { serverPort: Number(new URL(base).port), sourceId: source.body.id, deviceId: box.body.id, password: box.body.mqtt.password };

  await t.test('listeners of the Icecast mount hear the station', async (t) => {
    const icecast = await startIcecastWith(t, relay);
    // Icecast sets its relays up a moment after it starts (404 until then); then the first listener starts
    // the on-demand relay, which pulls the server's restream.
    await waitFor('the relayed mount to serve', async () => ((await mountStatus(icecast.url)) === 200 ? true : null), 15_000, 250);
    // Three listeners at once: one relay, shared.
    const heard = await Promise.all([listen(icecast.url, 8), listen(icecast.url, 8), listen(icecast.url, 8)]);
    for (const [i, h] of heard.entries()) {
      const all = measureTone(h.samples);
      const now = measureTone(h.samples, 3);
      t.ok(all.seconds >= 6, `listener ${i + 1} got audio through Icecast (${all.seconds.toFixed(1)} of 8 s decoded)`, { stderr: h.stderr, log: await icecast.log() });
      t.ok(Math.abs(now.frequencyHz - 440) < 10, `listener ${i + 1} hears the station's 440 Hz (${now.frequencyHz.toFixed(1)} Hz)`);
      t.ok(now.rms > 3000, `listener ${i + 1} hears it loud, not silence (rms ${now.rms.toFixed(0)})`);
    }
    t.notMatch(await icecast.log(), /slave\/open_relay_connection/, 'Icecast logged no relay error');
    // The point of Icecast in front: the server feeds it one listener, however many boxes listen to Icecast.
    const restreams = server.app.restream.status();
    t.equal(restreams.find((r) => r.sourceId === relay.sourceId)?.listeners, 1, 'the server restreams to one listener (Icecast) for three', { restreams });
  });

  await t.test('with a wrong password in the config the relay is refused and listeners get nothing', async (t) => {
    const icecast = await startIcecastWith(t, { ...relay, password: `${relay.password}x` });
    const refused = await waitFor(
      'Icecast to log the refused relay',
      async () => {
        await mountStatus(icecast.url);
        return /open_relay_connection Error from relay request: \/vov1\.mp3 \(Unauthorized\)/.test(await icecast.log()) || null;
      },
      15_000,
      500,
    );
    t.ok(refused, 'the server refused the relay (Icecast: Unauthorized)');
    const h = await listen(icecast.url, 3);
    t.ok(measureTone(h.samples).seconds < 0.5, `no audio through Icecast (${measureTone(h.samples).seconds.toFixed(1)} s decoded)`);
  });
});
