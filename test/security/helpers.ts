/**
 * A server with two provinces and logins of every role, for the security tests (issue 13): the sample
 * province 99 and a second one, 98, so "another province" and "another commune" both exist.
 */
import { startTestServer, importSampleAreas } from '../helpers/server.js';
import type { Config } from '../../server/src/config.js';
import type { BuildOptions } from '../../server/src/app.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export const SECOND_PROVINCE = {
  provinces: [
    {
      code: '98',
      name: 'Tỉnh Thứ Hai',
      type: 'tỉnh',
      communes: [
        { code: '98001', name: 'Xã Một', type: 'xã' },
        { code: '98002', name: 'Xã Hai', type: 'xã' },
      ],
    },
  ],
};

export type Role = 'province-admin' | 'approver' | 'operator' | 'viewer';

export async function securityServer(t: Teardown, overrides: Partial<Config> = {}, opts: BuildOptions = {}) {
  const s = await startTestServer(t, overrides, opts);
  await importSampleAreas(s.api, s.token);
  const second = await s.api('POST', '/api/v1/areas/import', SECOND_PROVINCE, s.token);
  if (second.status !== 200) throw new Error(`second province import failed: ${JSON.stringify(second.body)}`);
  let n = 0;
  /** Creates a user (as the installation-wide admin) and logs it in. */
  async function login(role: Role, areaCode: string | null): Promise<{ id: string; token: string; username: string }> {
    const username = `u${++n}-${role}`.replace(/[^a-z0-9.-]/g, '');
    const password = `pw-${username}-secret`;
    const created = await s.api('POST', '/api/v1/users', { username, password, role, areaCode }, s.token);
    if (created.status !== 201) throw new Error(`could not create ${role}: ${created.status} ${JSON.stringify(created.body)}`);
    const res = await s.api<{ token: string }>('POST', '/api/v1/auth/login', { username, password });
    if (res.status !== 200) throw new Error(`could not log in ${username}: ${res.status}`);
    return { id: created.body.id, token: res.body.token, username };
  }
  return { ...s, login };
}

/** Resident memory of this process (the server runs in it) sampled every 20 ms until stopped; answers the peak. */
export function rssPeak(): { stop: () => number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

/**
 * Asks `/healthz` and `/api/v1/me` together every 50 ms until stopped, to show the server still answers
 * others while it does something heavy; `stop` answers each pair's time, sorted (ms). A failed answer fails it.
 */
export function responsiveness(base: string, api: Awaited<ReturnType<typeof startTestServer>>['api'], token: string): { stop: () => Promise<number[]> } {
  const latencies: number[] = [];
  let done = false;
  const pinger = (async () => {
    while (!done) {
      const started = performance.now();
      const [h, me] = await Promise.all([fetch(`${base}/healthz`), api('GET', '/api/v1/me', undefined, token)]);
      latencies.push(performance.now() - started);
      if (h.status !== 200 || me.status !== 200) throw new Error(`healthz ${h.status}, me ${me.status}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    stop: async () => {
      done = true;
      await pinger;
      return latencies.sort((a, b) => a - b);
    },
  };
}

/** A Remaining Length as MQTT writes it (a variable byte integer, §2.2.3). */
export function remainingLength(length: number): Buffer {
  const bytes: number[] = [];
  do {
    let b = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) b |= 0x80;
    bytes.push(b);
  } while (length > 0);
  return Buffer.from(bytes);
}
