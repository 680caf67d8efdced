/**
 * A stand-in for the Loa Xã server with just the routes the simulator uses (login, areas, devices),
 * counting every call, plus an aedes broker that only admits the devices it created.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startBroker, type TestBroker } from '../device-agent/helpers.js';

type Tap = Parameters<typeof startBroker>[0];

export const ADMIN_PASSWORD = 'admin-pw-for-tests';

export const AREA_TREE = {
  items: [
    {
      code: '01',
      name: 'Thành phố Hà Nội',
      type: 'province',
      children: [
        { code: '00004', name: 'Phường Ba Đình', type: 'ward', children: [] },
        { code: '00008', name: 'Phường Ngọc Hà', type: 'ward' },
      ],
    },
  ],
};

export interface StandIn {
  url: string;
  broker: TestBroker;
  calls: { login: number; areas: number; devices: number };
  /** Device credentials the server issued: username → password. */
  issued: Map<string, string>;
}

async function body(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
}

function send(res: ServerResponse, status: number, json: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
}

export async function startStandIn(t: Tap): Promise<StandIn> {
  const issued = new Map<string, string>();
  const broker = await startBroker(t, {
    authenticate: (_client, username, password, done) => done(null, username !== undefined && issued.get(username) === password?.toString()),
  });
  const calls = { login: 0, areas: 0, devices: 0 };
  const token = randomBytes(16).toString('hex');
  let nextId = 1;
  const server = createServer((req, res) => {
    void (async () => {
      const authorized = req.headers.authorization === `Bearer ${token}`;
      if (req.method === 'POST' && req.url === '/api/v1/auth/login') {
        calls.login += 1;
        const b = (await body(req)) as { username?: string; password?: string };
        if (b.username !== 'admin' || b.password !== ADMIN_PASSWORD) return send(res, 401, { error: { code: 'LOAXA_UNAUTHORIZED', message: 'wrong username or password' } });
        return send(res, 200, { token, expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
      }
      if (!authorized) return send(res, 401, { error: { code: 'LOAXA_UNAUTHORIZED', message: 'log in first' } });
      if (req.method === 'GET' && req.url === '/api/v1/areas') {
        calls.areas += 1;
        return send(res, 200, AREA_TREE);
      }
      if (req.method === 'POST' && req.url === '/api/v1/devices') {
        calls.devices += 1;
        const b = (await body(req)) as { name: string; areaCode: string };
        const id = `dev-${String(nextId++).padStart(3, '0')}`;
        const password = randomBytes(16).toString('hex');
        issued.set(id, password);
        return send(res, 201, { id, name: b.name, areaCode: b.areaCode, mqtt: { url: broker.url, username: id, password } });
      }
      send(res, 404, { error: { code: 'LOAXA_NOT_FOUND', message: 'no such route' } });
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${port}`, broker, calls, issued };
}
