// A real Icecast (Debian's icecast2 2.4) for the relay tests and bench (issue 15, "Proof": Debian's icecast2 as
// a real Icecast). Each call runs its own instance: a temp config on a free port bound to 127.0.0.1, logs in a
// temp folder, a source password of its own; nothing of the package's system service is used (CI stops it).
// Icecast refuses to run as root, so when we are root the config makes it drop to nobody/nogroup after
// binding (`<changeowner>`), and the temp folder is handed to that user so it can write its logs.
// Sources are pushed by the installer's ffmpeg with its icecast:// protocol (an HTTP PUT source client).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffmpegBin, killChild, type Teardown } from './streams.js';
import { freePort } from './wait.js';

export const ICECAST_BIN = '/usr/bin/icecast2';

/** Whether Debian's icecast2 is installed; tests that need it skip with a message naming the package when not. */
export function icecastAvailable(): boolean {
  try {
    accessSync(ICECAST_BIN, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export const ICECAST_SKIP = 'icecast2 is not installed (Debian package icecast2; .ci/run installs it)';

export interface IcecastOptions {
  /** Listener limit (Icecast's `<clients>`); the bench raises it. Default 500. */
  clients?: number;
  /** Bytes sent at once to a new listener (`<burst-size>`). Default Icecast's 64 KB. */
  burstSize?: number;
  /** The instance stops itself after this long even if the test process dies without teardown. Default 20 min. */
  maxSeconds?: number;
}

export interface PushedSource {
  stop(): Promise<void>;
}

export interface Icecast {
  port: number;
  sourcePassword: string;
  mountUrl(mount: string): string;
  /** Pushes a live tone (or silence) to `mount`; resolves once listeners can tune in. */
  pushTone(mount: string, opts: { format: 'mp3' | 'ogg'; silent?: boolean; frequencyHz?: number }): Promise<PushedSource>;
  stop(): Promise<void>;
}

const mountPath = (mount: string): string => (mount.startsWith('/') ? mount : `/${mount}`);

/** The numeric id in `getent passwd|group NAME` (name:x:id:…). */
function idOf(database: 'passwd' | 'group', name: string): number {
  const id = Number(execFileSync('getent', [database, name], { encoding: 'utf8' }).split(':')[2]);
  if (!Number.isInteger(id)) throw new Error(`no ${database} entry for ${name}`);
  return id;
}

export async function startIcecast(t: Teardown, opts: IcecastOptions = {}): Promise<Icecast> {
  if (!icecastAvailable()) throw new Error(ICECAST_SKIP);
  const dir = await mkdtemp(join(tmpdir(), 'loaxa-icecast-'));
  const port = await freePort();
  const sourcePassword = `src-${Math.random().toString(36).slice(2, 10)}`;
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    // getent answers name:x:id:…; the folder must be nobody's for the logs Icecast writes after dropping root.
    const uid = idOf('passwd', 'nobody');
    const gid = idOf('group', 'nogroup');
    await chown(dir, uid, gid);
  }
  const conf = join(dir, 'icecast.xml');
  await writeFile(
    conf,
    `<icecast>
  <location>loaxa test</location>
  <admin>test@localhost</admin>
  <limits>
    <clients>${opts.clients ?? 500}</clients>
    <sources>20</sources>
    <queue-size>524288</queue-size>
    <client-timeout>30</client-timeout>
    <header-timeout>15</header-timeout>
    <source-timeout>5</source-timeout>
    <burst-on-connect>1</burst-on-connect>
    <burst-size>${opts.burstSize ?? 65536}</burst-size>
  </limits>
  <authentication>
    <source-password>${sourcePassword}</source-password>
    <relay-password>${sourcePassword}</relay-password>
    <admin-user>admin</admin-user>
    <admin-password>${sourcePassword}</admin-password>
  </authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket>
    <port>${port}</port>
    <bind-address>127.0.0.1</bind-address>
  </listen-socket>
  <fileserve>1</fileserve>
  <paths>
    <basedir>/usr/share/icecast2</basedir>
    <logdir>${dir}</logdir>
    <webroot>/usr/share/icecast2/web</webroot>
    <adminroot>/usr/share/icecast2/admin</adminroot>
    <pidfile>${join(dir, 'icecast.pid')}</pidfile>
  </paths>
  <logging>
    <accesslog>access.log</accesslog>
    <errorlog>error.log</errorlog>
    <loglevel>3</loglevel>
  </logging>
  <security>
    <chroot>0</chroot>
    ${asRoot ? '<changeowner><user>nobody</user><group>nogroup</group></changeowner>' : ''}
  </security>
</icecast>
`,
  );
  // Under coreutils' timeout so a test process killed without its teardown leaves no Icecast for long;
  // timeout passes our SIGTERM on to icecast2.
  const child = spawn('timeout', [String(opts.maxSeconds ?? 1200), ICECAST_BIN, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  const errorLog = async (): Promise<string> => `${stderr}${(await readFile(join(dir, 'error.log'), 'utf8').catch(() => '')).slice(-2000)}`;
  const sources = new Set<ChildProcess>();
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all([...sources].map((s) => killChild(s)));
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        // Icecast ignored SIGTERM: kill it by its pid file, then the timeout wrapper.
        readFile(join(dir, 'icecast.pid'), 'utf8')
          .then((pid) => process.kill(Number(pid.trim()), 'SIGKILL'))
          .catch(() => {})
          .finally(() => child.kill('SIGKILL'));
      }, 3000);
      await exited;
      clearTimeout(timer);
    }
  };
  // Stopped before its folder goes (Icecast writes its logs there until it exits).
  t.teardown(async () => {
    await stop();
    await rm(dir, { recursive: true, force: true });
  });

  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await fetch(`${base}/status-json.xsl`, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.body?.cancel().then(() => r.ok) ?? r.ok,
      () => false,
    );
    if (ok) break;
    if (child.exitCode !== null) throw new Error(`icecast2 exited (${child.exitCode}): ${await errorLog()}`);
    if (Date.now() > deadline) throw new Error(`icecast2 did not answer on ${base} in 15 s: ${await errorLog()}`);
    await new Promise((r) => setTimeout(r, 150));
  }

  const mountUrl = (mount: string): string => `${base}${mountPath(mount)}`;
  const pushTone: Icecast['pushTone'] = async (mount, o) => {
    const input = o.silent ? 'anullsrc=r=48000:cl=mono' : `sine=frequency=${o.frequencyHz ?? 440}:sample_rate=48000`;
    const codec =
      o.format === 'mp3'
        ? ['-c:a', 'libmp3lame', '-b:a', '64k', '-content_type', 'audio/mpeg', '-f', 'mp3']
        : ['-c:a', 'libopus', '-b:a', '48k', '-content_type', 'application/ogg', '-f', 'ogg', '-page_duration', '100000'];
    // -t bounds the source like maxSeconds bounds Icecast: nothing outlives a crashed test for long.
    const ff = spawn(
      ffmpegBin(),
      ['-hide_banner', '-nostdin', '-v', 'error', '-re', '-f', 'lavfi', '-i', input, '-t', String(opts.maxSeconds ?? 1200), '-ac', '1', ...codec, '-flush_packets', '1',
        `icecast://source:${sourcePassword}@127.0.0.1:${port}${mountPath(mount)}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let ffErr = '';
    ff.stderr.setEncoding('utf8');
    ff.stderr.on('data', (s: string) => {
      ffErr = (ffErr + s).slice(-4000);
    });
    sources.add(ff);
    ff.once('exit', () => sources.delete(ff));
    const source: PushedSource = { stop: () => killChild(ff) };
    // Mounted once a listener gets 200 (Icecast answers 404 for a mount without a source).
    const until = Date.now() + 10_000;
    for (;;) {
      const ac = new AbortController();
      const status = await fetch(mountUrl(mount), { signal: ac.signal }).then(
        (r) => {
          ac.abort();
          return r.status;
        },
        () => 0,
      );
      if (status === 200) return source;
      if (ff.exitCode !== null) throw new Error(`ffmpeg source for ${mount} exited: ${ffErr}`);
      if (Date.now() > until) {
        await source.stop();
        throw new Error(`mount ${mount} not live in 10 s: ${ffErr} ${await errorLog()}`);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  };
  return { port, sourcePassword, mountUrl, pushTone, stop };
}
