/**
 * A local Web Push service (RFC 8030) for the tests, as strict as a browser vendor's: it accepts a message only
 * with a valid VAPID authorization (RFC 8292: an ES256 JWT whose signature verifies with the `k` public key, `aud`
 * this service's origin, `exp` in the future and at most 24 hours ahead, a `sub` contact), `TTL`, and
 * `Content-Encoding: aes128gcm`; then it decrypts the body as the browser would (RFC 8291) with the
 * subscription's private key and auth secret, which the test made. A subscription it is told is gone answers 410.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createECDH, createDecipheriv, createPublicKey, hkdfSync, randomBytes, verify, type ECDH } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface Received {
  subscription: string;
  /** The decrypted payload, as the service worker would get it. */
  text: string;
  ttl: number;
  urgency: string | undefined;
  jwt: { aud: string; exp: number; sub: string };
  vapidKey: string;
}

interface Sub {
  ecdh: ECDH;
  auth: Buffer;
  gone: boolean;
}

export class PushServiceStandIn {
  readonly received: Received[] = [];
  /** Requests refused, with why (a test asserts there are none). */
  readonly refused: string[] = [];
  private readonly subs = new Map<string, Sub>();
  private server: Server | null = null;
  origin = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const answer = this.handle(req, Buffer.concat(chunks));
        res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.text);
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** A new browser subscription: its endpoint here and the keys the browser would hand to the page. */
  subscription(): { endpoint: string; keys: { p256dh: string; auth: string } } {
    const id = randomBytes(12).toString('base64url');
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const auth = randomBytes(16);
    this.subs.set(id, { ecdh, auth, gone: false });
    return { endpoint: `${this.origin}/push/${id}`, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } };
  }

  /** The browser unsubscribed: the service answers 410 Gone from now on (RFC 8030 §7.3). */
  expire(endpoint: string): void {
    this.subs.get(endpoint.split('/').pop()!)!.gone = true;
  }

  private handle(req: IncomingMessage, body: Buffer): { status: number; text: string } {
    const refuse = (status: number, why: string) => {
      this.refused.push(why);
      return { status, text: why };
    };
    const m = /^\/push\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '');
    const sub = m ? this.subs.get(m[1]!) : undefined;
    if (req.method !== 'POST' || !sub) return refuse(404, 'no such subscription');
    if (sub.gone) return { status: 410, text: 'subscription expired' };
    // RFC 8030 §5.2: TTL is required.
    const ttl = Number(req.headers.ttl);
    if (req.headers.ttl === undefined || !Number.isInteger(ttl) || ttl < 0) return refuse(400, 'missing or bad TTL');
    if (req.headers['content-encoding'] !== 'aes128gcm') return refuse(415, `content-encoding ${req.headers['content-encoding']}, not aes128gcm`);
    // RFC 8292 §3: Authorization: vapid t=<JWT>, k=<public key>.
    const auth = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(String(req.headers.authorization ?? ''));
    if (!auth) return refuse(401, 'no VAPID authorization');
    const [, jwt, k] = auth as unknown as [string, string, string];
    const [h, p, s] = jwt.split('.');
    if (!h || !p || !s) return refuse(401, 'malformed JWT');
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { typ?: string; alg?: string };
    if (header.alg !== 'ES256') return refuse(401, `JWT alg ${header.alg}`);
    const raw = Buffer.from(k, 'base64url');
    if (raw.length !== 65 || raw[0] !== 4) return refuse(401, 'k is not a P-256 point');
    const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33).toString('base64url') }, format: 'jwk' });
    if (!verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))) return refuse(403, 'JWT signature does not verify with k');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { aud: string; exp: number; sub: string };
    if (claims.aud !== this.origin) return refuse(403, `aud ${claims.aud} is not ${this.origin}`);
    const now = Date.now() / 1000;
    if (!(claims.exp > now) || claims.exp > now + 24 * 3600) return refuse(403, `exp ${claims.exp} not within 24 h`);
    if (!/^(mailto:|https:\/\/)/.test(claims.sub ?? '')) return refuse(403, `sub ${claims.sub}`);
    let text: string;
    try {
      text = decrypt(body, sub);
    } catch (err) {
      return refuse(400, `cannot decrypt: ${(err as Error).message}`);
    }
    this.received.push({ subscription: req.url!, text, ttl, urgency: req.headers.urgency as string | undefined, jwt: claims, vapidKey: k });
    return { status: 201, text: '' };
  }
}

/** RFC 8291 §3.4 and RFC 8188 §2: one aes128gcm record, decrypted with the user agent's keys. */
function decrypt(body: Buffer, sub: Sub): string {
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20]!;
  const asPublic = body.subarray(21, 21 + idlen);
  const ciphertext = body.subarray(21 + idlen);
  if (idlen !== 65 || rs < 18 || ciphertext.length > rs) throw new Error('bad header');
  const uaPublic = sub.ecdh.getPublicKey();
  const ecdhSecret = sub.ecdh.computeSecret(asPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, sub.auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const plain = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()]);
  // The last record ends with the delimiter 0x02, then zero padding.
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0) end--;
  if (plain[end] !== 2) throw new Error('no last-record delimiter');
  return plain.subarray(0, end).toString('utf8');
}
