/**
 * The few server routes the simulator uses (CONTRACTS.md): login, the area tree, device creation.
 * Answers are checked with zod; failures become SimErrors that say what to do.
 */
import { z } from 'zod';
import { areaCodeSchema, idSchema } from '@loaxa/shared';
import { SimError } from './state-file.js';

export type FetchLike = typeof fetch;

const loginSchema = z.object({ token: z.string().min(1), expiresAt: z.string() });

export const createdDeviceSchema = z.object({
  id: idSchema,
  name: z.string(),
  areaCode: areaCodeSchema,
  mqtt: z.object({ url: z.string().min(1), username: z.string().min(1), password: z.string().min(1) }),
});
export type CreatedDevice = z.infer<typeof createdDeviceSchema>;

export interface AreaNode {
  code: string;
  name: string;
  type: string;
  children?: AreaNode[] | undefined;
}
const areaNodeSchema: z.ZodType<AreaNode> = z.lazy(() =>
  z.object({ code: z.string(), name: z.string(), type: z.string(), children: z.array(areaNodeSchema).optional() }),
);
const areaTreeSchema = z.object({ items: z.array(areaNodeSchema) });

const errorBodySchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** How long a bulk registration may take (see createDevices). */
const BULK_TIMEOUT_MS = 30 * 60_000;

export class ServerApi {
  private token: string | null = null;
  private readonly base: string;

  constructor(
    serverUrl: string,
    private readonly opts: { username: string; password: string | undefined; fetch?: FetchLike },
  ) {
    this.base = serverUrl.replace(/\/+$/, '');
  }

  async login(): Promise<void> {
    const { username, password } = this.opts;
    if (!password) {
      throw new SimError(
        'LOAXA_ADMIN_PASSWORD is not set: set it to the admin password the server printed at its first start (and LOAXA_ADMIN_USERNAME if the user is not "admin")',
      );
    }
    const res = await this.request('POST', '/api/v1/auth/login', { username, password }, false);
    if (res.status === 401 || res.status === 403) {
      throw new SimError(
        `the server refused the login of user "${username}": set LOAXA_ADMIN_PASSWORD (and LOAXA_ADMIN_USERNAME if the user is not "admin") to the admin password the server printed at its first start`,
      );
    }
    this.token = (await this.parse(res, loginSchema, 'login')).token;
  }

  async areas(): Promise<AreaNode[]> {
    const res = await this.request('GET', '/api/v1/areas');
    return (await this.parse(res, areaTreeSchema, 'area tree')).items;
  }

  async createDevice(body: { name: string; areaCode: string }): Promise<CreatedDevice> {
    const res = await this.request('POST', '/api/v1/devices', body);
    return this.parse(res, createdDeviceSchema, 'device creation');
  }

  /**
   * Registers many boxes in one request (`POST /api/v1/devices/bulk`); null when the server has no bulk
   * route (an older server), so the caller falls back to one request per box.
   */
  async createDevices(devices: Array<{ name: string; areaCode: string }>): Promise<CreatedDevice[] | null> {
    // Long, unlike other requests: on an external Mosquitto the server registers each box with the broker's
    // dynamic-security plugin, which slows as it fills (2.0.x: ~0.3 s a box at 10,000), and the answer
    // holds the only copy of the boxes' passwords, so giving up early would strand them.
    const res = await this.request('POST', '/api/v1/devices/bulk', { devices }, true, BULK_TIMEOUT_MS);
    if (res.status === 404) return null;
    return (await this.parse(res, z.object({ items: z.array(createdDeviceSchema) }), 'bulk device creation')).items;
  }

  private async request(method: string, path: string, body?: unknown, auth = true, timeoutMs = 30_000): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (auth) {
      if (!this.token) throw new Error('not logged in');
      headers.authorization = `Bearer ${this.token}`;
    }
    const url = `${this.base}${path}`;
    try {
      return await (this.opts.fetch ?? fetch)(url, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new SimError(`cannot reach the server at ${this.base} (${cause?.code ?? cause?.message ?? (err as Error).message}): is it running, and is --server right?`);
    }
  }

  private async parse<T>(res: Response, schema: z.ZodType<T>, what: string): Promise<T> {
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new SimError(`unexpected ${what} answer from ${this.base} (HTTP ${res.status}, not JSON): is --server the Loa Xã server?`);
    }
    if (!res.ok) {
      const err = errorBodySchema.safeParse(json);
      const detail = err.success ? `${err.data.error.code}: ${err.data.error.message}` : text.slice(0, 200);
      throw new SimError(`${what} failed with HTTP ${res.status}: ${detail}`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new SimError(`unexpected ${what} answer from ${this.base}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return parsed.data;
  }
}

/** Codes of the ancestors of `code` in the tree, root first; null when the tree does not hold it. */
export function ancestorsOf(tree: readonly AreaNode[], code: string): string[] | null {
  for (const node of tree) {
    if (node.code === code) return [];
    const below = ancestorsOf(node.children ?? [], code);
    if (below) return [node.code, ...below];
  }
  return null;
}
