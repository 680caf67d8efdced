/**
 * Secrets we must send again, sealed at rest (issue 17): the password we log in with at a child's base URL.
 * Unlike the password a peer logs in to us with (a hash: we only check it), this one has to be read back, so it
 * is kept encrypted with AES-256-GCM under a key of the installation: 32 random bytes in
 * `{dataDir}/national-seal.key` (mode 0600), made on the first start. A copy of the database alone does not
 * give the children's passwords away; deleting the key file makes the stored ones unreadable (enter them again).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, openSync, readFileSync, statSync, writeSync, closeSync, fsyncSync } from 'node:fs';
import { join } from 'node:path';

export const SEAL_KEY_FILE = 'national-seal.key';
const VERSION = 'v1';

export class Sealer {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the sealing key must have 32 bytes');
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return [VERSION, iv.toString('base64url'), c.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
  }

  /** The secret, or null when it was sealed under another key (the key file was replaced) or altered. */
  open(sealed: string): string | null {
    const [v, iv, tag, body] = sealed.split('.');
    if (v !== VERSION || !iv || !tag || body === undefined) return null;
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      d.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([d.update(Buffer.from(body, 'base64url')), d.final()]).toString('utf8');
    } catch {
      return null;
    }
  }
}

/** The installation's sealing key, made on first use (exclusive create, so two processes agree on one). */
export function loadSealer(dataDir: string): Sealer {
  const file = join(dataDir, SEAL_KEY_FILE);
  try {
    const fd = openSync(file, 'wx', 0o600);
    try {
      const key = randomBytes(32);
      writeSync(fd, `${key.toString('base64url')}\n`);
      fsyncSync(fd);
      return new Sealer(key);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
  if (key.length !== 32) throw new Error(`${file} does not hold a sealing key (32 bytes, base64url); delete it and enter the children's passwords again`);
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  return new Sealer(key);
}
