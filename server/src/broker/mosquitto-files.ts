/**
 * Device identities and ACLs for Mosquitto 2.0 as its own `password_file` and `acl_file`, rewritten whole
 * and reloaded (issue 21: the dynamic-security plugin took 17–22 minutes for 10,000 boxes, because it
 * rewrites its whole JSON file after every command; see mosquitto-dynsec.ts). Here a change of any size is
 * one rewrite of two files and one reload; changes that arrive while one is under way share the next.
 *
 * Why it is correct to do so — Mosquitto 2.0.11 (Debian's), src/security_default.c:
 * - Password lines are `user:$7$<iterations>$<salt b64>$<hash b64>`: PBKDF2-HMAC-SHA512 with a salt of
 *   exactly 12 bytes and a hash of exactly 64 (`unpwd__decode_passwords` drops any other line; checked
 *   against `mosquitto_passwd` of 2.0.11 and by test/server/broker/mosquitto-files.test.ts). A line without
 *   a hash would let its user in with any password, so none is ever written.
 * - The server knows a box's secret only when it issues it, so the line is kept per device in the database
 *   (`devices.mosquitto_hash`, migration 25) and both files can be rebuilt from it at any time.
 * - On SIGHUP (loop.c: `config__read`, `mosquitto_security_init(true)`, `mosquitto_security_apply()`) the
 *   broker reads both files again and checks every connected client's password against the new file,
 *   disconnecting those that fail (`mosquitto_security_apply_default`): a revoked box, or a claimed box's old
 *   secret, is cut off by the reload itself.
 * - ACL `pattern` lines substitute `%u` (the username, which the password file authenticates; never `%c`,
 *   which the client chooses), so a box's own topics are five shared lines; its areas differ per box, so each
 *   box has a `user` block with one `topic read` per area of its chain. The rules are acl.ts's `decide()`
 *   (the test compares Mosquitto's answers with it, topic by topic).
 * - 2.0's acl_file does not check SUBSCRIBE at all (`mosquitto_acl_check_default`: "FIXME - implement ACL
 *   subscription strings", so every SUBACK grants), but it checks READ for every message it delivers
 *   (subs.c `subs__send`, retain.c): a box subscribed to another box's `cmd`, or to `#`, receives only what
 *   `decide()` lets it subscribe to. The embedded broker and the dynsec plugin refuse such a SUBACK instead.
 * - Nothing tells when a reload is done, and the reload may be done by someone else (a systemd path unit,
 *   deploy/mosquitto/README.md). Each rewrite therefore carries a probe login with a fresh random password:
 *   once it is accepted, the broker runs on this rewrite, and only then do the callers get their answer.
 * Over 300 lines because the file format, the ACL rules, the coalescing of rewrites, the reload and its probe
 * are one mechanism, best read whole.
 */
import { execFile } from 'node:child_process';
import { pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, open, readFile, rename, unlink } from 'node:fs/promises';
import { createConnection } from 'node:net';
import mqtt from 'mqtt';
import type { Logger } from 'pino';
import { DEVICE_PUBLISH_CHANNELS, ID_PATTERN, TOPIC_ROOT, topics } from '@loaxa/shared';
import type { BrokerIdentities, DeviceSpec } from './identities.js';

/** `$7$`: PBKDF2-HMAC-SHA512; Mosquitto accepts no other salt or hash length. */
const SALT_BYTES = 12;
const HASH_BYTES = 64;
/** Mosquitto's own default (mosquitto_passwd), for the server's login, whose password a person may have chosen. */
export const MOSQUITTO_DEFAULT_ITERATIONS = 101;
/**
 * Boxes' secrets are 192 random bits (auth/passwords.ts newSecret): stretching adds nothing against guessing
 * them (the server itself keeps their plain SHA-256), while every reload re-checks the password of every
 * connected client. At 101 iterations that is ~270 µs a box (OpenSSL, measured here): 2.7 s of a stalled broker
 * at 10,000 boxes online, for each registration; at 1 iteration, a few ms.
 */
export const DEVICE_HASH_ITERATIONS = 1;
/** The probe's username: the `.` keeps it apart from every device id (ID_PATTERN) and from the server's login. */
export const PROBE_USERNAME = 'loaxa.reload-probe';
const FILE_MODE = 0o640;

/** A password file line's hash part, `$7$<iterations>$<salt>$<hash>`. */
export function mosquittoHashSync(password: string, iterations = DEVICE_HASH_ITERATIONS, salt: Buffer = randomBytes(SALT_BYTES)): string {
  return `$7$${iterations}$${salt.toString('base64')}$${pbkdf2Sync(password, salt, iterations, HASH_BYTES, 'sha512').toString('base64')}`;
}

/** The same on libuv's thread pool: 10,000 at once do not hold up the event loop. */
export function mosquittoHash(password: string, iterations = DEVICE_HASH_ITERATIONS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  return new Promise((resolve, reject) =>
    pbkdf2(password, salt, iterations, HASH_BYTES, 'sha512', (err, key) => (err ? reject(err) : resolve(`$7$${iterations}$${salt.toString('base64')}$${key.toString('base64')}`))),
  );
}

/** Whether a password matches a `$7$` hash as Mosquitto checks it (tests, and reading back a file). */
export function mosquittoHashMatches(password: string, hash: string): boolean {
  const m = /^\$7\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(hash);
  if (!m) return false;
  const salt = Buffer.from(m[2]!, 'base64');
  const want = Buffer.from(m[3]!, 'base64');
  if (salt.length !== SALT_BYTES || want.length !== HASH_BYTES) return false;
  return timingSafeEqual(pbkdf2Sync(password, salt, Number(m[1]), HASH_BYTES, 'sha512'), want);
}

/** What the server keeps per box: its Mosquitto hash, with its area chain for the ACL. */
export interface MosquittoIdentityEntry {
  deviceId: string;
  hash: string;
  areaAncestry: readonly string[];
}

/** The database side (wiring/delivery.ts adapts the repositories to it). */
export interface MosquittoIdentityStore {
  /** Stores hashes of boxes not revoked; one transaction. */
  setHashes(rows: ReadonlyArray<{ deviceId: string; hash: string }>): void;
  hasHash(deviceId: string): boolean;
  clearHash(deviceId: string): void;
  /** Every box not revoked that has a hash. */
  entries(): MosquittoIdentityEntry[];
  /** Boxes not revoked without a hash (registered before the switch to these files): they need a new secret. */
  countWithoutHash(): number;
}

/**
 * The ACL file: the server's login, then the boxes' shared patterns and each box's areas. Lines only for what
 * acl.ts's decide() allows: publish on its own upstream channels; read its own `cmd`, each `a/{code}/cmd` of its
 * area chain and `server/status`. The server's lines are the dynsec server role's (serverRoleAcls).
 */
export function renderAclFile(serverUsername: string, boxes: ReadonlyArray<{ deviceId: string; areaAncestry: readonly string[] }>): string {
  const own = (channel: string) => `${TOPIC_ROOT}/d/%u/${channel}`;
  const out = [
    '# Loa Xã: written by the server (server/src/broker/mosquitto-files.ts) and rewritten whole on every change;',
    '# edits here are lost. Rules: server/src/broker/acl.ts.',
    '',
    '# The server: commands to every box and area, its own status; it reads everything under the topic root.',
    `user ${serverUsername}`,
    `topic write ${topics.allDevices('cmd')}`,
    `topic write ${TOPIC_ROOT}/a/+/cmd`,
    `topic write ${topics.serverStatus()}`,
    `topic read ${TOPIC_ROOT}/#`,
    '',
    '# Every box (username = device id): publish its own upstream channels, read its own commands; and the',
    '# server status, which every login may read (a pattern without %u: Mosquitto logs a warning at each load).',
    ...DEVICE_PUBLISH_CHANNELS.map((ch) => `pattern write ${own(ch)}`),
    `pattern read ${own('cmd')}`,
    `pattern read ${topics.serverStatus()}`,
    '',
    '# Each box: the commands of its area and of each ancestor area.',
  ];
  // Mosquitto 2.0.11 keeps these users in a list it walks from the head for every line it reads (security_default.c
  // add__acl): a reload costs O(boxes² × lines per box), so each box gets only the lines patterns cannot give
  // (the server status as a pattern saved a quarter of the reload, measured: bench/README.md).
  for (const b of boxes) {
    out.push(`user ${b.deviceId}`);
    for (const code of b.areaAncestry) out.push(`topic read ${topics.areaCmd(code)}`);
  }
  return out.join('\n') + '\n';
}

export function renderPasswordFile(lines: ReadonlyArray<{ username: string; hash: string }>): string {
  return lines.map((l) => `${l.username}:${l.hash}\n`).join('');
}

/** Writes `text` to `path` whole or not at all: a temp file beside it, synced, then renamed over it. */
export async function writeFileAtomic(path: string, text: string, mode = FILE_MODE): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  // open()'s mode passes through the umask; Mosquitto (another user, in the file's group) must read it.
  await chmod(tmp, mode);
  await rename(tmp, path);
}

export class MosquittoFilesError extends Error {}

export interface MosquittoFilesOptions {
  passwordFile: string;
  aclFile: string;
  /** Mosquitto's `pid_file`: the server sends it SIGHUP. */
  pidFile?: string | undefined;
  /**
   * Or a command that reloads it (argv, no shell), e.g. ['sudo', '-n', 'systemctl', 'reload', 'mosquitto'].
   * Neither: something else reloads it (a systemd path unit); the probe still tells when.
   */
  reloadCommand?: readonly string[] | undefined;
  /** Where the probe logs in: the server's own broker URL. */
  probeUrl: string;
  /** The server's own login, written with its hash (kept for the process's life: its connection survives reloads). */
  server: { username: string; password: string };
  store: MosquittoIdentityStore;
  logger: Logger;
  /** How long a rewrite waits for the broker to take it (default 10 s). */
  reloadTimeoutMs?: number;
  /** Changes arriving within this long share a rewrite (default 25 ms). */
  coalesceMs?: number;
  /** PBKDF2 iterations of boxes' hashes (default DEVICE_HASH_ITERATIONS). */
  deviceHashIterations?: number;
}

interface Generation {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** What the last rewrite did (logs, the tests and the benchmark). */
export interface RewriteStats {
  boxes: number;
  renderMs: number;
  writeMs: number;
  reloadMs: number;
  totalMs: number;
}

export class MosquittoFiles implements BrokerIdentities {
  private readonly serverHash: string;
  private pending: Generation | null = null;
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Rewrites done (each one write of both files and one reload). */
  rewrites = 0;
  lastRewrite: RewriteStats | null = null;

  constructor(private readonly opts: MosquittoFilesOptions) {
    const bad = [opts.server.username, PROBE_USERNAME].find((u) => !/^[^\s:#+/]+$/.test(u));
    if (bad !== undefined) throw new MosquittoFilesError(`"${bad}" cannot be a Mosquitto password-file username (no spaces, ':', '#', '+' or '/')`);
    if (ID_PATTERN.test(opts.server.username) && opts.server.username.startsWith('spk-')) {
      throw new MosquittoFilesError(`the server's login "${opts.server.username}" looks like a device id`);
    }
    this.serverHash = mosquittoHashSync(opts.server.password, MOSQUITTO_DEFAULT_ITERATIONS);
  }

  private get iterations(): number {
    return this.opts.deviceHashIterations ?? DEVICE_HASH_ITERATIONS;
  }

  /** Writes both files from the database and waits for the broker to take them, before the server logs in. */
  async start(timeoutMs?: number): Promise<void> {
    this.stopped = false;
    const without = this.opts.store.countWithoutHash();
    if (without > 0) {
      this.opts.logger.warn({ boxes: without }, 'boxes without a Mosquitto password (registered before the switch to the Mosquitto files) cannot connect until they are given a new secret (a claim code)');
    }
    if (!this.opts.pidFile && !this.opts.reloadCommand) this.opts.logger.info('no LOAXA_MOSQUITTO_PID_FILE or LOAXA_MOSQUITTO_RELOAD_COMMAND: waiting for something else to reload Mosquitto after each rewrite');
    await this.rewrite(timeoutMs);
  }

  /** Rejects what still waits; a rewrite under way finishes. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const p = this.pending;
    this.pending = null;
    p?.reject(new MosquittoFilesError('the server is stopping'));
  }

  async ensureDevices(specs: readonly DeviceSpec[]): Promise<void> {
    for (const s of specs) if (!ID_PATTERN.test(s.deviceId)) throw new MosquittoFilesError(`invalid device id ${JSON.stringify(s.deviceId)}`);
    const missing = specs.find((s) => s.password === undefined && !this.opts.store.hasHash(s.deviceId));
    if (missing) throw new MosquittoFilesError(`device ${missing.deviceId} is not known to the broker and its secret is not at hand; issue it a new secret`);
    const t0 = performance.now();
    const rows = await hashAll(specs.filter((s) => s.password !== undefined), this.iterations);
    const hashMs = performance.now() - t0;
    // The areas are read from the database at the rewrite (the same AreaRepository.ancestry the spec came from).
    this.opts.store.setHashes(rows);
    await this.sync();
    this.opts.logger[specs.length >= 100 ? 'info' : 'debug']({ devices: specs.length, hashMs: Math.round(hashMs), ...this.lastRewrite }, 'devices written to the Mosquitto files');
  }

  ensureDevice(spec: DeviceSpec): Promise<void> {
    return this.ensureDevices([spec]);
  }

  async revokeDevice(deviceId: string): Promise<void> {
    this.opts.store.clearHash(deviceId);
    await this.sync();
    this.opts.logger.info({ deviceId }, 'device removed from the Mosquitto files');
  }

  /**
   * Resolves after a rewrite that began after this call has been taken by the broker. Calls within
   * coalesceMs of each other, or while a rewrite runs, share the next one.
   */
  sync(): Promise<void> {
    if (this.stopped) return Promise.reject(new MosquittoFilesError('the server is stopping'));
    if (!this.pending) {
      let resolve!: () => void;
      let reject!: (err: Error) => void;
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      this.pending = { promise, resolve, reject };
      if (!this.running) this.timer = setTimeout(() => void this.drain(), this.opts.coalesceMs ?? 25);
    }
    return this.pending.promise;
  }

  private async drain(): Promise<void> {
    this.timer = null;
    if (this.running) return;
    this.running = true;
    try {
      while (this.pending && !this.stopped) {
        const gen = this.pending;
        this.pending = null;
        try {
          await this.rewrite();
          gen.resolve();
        } catch (err) {
          gen.reject(err as Error);
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** One rewrite: both files from the database, one reload, then the probe until the broker takes it. */
  private async rewrite(timeoutMs = this.opts.reloadTimeoutMs ?? 10_000): Promise<void> {
    const t0 = performance.now();
    const entries = this.opts.store.entries();
    const probePassword = randomBytes(24).toString('base64url');
    const acl = renderAclFile(this.opts.server.username, entries);
    const passwords = renderPasswordFile([
      { username: this.opts.server.username, hash: this.serverHash },
      { username: PROBE_USERNAME, hash: mosquittoHashSync(probePassword, 1) },
      ...entries.map((e) => ({ username: e.deviceId, hash: e.hash })),
    ]);
    const t1 = performance.now();
    // The ACL first: a reload between the two renames then never lets a new box in without its rules.
    await writeFileAtomic(this.opts.aclFile, acl);
    await writeFileAtomic(this.opts.passwordFile, passwords);
    const t2 = performance.now();
    await this.reload(t0 + timeoutMs);
    await this.probe(probePassword, timeoutMs - (performance.now() - t0));
    const t3 = performance.now();
    this.rewrites++;
    this.lastRewrite = { boxes: entries.length, renderMs: ms(t1 - t0), writeMs: ms(t2 - t1), reloadMs: ms(t3 - t2), totalMs: ms(t3 - t0) };
    this.opts.logger.debug(this.lastRewrite, 'Mosquitto files rewritten and reloaded');
  }

  private async reload(deadline: number): Promise<void> {
    const { pidFile, reloadCommand } = this.opts;
    if (pidFile) {
      // Mosquitto writes its pid file before it reads these files and installs its signal handlers only after
      // its listeners are up (mosquitto.c main: pid__write, mosquitto_security_init, listeners__start,
      // signal__setup): a SIGHUP before would end it. A broker not yet listening reads the new files anyway.
      await this.waitListening(deadline);
      const text = await readFile(pidFile, 'utf8').catch((err: Error) => {
        throw new MosquittoFilesError(`cannot read Mosquitto's pid file ${pidFile}: ${err.message}`);
      });
      const pid = Number(text.trim());
      if (!Number.isInteger(pid) || pid <= 1) throw new MosquittoFilesError(`no process id in ${pidFile}`);
      try {
        process.kill(pid, 'SIGHUP');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const hint = code === 'EPERM' ? '; the server may not signal it (another user): use LOAXA_MOSQUITTO_RELOAD_COMMAND or the path unit of deploy/mosquitto' : '';
        throw new MosquittoFilesError(`could not send SIGHUP to Mosquitto (pid ${pid}): ${code ?? (err as Error).message}${hint}`);
      }
    } else if (reloadCommand && reloadCommand.length > 0) {
      await new Promise<void>((resolve, reject) =>
        execFile(reloadCommand[0]!, reloadCommand.slice(1), { timeout: 10_000 }, (err, _out, stderr) =>
          err ? reject(new MosquittoFilesError(`the reload command failed: ${err.message} ${String(stderr).trim()}`)) : resolve(),
        ),
      );
    }
  }

  /** Resolves once the broker accepts TCP connections (or at the deadline: the probe then reports the failure). */
  private async waitListening(deadline: number): Promise<void> {
    const url = new URL(this.opts.probeUrl);
    const port = Number(url.port || (url.protocol === 'mqtts:' ? 8883 : 1883));
    const host = url.hostname.replace(/^\[|\]$/g, '');
    while (performance.now() < deadline && !this.stopped) {
      const up = await new Promise<boolean>((resolve) => {
        const sock = createConnection({ host, port }, () => (sock.destroy(), resolve(true)));
        sock.once('error', () => (sock.destroy(), resolve(false)));
      });
      if (up) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Logs in as the probe with this rewrite's password until the broker accepts it: it then runs on this
   * rewrite's files. Each refusal is the old file still in force (or a broker not yet up): try again.
   */
  private async probe(password: string, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + Math.max(timeoutMs, 100);
    let wait = 10;
    let last = '';
    while (!this.stopped) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      try {
        const c = await mqtt.connectAsync(this.opts.probeUrl, {
          username: PROBE_USERNAME,
          password,
          clientId: `loaxa-probe-${randomBytes(4).toString('hex')}`,
          protocolVersion: 4,
          clean: true,
          reconnectPeriod: 0,
          connectTimeout: Math.max(100, Math.min(left, 5_000)),
        });
        await c.endAsync(true).catch(() => undefined);
        return;
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, Math.min(wait, Math.max(0, deadline - performance.now()))));
      wait = Math.min(wait * 2, 200);
    }
    throw new MosquittoFilesError(`Mosquitto did not take the rewritten password file within ${Math.round(timeoutMs)} ms${last ? ` (${last})` : ''}; is it running, and does it reload (LOAXA_MOSQUITTO_PID_FILE / LOAXA_MOSQUITTO_RELOAD_COMMAND)?`);
  }
}

const ms = (v: number) => Math.round(v * 10) / 10;

/**
 * Hashes in slices of the event loop's time: at one iteration a hash costs microseconds, and 10,000 calls to the
 * thread pool cost more in dispatch than in hashing (1.6 s against ~50 ms, measured); many iterations go to the pool.
 */
async function hashAll(specs: readonly DeviceSpec[], iterations: number): Promise<Array<{ deviceId: string; hash: string }>> {
  if (iterations > 10) return Promise.all(specs.map(async (s) => ({ deviceId: s.deviceId, hash: await mosquittoHash(s.password!, iterations) })));
  const out: Array<{ deviceId: string; hash: string }> = [];
  for (let i = 0; i < specs.length; i += 500) {
    if (i > 0) await new Promise((r) => setImmediate(r));
    for (const s of specs.slice(i, i + 500)) out.push({ deviceId: s.deviceId, hash: mosquittoHashSync(s.password!, iterations) });
  }
  return out;
}
