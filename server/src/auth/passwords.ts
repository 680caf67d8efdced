/**
 * Human passwords: scrypt with a per-user salt (slow on purpose). Device secrets: SHA-256 of a random
 * ≥128-bit value (CONTRACTS.md) — a random secret cannot be guessed, and it must stay cheap to check at
 * 10,000 connects, so a slow hash would only serialize the broker.
 */
import { randomBytes, scrypt as scryptCb, createHash, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { availableParallelism } from 'node:os';

const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;

function scrypt(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password.normalize('NFC'), salt, KEYLEN, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4]!, 'base64');
  const expected = Buffer.from(parts[5]!, 'base64');
  const key = await scrypt(password.normalize('NFC'), salt, expected.length, { N: n, r, p, maxmem: 256 * n * r });
  return timingSafeEqual(key, expected);
}

/**
 * Password checks running at once, server-wide, and how many may wait for one (issue 13, finding 5: 300
 * logins at once held the CPU for ~15 s). One scrypt check takes 16 MiB and ~50 ms here, a few hundred ms
 * on a Pi; unbounded, a burst of logins takes every core from the broker and the API. Checks run at most
 * `max` at a time, leaving a core to the rest of the server; a few more wait their turn (a real user's
 * login), at most `maxWaitMs`; the rest are refused at once (`acquire` answers null: the caller says 503
 * with Retry-After) without costing a hash.
 */
export class CheckSlots {
  private running = 0;
  private readonly waiting: Array<(release: (() => void) | null) => void> = [];

  constructor(
    readonly max: number,
    readonly maxWaiting: number,
    readonly maxWaitMs: number,
    /** Calls `fn` after `ms` and answers its cancel: real timers, or a test's fake clock (test/helpers/clock.ts). */
    private readonly schedule: (fn: () => void, ms: number) => () => void = realSchedule,
  ) {}

  /** A slot's release function, or null when too many wait already or none came free within `maxWaitMs`. */
  acquire(): Promise<(() => void) | null> {
    if (this.running < this.max) {
      this.running++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.maxWaiting) return Promise.resolve(null);
    return new Promise((resolve) => {
      const take = (release: (() => void) | null) => {
        cancel();
        resolve(release);
      };
      const cancel = this.schedule(() => {
        const i = this.waiting.indexOf(take);
        if (i >= 0) this.waiting.splice(i, 1);
        resolve(null);
      }, this.maxWaitMs);
      this.waiting.push(take);
    });
  }

  /** Checks running now and waiting now. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return; // a second call must not free someone else's slot
      done = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter: `running` stays the same.
      if (next) next(this.releaser());
      else this.running--;
    };
  }
}

function realSchedule(fn: () => void, ms: number): () => void {
  const timer = setTimeout(fn, ms);
  return () => clearTimeout(timer);
}

/** The slots every login's password check goes through: 1 on two cores, 2 from three cores up. */
export const passwordChecks = new CheckSlots(Math.max(1, Math.min(2, availableParallelism() - 1)), 16, 3000);

/** A password for the first admin when none is configured: printed once at first start. */
export function generatePassword(): string {
  return randomBytes(12).toString('base64url');
}

export function newSecret(): string {
  return randomBytes(24).toString('base64url'); // 192 bits
}

export function sha256Hex(value: string | Buffer): string {
  return createHash('sha256').update(value).digest('hex');
}

export function secretMatches(secret: string, storedHex: string): boolean {
  const a = Buffer.from(sha256Hex(secret), 'hex');
  const b = Buffer.from(storedHex, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
