/**
 * The server's VAPID key pair (RFC 8292): browsers subscribe with its public key, and every push request is
 * signed with its private key. A subscription is bound to the key it was made with, so the pair is made once
 * and kept: from the settings (LOAXA_VAPID_PUBLIC_KEY / LOAXA_VAPID_PRIVATE_KEY) or, without them, generated on
 * the first start into `{dataDir}/vapid.json` (readable by the server's user only) and read from there after.
 */
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import webpush from 'web-push';

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

const B64URL = /^[A-Za-z0-9_-]+$/;

function valid(k: Partial<VapidKeys> | null | undefined): k is VapidKeys {
  return !!k && typeof k.publicKey === 'string' && typeof k.privateKey === 'string' && B64URL.test(k.publicKey) && B64URL.test(k.privateKey) && Buffer.from(k.publicKey, 'base64url').length === 65 && Buffer.from(k.privateKey, 'base64url').length === 32;
}

export function loadVapidKeys(dataDir: string, configured?: Partial<VapidKeys>): VapidKeys {
  if (configured?.publicKey || configured?.privateKey) {
    if (!valid(configured)) throw new Error('LOAXA_VAPID_PUBLIC_KEY and LOAXA_VAPID_PRIVATE_KEY must both be set, base64url, a P-256 public key (65 bytes) and private key (32 bytes); `npx web-push generate-vapid-keys` makes a pair');
    return { publicKey: configured.publicKey, privateKey: configured.privateKey };
  }
  const file = join(dataDir, 'vapid.json');
  let stored: Partial<VapidKeys> | null = null;
  try {
    stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<VapidKeys>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`${file} cannot be read (${(err as Error).message}); browsers subscribed with its key would stop receiving notifications if it were replaced, so the server does not make a new one`, { cause: err });
    }
  }
  if (stored) {
    if (!valid(stored)) throw new Error(`${file} does not hold a VAPID key pair; restore it from a backup (browsers subscribed with it), or delete it to make a new one (every browser must then subscribe again)`);
    return stored;
  }
  const keys = webpush.generateVAPIDKeys();
  // Written whole then renamed: a power cut leaves the old file or the new one, never half a key.
  writeFileSync(`${file}.tmp`, JSON.stringify(keys), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
  return keys;
}
