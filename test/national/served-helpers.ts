/**
 * Helpers for the tests of Loa Xã as a source system (issue 17): a peer added through the admin API, a login at
 * the served interface, requests in a mapping's vocabulary, and an audio file served on loopback the way a
 * province's media server serves *NoiDung.Link*.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeDown, SHIPPED_MAPPINGS, type DownstreamCommand, type Mapping } from '@loaxa/shared';
import { runFfmpeg } from '../../server/src/audio/index.js';
import type { httpApi } from '../helpers/server.js';

type Api = ReturnType<typeof httpApi>;

/** POSTs a raw body to `base + path`; the answer parsed when it is JSON. */
export async function post(base: string, path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    /* left as text */
  }
  return { status: res.status, body: json };
}

/** Adds a peer through the admin API; answers it with the password it logs in with (shown once). */
export async function addPeer(api: Api, token: string, body: Record<string, unknown>): Promise<{ id: string; password: string; username: string }> {
  const r = await api('POST', '/api/v1/national/peers', body, token);
  if (r.status !== 201) throw new Error(`peer not added: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as { id: string; password: string; username: string };
}

/** A peer's session at a served interface (`base` is the server's URL): login, then commands in its mapping. */
export async function peerSession(base: string, username: string, password: string, mapping: Mapping = SHIPPED_MAPPINGS.vi) {
  const login = await post(base, `/national${mapping.login.path}`, JSON.stringify({ Username: username, Password: password }));
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  const token = (mapping.login.token.split('.').reduce((o: any, k) => o?.[k], login.body) as string) ?? '';
  const headers = { authorization: `Bearer ${token}` };
  return {
    token,
    /** Sends a command down in the mapping's vocabulary. */
    down: (c: DownstreamCommand) => {
      const req = encodeDown(mapping, c);
      return post(base, `/national${req.path}`, JSON.stringify(req.body), headers);
    },
    raw: (path: string, body: unknown) => post(base, `/national${path}`, typeof body === 'string' ? body : JSON.stringify(body), headers),
  };
}

/** A WAV tone of `seconds` (ffmpeg), as a province's media server would hold a bulletin's audio. */
export async function toneWav(seconds: number, hz = 440): Promise<Buffer> {
  const { stdout } = await runFfmpeg(['-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', `aevalsrc=0.25*sin(2*PI*${hz}*t):s=24000:d=${seconds}`, '-ac', '1', '-c:a', 'pcm_s16le', '-f', 'wav', 'pipe:1']);
  return stdout;
}

/** Serves files on loopback by path; answers its base URL and the number of requests each path got. */
export async function mediaServer(t: { teardown(fn: () => unknown): void }, files: Record<string, Buffer>): Promise<{ url: string; hits: Map<string, number>; server: Server }> {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const f = files[path];
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': f.length }).end(f);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, server };
}

const VN = 7 * 3600_000;
/** A local (Vietnam) date `YYYY-MM-DD` `days` from now, and its midnight as epoch ms. */
export function localDay(days: number, now = Date.now()): { date: string; startMs: number; endMs: number } {
  const date = new Date(now + VN + days * 86_400_000).toISOString().slice(0, 10);
  const startMs = Date.parse(`${date}T00:00:00+07:00`);
  return { date, startMs, endMs: startMs + 86_400_000 - 1000 };
}

/** The local time of day `HH:mm:00` `minutes` from now. */
export function localTimeIn(minutes: number, now = Date.now()): string {
  return `${new Date(now + VN + minutes * 60_000).toISOString().slice(11, 16)}:00`;
}
