/**
 * A small stand-in for a province's source system (HTTT nguồn), for the upstream link's own tests (issue 17): it
 * logs the link in, checks the token on every request, reads each body back through the mapping (so what it
 * records is what a province would understand), and answers as the test says — accept, refuse, fail, or answer
 * with garbage, 10 MB, a redirect, or too late. The independent conformance kit is test/national/kit/.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeLogin, decodeUp, encodeAnswer, encodeToken, routeFor, type Mapping, type UpstreamEvent, type UpstreamEventKind } from '@loaxa/shared';

export type ProvinceMode = 'ok' | 'down' | 'garbage' | 'huge' | 'huge-chunked' | 'slow' | 'redirect' | 'http500' | 'unauthorized';

export interface Received {
  kind: UpstreamEventKind;
  body: Record<string, unknown>;
  event: UpstreamEvent;
}

export interface Province {
  url: string;
  /** Bodies accepted, in the order they arrived. */
  received: Received[];
  logins: number;
  /** Requests that reached it at all (accepted or not), logins excluded. */
  attempts: number;
  mode: ProvinceMode;
  /** Answer TrangThaiGui 1 with this MoTa for events this says no to. */
  refuse: ((r: Received) => string | null) | null;
  /** Tokens given so far stop working (the province restarted): the next request gets 401. */
  expireTokens(): void;
  close(): Promise<void>;
}

export async function startProvince(mapping: Mapping, creds: { username: string; password: string }): Promise<Province> {
  const tokens = new Set<string>();
  let n = 0;
  const p: Province = {
    url: '',
    received: [],
    logins: 0,
    attempts: 0,
    mode: 'ok',
    refuse: null,
    expireTokens: () => tokens.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const json = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const read = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let s = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (s += c));
      req.on('end', () => resolve(s));
    });
  const server = createServer((req, res) => {
    void (async () => {
      const text = await read(req);
      const path = req.url ?? '/';
      if (routeFor(mapping, 'login', req.method ?? '', path)) {
        if (p.mode === 'down') return void req.socket.destroy();
        const l = decodeLogin(mapping, JSON.parse(text));
        if (l.username !== creds.username || l.password !== creds.password) return json(res, 200, encodeAnswer(mapping, { ok: false, message: 'Sai tên đăng nhập hoặc mật khẩu' }));
        p.logins++;
        const token = `tok-${++n}`;
        tokens.add(token);
        return json(res, 200, encodeToken(mapping, { token, expiresAt: null }));
      }
      p.attempts++;
      switch (p.mode) {
        case 'down':
          return void req.socket.destroy();
        case 'garbage':
          res.writeHead(200, { 'content-type': 'text/html' });
          return void res.end('<html><body>502 Bad Gateway (nginx)</body></html>');
        case 'huge': {
          const chunk = Buffer.alloc(64 * 1024, 0x61);
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': 10 * 1024 * 1024 });
          for (let i = 0; i < 160; i++) if (!res.write(chunk)) break;
          return void res.end();
        }
        case 'huge-chunked': {
          // No length announced: the link must stop reading at its bound on its own.
          res.writeHead(200, { 'content-type': 'application/json' });
          const chunk = Buffer.alloc(64 * 1024, 0x20);
          let sent = 0;
          const more = () => {
            while (sent < 160) {
              sent++;
              if (!res.write(chunk)) return void res.once('drain', more);
            }
            res.end('{}');
          };
          res.on('error', () => undefined);
          return more();
        }
        case 'slow':
          // Answers long after the link's timeout (the link must not wait for it).
          setTimeout(() => (res.destroyed ? undefined : json(res, 200, encodeAnswer(mapping, { ok: true, message: 'muộn' }))), 5000).unref();
          return;
        case 'redirect':
          res.writeHead(302, { location: 'http://127.0.0.1:9/elsewhere' });
          return void res.end();
        case 'http500':
          return json(res, 500, { error: 'internal' });
        case 'unauthorized':
          return json(res, 401, { TrangThaiGui: 1, MoTa: 'Token không hợp lệ' });
        case 'ok':
          break;
      }
      const auth = req.headers[mapping.login.header.toLowerCase()];
      const token = typeof auth === 'string' ? auth.replace(/^Bearer /, '') : '';
      if (!tokens.has(token)) return json(res, 401, encodeAnswer(mapping, { ok: false, message: 'Token hết hạn' }));
      const kind = routeFor(mapping, 'up', req.method ?? '', path) as UpstreamEventKind | undefined;
      if (!kind) return json(res, 404, encodeAnswer(mapping, { ok: false, message: 'Không có' }));
      let body: Record<string, unknown>;
      let event: UpstreamEvent;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
        event = decodeUp(mapping, kind, body);
      } catch (e) {
        return json(res, 400, encodeAnswer(mapping, { ok: false, message: (e as Error).message }));
      }
      const r = { kind, body, event };
      const no = p.refuse?.(r) ?? null;
      if (no !== null) return json(res, 200, encodeAnswer(mapping, { ok: false, message: no }));
      p.received.push(r);
      return json(res, 200, encodeAnswer(mapping, { ok: true, message: '' }));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  p.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return p;
}
