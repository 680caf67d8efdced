/**
 * Agent self-update with rollback. Layout under `root` (e.g. /opt/loaxa/agent):
 *
 *   releases/<version>/   unpacked releases side by side
 *   current -> releases/<version>   the running one; systemd's WorkingDirectory
 *   update.json           the marker: pending → healthy | rolled-back, with the reason
 *
 * applyUpdate() downloads the tarball, checks its SHA-256 (and Ed25519 signature), unpacks it beside the
 * running version, writes a pending marker and then switches `current` atomically; the caller exits so
 * systemd starts the new version. The new version calls confirmUpdateHealthy() once it is connected and
 * has published online. checkHealthAfterUpdate() is the watchdog: run from the *previous* release (see
 * watchdog.ts), it points `current` back when the new one has not confirmed by the deadline.
 *
 * index.ts is the module's public face and re-exports this file, decide.ts and watchdog.ts; watchdog.ts
 * imports from here, not from index.ts, so the two do not import each other.
 */
import { createHash, createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, readlink, rename, rm, stat, symlink, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { writeFileAtomic, fsyncDir } from '../atomic-file.js';
import { decideAfterUpdate, UPDATE_MARKER, type UpdateDecision, type UpdateMarker } from './decide.js';

export const DEFAULT_HEALTH_TIMEOUT_MS = 5 * 60_000;

export class UpdateError extends Error {
  override name = 'UpdateError';
  constructor(
    readonly kind: 'download' | 'hash' | 'signature' | 'unpack' | 'release' | 'busy',
    message: string,
  ) {
    super(message);
  }
}

export interface UpdateRequest {
  url: string;
  /** Hex SHA-256 of the tarball. */
  sha256: string;
  /** Base64 Ed25519 signature of the tarball's raw 32-byte SHA-256 digest. */
  signature?: string | undefined;
  /** The version the tarball must hold (its VERSION file); checked before anything is switched. */
  version?: string | undefined;
}

export interface UpdateOptions {
  root: string;
  /** Ed25519 public key (PEM); when set, a request without a valid signature is refused. */
  publicKey?: string | KeyObject;
  healthTimeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
  tarPath?: string;
}

const VERSION_RE = /^[0-9A-Za-z.+-]{1,64}$/;

/** The release `current` points at (its folder name), or null. */
export async function currentRelease(root: string): Promise<string | null> {
  const target = await readlink(join(root, 'current')).catch(() => null);
  return target === null ? null : basename(target);
}

export async function readMarker(root: string): Promise<UpdateMarker | null> {
  const text = await readFile(join(root, UPDATE_MARKER), 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    return JSON.parse(text) as UpdateMarker;
  } catch {
    return null;
  }
}

async function writeMarker(root: string, marker: UpdateMarker): Promise<void> {
  await writeFileAtomic(join(root, UPDATE_MARKER), `${JSON.stringify(marker, null, 2)}\n`);
}

/** Points `current` at releases/<version>: a new link renamed over the old one (atomic). */
export async function switchCurrent(root: string, version: string): Promise<void> {
  const temp = join(root, `current.${process.pid}.new`);
  await unlink(temp).catch(() => undefined);
  await symlink(join('releases', version), temp);
  await rename(temp, join(root, 'current'));
  await fsyncDir(root);
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => execFile(cmd, args, (err, _out, stderr) => (err ? reject(new Error(stderr.trim() || err.message)) : resolve())));
}

async function download(url: string, file: string, fetchImpl: typeof fetch): Promise<string> {
  let res: Response;
  try {
    res = await fetchImpl(url, { signal: AbortSignal.timeout(15 * 60_000) });
  } catch (err) {
    throw new UpdateError('download', `cannot download ${url}: ${(err as Error).message}`);
  }
  if (!res.ok || !res.body) throw new UpdateError('download', `cannot download ${url}: HTTP ${res.status}`);
  const hash = createHash('sha256');
  const body = Readable.fromWeb(res.body);
  body.on('data', (chunk: Buffer) => hash.update(chunk));
  try {
    await pipeline(body, createWriteStream(file, { mode: 0o600 }));
  } catch (err) {
    throw new UpdateError('download', `download of ${url} broke off: ${(err as Error).message}`);
  }
  return hash.digest('hex');
}

/** Downloads, verifies, unpacks and switches; answers the versions. The caller then exits for systemd. */
export async function applyUpdate(req: UpdateRequest, opts: UpdateOptions): Promise<{ from: string | null; to: string }> {
  const now = opts.now ?? Date.now;
  const { root } = opts;
  if (!/^[0-9a-f]{64}$/i.test(req.sha256)) throw new UpdateError('hash', 'sha256 must be 64 hex digits');
  const pending = await readMarker(root);
  if (pending?.state === 'pending') throw new UpdateError('busy', `the update to ${pending.to} has not been confirmed or rolled back yet`);
  const releases = join(root, 'releases');
  await mkdir(releases, { recursive: true });
  const work = await mkdtemp(join(releases, '.incoming-'));
  try {
    const tarball = join(work, 'release.tar.gz');
    const actual = await download(req.url, tarball, opts.fetch ?? fetch);
    if (actual !== req.sha256.toLowerCase()) throw new UpdateError('hash', `SHA-256 mismatch: expected ${req.sha256.toLowerCase()}, got ${actual}; not installing`);
    if (opts.publicKey || req.signature) {
      if (!opts.publicKey) throw new UpdateError('signature', 'the update is signed but no public key is configured to check it');
      if (!req.signature) throw new UpdateError('signature', 'updates must be signed (a public key is configured); the request has no signature');
      const key = typeof opts.publicKey === 'string' ? createPublicKey(opts.publicKey) : opts.publicKey;
      let ok = false;
      try {
        ok = verifySignature(null, Buffer.from(actual, 'hex'), key, Buffer.from(req.signature, 'base64'));
      } catch {
        ok = false;
      }
      if (!ok) throw new UpdateError('signature', 'the signature does not match the tarball; not installing');
    }
    const unpacked = join(work, 'unpacked');
    await mkdir(unpacked);
    try {
      await run(opts.tarPath ?? 'tar', ['-xzf', tarball, '-C', unpacked, '--no-same-owner']);
    } catch (err) {
      throw new UpdateError('unpack', `cannot unpack the tarball: ${(err as Error).message}`);
    }
    let src = unpacked;
    const top = await readdir(unpacked);
    if (top.length === 1 && top[0] !== 'device-agent' && (await stat(join(unpacked, top[0]!))).isDirectory()) src = join(unpacked, top[0]!);
    // A bundled release (npm run release:agent) names itself in VERSION; a source tree in device-agent/package.json.
    const versionFile = await readFile(join(src, 'VERSION'), 'utf8').catch(() => null);
    const pkg = versionFile === null ? await readFile(join(src, 'device-agent/package.json'), 'utf8').catch(() => null) : null;
    const version = versionFile !== null ? versionFile.trim() : pkg === null ? undefined : (JSON.parse(pkg) as { version?: unknown }).version;
    if (typeof version !== 'string' || !VERSION_RE.test(version)) throw new UpdateError('release', 'not an agent release: neither VERSION nor device-agent/package.json with a version');
    if (req.version !== undefined && req.version !== version) throw new UpdateError('release', `the tarball holds release ${version}, not ${req.version}; not installing`);
    const from = await currentRelease(root);
    if (from === version) throw new UpdateError('release', `release ${version} is already running`);
    const target = join(releases, version);
    await rm(target, { recursive: true, force: true });
    await rename(src, target);
    const at = now();
    // The marker first: a cut between the two writes leaves a pending marker the watchdog resolves.
    await writeMarker(root, { state: 'pending', from, to: version, switchedAt: at, deadline: at + (opts.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS), starts: 0 });
    await switchCurrent(root, version);
    return { from, to: version };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Called by the new release at each start: counts starts, so a crash loop is noticed before the deadline. */
export async function noteUpdateStart(root: string, version: string): Promise<void> {
  const marker = await readMarker(root);
  if (marker?.state === 'pending' && marker.to === version) await writeMarker(root, { ...marker, starts: marker.starts + 1 });
}

/** Called by the new release once it is connected and has published online. */
export async function confirmUpdateHealthy(root: string, version: string, now: () => number = Date.now): Promise<boolean> {
  const marker = await readMarker(root);
  if (marker?.state !== 'pending' || marker.to !== version) return false;
  await writeMarker(root, { ...marker, state: 'healthy', decidedAt: now(), reason: 'reported healthy' });
  return true;
}

/**
 * The watchdog's check: rolls `current` back to the previous release when the new one has not confirmed
 * in time (or crash-loops); answers the decision. `restart` is run after a rollback (systemctl restart …).
 */
export async function checkHealthAfterUpdate(opts: { root: string; now?: () => number; maxStarts?: number; restart?: () => Promise<void> }): Promise<UpdateDecision> {
  const now = (opts.now ?? Date.now)();
  const marker = await readMarker(opts.root);
  const decision = decideAfterUpdate(marker, now, opts.maxStarts === undefined ? {} : { maxStarts: opts.maxStarts });
  if (decision.action === 'keep' && marker?.state === 'pending') await writeMarker(opts.root, { ...marker, state: 'healthy', decidedAt: now, reason: 'no previous release to go back to' });
  if (decision.action !== 'rollback' || !marker?.from) return decision;
  await switchCurrent(opts.root, marker.from);
  await writeMarker(opts.root, { ...marker, state: 'rolled-back', decidedAt: now, reason: decision.reason });
  await opts.restart?.();
  return decision;
}

