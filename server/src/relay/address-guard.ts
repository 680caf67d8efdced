/**
 * Which addresses the server itself may open as a stream (issue 15 review: server-side request forgery). The
 * source checker and the restream make the server's ffmpeg open a source's URLs; a province admin who could
 * register `http://127.0.0.1:9000/…` or `http://169.254.169.254/…` would have the server probe its own host,
 * its LAN or a cloud's metadata service, and read the answer back in the check's reason. So the server opens
 * public addresses only, and private ones an installation names in `LOAXA_SOURCE_PRIVATE_NETS` (a provincial
 * station's encoder on the province LAN, `10.20.0.0/16`). A host name counts by every address it resolves to:
 * one private address refuses it.
 *
 * The check runs when a source is saved and again before each open. ffmpeg resolves the name once more when
 * it connects, so a name whose DNS answer changes in between (rebinding) is not fully closed off; the window is
 * the few milliseconds between the two lookups, and the audit log names who registered the host. What the
 * server fetches itself goes through guarded-fetch.ts, which connects to the checked address (`checkedAddresses`).
 */
import { BlockList, isIP } from 'node:net';
import { lookup as dnsLookup } from 'node:dns/promises';

/** Loopback, unspecified, link-local, private, carrier-grade NAT, multicast and reserved ranges (RFC 6890). */
const DENIED_V4 = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const;
const DENIED_V6 = [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const;

export type Lookup = (host: string) => Promise<string[]>;

/** A resolver that does not answer within this long counts as no answer (the name is then not refused here). */
const LOOKUP_TIMEOUT_MS = 3_000;

const systemLookup: Lookup = async (host) => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no DNS answer for ${host} within ${LOOKUP_TIMEOUT_MS} ms`)), LOOKUP_TIMEOUT_MS);
  });
  try {
    return (await Promise.race([dnsLookup(host, { all: true, verbatim: true }), timeout])).map((a) => a.address);
  } finally {
    clearTimeout(timer);
  }
};

/** `10.20.0.0/16`, `fd00::/8` or one address; throws a RangeError naming the bad entry. */
export function parseNet(spec: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const [address = '', bits] = spec.trim().split('/');
  const v = isIP(address);
  if (v === 0) throw new RangeError(`"${spec}" is not an address or a network (10.20.0.0/16, fd00::/8)`);
  const max = v === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : Number(bits);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (bits !== undefined && !/^\d+$/.test(bits))) {
    throw new RangeError(`"${spec}": the prefix length must be 0–${max}`);
  }
  return { address, prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}

export class StreamAddressGuard {
  private readonly denied = new BlockList();
  private readonly allowed = new BlockList();

  constructor(
    /** LOAXA_SOURCE_PRIVATE_NETS: private networks the server may open anyway. */
    readonly allowedNets: readonly string[] = [],
    private readonly lookup: Lookup = systemLookup,
  ) {
    for (const [a, p] of DENIED_V4) this.denied.addSubnet(a, p, 'ipv4');
    for (const [a, p] of DENIED_V6) this.denied.addSubnet(a, p, 'ipv6');
    for (const spec of allowedNets) {
      const n = parseNet(spec);
      this.allowed.addSubnet(n.address, n.prefix, n.family);
    }
  }

  /** Whether the server may connect to this address (an IP literal). */
  addressAllowed(address: string): boolean {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    if (mapped) return this.addressAllowed(mapped);
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (this.allowed.check(address, family)) return true;
    return !this.denied.check(address, family);
  }

  /**
   * Why the server may not open this URL, or null when it may. A name that does not resolve is not refused
   * here: opening it fails on its own, and the check says so.
   */
  async refusal(url: string): Promise<string | null> {
    let host: string;
    try {
      host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    } catch {
      return 'not a URL';
    }
    let addresses: string[];
    if (isIP(host)) addresses = [host];
    else {
      try {
        addresses = await this.lookup(host);
      } catch {
        return null;
      }
    }
    const bad = addresses.find((a) => !this.addressAllowed(a));
    if (bad === undefined) return null;
    return privateRefusal(host, bad);
  }

  /**
   * The addresses the server may connect to for `host` (a name or an IP literal), resolved once: the
   * caller connects to exactly these (guarded-fetch.ts), so a DNS answer that changes between the
   * check and the connect (rebinding) cannot reach a private address. Unlike `refusal`, a name that does not
   * resolve (or not in time) is refused: letting it through would let the connecting code resolve it itself.
   */
  async checkedAddresses(host: string): Promise<{ address: string; family: 4 | 6 }[]> {
    const h = host.replace(/^\[|\]$/g, '');
    let addresses: string[];
    if (isIP(h)) addresses = [h];
    else {
      try {
        addresses = await this.lookup(h);
      } catch (err) {
        throw new AddressRefusedError(`${h} does not resolve (${(err as Error).message.slice(0, 200)})`);
      }
    }
    const bad = addresses.find((a) => !this.addressAllowed(a));
    if (bad !== undefined) throw new AddressRefusedError(privateRefusal(h, bad));
    const out = addresses.filter((a) => isIP(a) !== 0).map((address) => ({ address, family: isIP(address) === 6 ? (6 as const) : (4 as const) }));
    if (out.length === 0) throw new AddressRefusedError(`${h} does not resolve`);
    return out;
  }
}

/** Why an address was refused (checkedAddresses). */
export class AddressRefusedError extends Error {}

function privateRefusal(host: string, bad: string): string {
  const named = bad === host ? bad : `${host} (${bad})`;
  return `${named} is a loopback, link-local or private address, which the server does not open; if the station really is on the province's own network, list that network in LOAXA_SOURCE_PRIVATE_NETS`;
}
