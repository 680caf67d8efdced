/**
 * Per-address limits of the embedded broker's TCP listener (issue 13 finding 4): how addresses are keyed
 * (IPv4, or an IPv6 /64) and a count of open connections with a token bucket of new ones per key.
 */
import type { Socket } from 'node:net';

/** An address as a socket reports it, IPv4-mapped IPv6 (`::ffff:1.2.3.4`) written as IPv4; null when unknown. */
export function normalizeAddress(address: string | undefined): string | null {
  if (!address) return null;
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * The key the per-address caps count by: an IPv4 address, or the /64 of an IPv6 one, since a single subscriber
 * (and so a single attacker) is given a whole /64 and could otherwise take a new address for every connection.
 */
export function addressKey(address: string): string {
  if (!address.includes(':')) return address;
  const bare = address.split('%')[0]!; // a zone index (fe80::1%eth0) names an interface, not a host
  const [head = '', tail] = bare.split('::');
  const front = head ? head.split(':') : [];
  const back = tail ? tail.split(':') : [];
  const groups = tail === undefined ? front : [...front, ...Array<string>(Math.max(0, 8 - front.length - back.length)).fill('0'), ...back];
  return `${groups.slice(0, 4).map((g) => (parseInt(g, 16) || 0).toString(16)).join(':')}::/64`;
}

/** Open connections and a token bucket of new connections per address key. */
export class AddressLimits {
  private readonly open = new Map<string, number>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly logged = new Map<string, number>();
  private lastSweep = 0;

  constructor(private readonly now: () => number) {}

  /** Counts the connection in (until its socket closes) and answers null, or answers why it is refused. */
  take(key: string, socket: Socket, maxOpen: number, perSecond: number): string | null {
    const now = this.now();
    this.sweep(now);
    if (maxOpen > 0 && (this.open.get(key) ?? 0) >= maxOpen) return `${maxOpen} connections already open`;
    if (perSecond > 0) {
      const b = this.buckets.get(key) ?? { tokens: perSecond, at: now };
      b.tokens = Math.min(perSecond, b.tokens + ((now - b.at) * perSecond) / 1000);
      b.at = now;
      this.buckets.set(key, b);
      if (b.tokens < 1) return `more than ${perSecond} connections a second`;
      b.tokens -= 1;
    }
    if (maxOpen > 0) {
      this.open.set(key, (this.open.get(key) ?? 0) + 1);
      socket.once('close', () => {
        const n = (this.open.get(key) ?? 1) - 1;
        if (n > 0) this.open.set(key, n);
        else this.open.delete(key);
      });
    }
    return null;
  }

  /** Whether a refusal for this key should be logged (once a minute: a flood of refusals must not flood the log). */
  shouldLog(key: string): boolean {
    const now = this.now();
    if (now - (this.logged.get(key) ?? -Infinity) < 60_000) return false;
    this.logged.set(key, now);
    return true;
  }

  /** Forgets, at most once a second, the buckets that are full again and the refusals logged over a minute ago. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 1000) return;
    this.lastSweep = now;
    if (this.buckets.size > 10_000) for (const [k, b] of this.buckets) if (now - b.at > 1000) this.buckets.delete(k);
    if (this.logged.size > 10_000) for (const [k, at] of this.logged) if (now - at > 60_000) this.logged.delete(k);
  }
}
