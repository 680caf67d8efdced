/**
 * Tokens of the served interface (issue 17): a peer logs in with its user name and password and gets a random
 * token for a short while (an hour by default). The vocabulary's rule (CV 1273 practice, the provinces' code
 * bases) is that a client renews its token when a request is answered 401, so an expired token is simply
 * unknown: 401, and the client logs in again. Kept in memory, by the token's SHA-256 only (a heap dump does not
 * hand out live tokens); a restart logs every peer out, which the same rule covers.
 */
import { createHash, randomBytes } from 'node:crypto';

export const DEFAULT_TOKEN_TTL_MS = 3600_000;
/** A bound on live tokens, so a peer logging in in a loop cannot grow the map without end. */
const MAX_TOKENS_PER_PEER = 20;

const digest = (token: string) => createHash('sha256').update(token).digest('hex');

export interface TokenGrant {
  peerId: string;
  issuedAt: number;
  expiresAt: number;
}

export class PeerTokens {
  private readonly byHash = new Map<string, TokenGrant>();

  constructor(private readonly opts: { ttlMs?: number; now?: () => number } = {}) {}

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  issue(peerId: string): { token: string; expiresAt: number } {
    const now = this.now();
    this.sweep(now);
    const mine = [...this.byHash.entries()].filter(([, g]) => g.peerId === peerId).sort((a, b) => a[1].issuedAt - b[1].issuedAt);
    // The oldest go first: a peer with many workers keeps its newest tokens.
    for (const [h] of mine.slice(0, Math.max(0, mine.length - MAX_TOKENS_PER_PEER + 1))) this.byHash.delete(h);
    const token = randomBytes(32).toString('base64url');
    const grant = { peerId, issuedAt: now, expiresAt: now + (this.opts.ttlMs ?? DEFAULT_TOKEN_TTL_MS) };
    this.byHash.set(digest(token), grant);
    return { token, expiresAt: grant.expiresAt };
  }

  /** The grant of a live token, or null (unknown, expired or revoked: the client logs in again). */
  check(token: string): TokenGrant | null {
    if (token.length === 0 || token.length > 4096) return null;
    const g = this.byHash.get(digest(token));
    if (!g) return null;
    if (g.expiresAt <= this.now()) {
      this.byHash.delete(digest(token));
      return null;
    }
    return g;
  }

  /** A peer revoked, or its password changed: its tokens stop at once. */
  revokePeer(peerId: string): void {
    for (const [h, g] of this.byHash) if (g.peerId === peerId) this.byHash.delete(h);
  }

  private sweep(now: number): void {
    for (const [h, g] of this.byHash) if (g.expiresAt <= now) this.byHash.delete(h);
  }
}
