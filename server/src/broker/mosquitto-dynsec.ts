/**
 * Device identities and ACLs in Mosquitto's dynamic-security plugin (the only auth plugin Debian ships),
 * driven over its control topic `$CONTROL/dynamic-security/v1` with JSON commands and answered on
 * `.../response`, matched by `correlationData`. Each device gets one client (username = client id = device
 * id) and one role that allows exactly what acl.ts's `decide()` allows; everything else falls to the
 * plugin's default ACL access, which is set to deny publishing and subscribing.
 *
 * Passwords: the plugin keeps its own salted PBKDF2 hashes and cannot check our SHA-256, so it must be
 * given the device's plaintext secret, which the server has only when it issues the secret (registration
 * or rotation). Devices registered before the broker was switched need a new secret.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { DEVICE_PUBLISH_CHANNELS, TOPIC_ROOT, topics } from '@loaxa/shared';
import type { MessageBus } from './bus.js';

export const DYNSEC_TOPIC = '$CONTROL/dynamic-security/v1';
export const DYNSEC_RESPONSE_TOPIC = `${DYNSEC_TOPIC}/response`;
/** The role that lets the server's own login publish commands and its status, and read every device. */
export const SERVER_ROLE = 'loaxa-server';
export const deviceRoleName = (deviceId: string): string => `loaxa-device-${deviceId}`;

export type DynsecAclType = 'publishClientSend' | 'publishClientReceive' | 'subscribeLiteral' | 'subscribePattern' | 'unsubscribeLiteral' | 'unsubscribePattern';

export interface DynsecAcl {
  acltype: DynsecAclType;
  topic: string;
  allow: boolean;
}

export interface DeviceSpec {
  deviceId: string;
  /** The plaintext secret; needed to create the client or to change its password, not to update its ACLs. */
  password?: string | undefined;
  /** The device's area and its ancestors, the area first (AreaRepository.ancestry). */
  areaAncestry: readonly string[];
}

type Command = { command: string } & Record<string, unknown>;

export interface DynsecResponse {
  command: string;
  error?: string;
  data?: Record<string, unknown>;
  correlationData?: string;
}

export class DynsecError extends Error {}

/**
 * The device's role, the same decisions as acl.ts: publish its own upstream channels; subscribe (literal
 * filters only, so no wildcard can widen them) to its own `cmd`, each `a/{code}/cmd` of its area chain and
 * `server/status`.
 */
export function deviceRoleAcls(spec: { deviceId: string; areaAncestry: readonly string[] }): DynsecAcl[] {
  return [
    ...DEVICE_PUBLISH_CHANNELS.map((ch): DynsecAcl => ({ acltype: 'publishClientSend', topic: topics.device(spec.deviceId, ch), allow: true })),
    { acltype: 'subscribeLiteral', topic: topics.deviceCmd(spec.deviceId), allow: true },
    ...spec.areaAncestry.map((code): DynsecAcl => ({ acltype: 'subscribeLiteral', topic: topics.areaCmd(code), allow: true })),
    { acltype: 'subscribeLiteral', topic: topics.serverStatus(), allow: true },
  ];
}

/** The server publishes only commands and its own status; it reads everything under the topic root. */
export function serverRoleAcls(): DynsecAcl[] {
  return [
    { acltype: 'publishClientSend', topic: topics.allDevices('cmd'), allow: true },
    { acltype: 'publishClientSend', topic: `${TOPIC_ROOT}/a/+/cmd`, allow: true },
    { acltype: 'publishClientSend', topic: topics.serverStatus(), allow: true },
    { acltype: 'subscribePattern', topic: `${TOPIC_ROOT}/#`, allow: true },
  ];
}

/** Defaults for anything no role matches: deny sending and subscribing [Mosquitto dynamic-security docs]. */
const DEFAULT_ACCESS = [
  { acltype: 'publishClientSend', allow: false },
  { acltype: 'publishClientReceive', allow: true },
  { acltype: 'subscribe', allow: false },
  { acltype: 'unsubscribe', allow: true },
] as const;

const aclKey = (a: { acltype: unknown; topic?: unknown; allow?: unknown }) => `${String(a.acltype)}|${String(a.topic ?? '')}|${String(a.allow)}`;

function sameAcls(have: unknown, want: readonly DynsecAcl[]): boolean {
  if (!Array.isArray(have)) return false;
  const a = have.map((x: DynsecAcl) => aclKey(x)).sort();
  const b = want.map(aclKey).sort();
  return a.length === b.length && a.every((k, i) => k === b[i]);
}

const notFound = (r: DynsecResponse) => !!r.error && /not found/i.test(r.error);

export interface MosquittoDynsecOptions {
  /** A bus logged in as a dynamic-security admin (the ExternalBroker). */
  bus: MessageBus;
  logger: Logger;
  requestTimeoutMs?: number | undefined;
  /** Resolves at the bus's next connection; the plugin kicks a client whose own roles change. */
  nextConnection?: (timeoutMs: number) => Promise<void>;
  /** Devices per control message in ensureDevices (the plugin saves its file once per message). */
  batchSize?: number;
}

interface Pending {
  resolve: (r: DynsecResponse) => void;
}

export class MosquittoDynsec {
  private readonly pending = new Map<string, Pending>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly prefix = randomBytes(4).toString('hex');
  private seq = 0;
  private subscribed: Promise<void> | null = null;

  constructor(private readonly opts: MosquittoDynsecOptions) {}

  private get timeoutMs(): number {
    return this.opts.requestTimeoutMs ?? 5_000;
  }

  /**
   * Listens for answers, sets the deny-by-default access, and (given the server's login) grants that login
   * the server role. The plugin must answer within the request timeout, or the broker has no dynsec.
   */
  async start(serverUsername?: string): Promise<void> {
    const [defaults] = await this.request([{ command: 'getDefaultACLAccess' }]).catch((err: Error) => {
      throw new DynsecError(`the broker's dynamic-security plugin did not answer (${err.message}); is it loaded, and is the server's login its admin?`);
    });
    const acls = (defaults?.data?.acls ?? []) as Array<{ acltype: string; allow: boolean }>;
    if (!DEFAULT_ACCESS.every((d) => acls.some((a) => a.acltype === d.acltype && a.allow === d.allow))) {
      this.check(await this.request([{ command: 'setDefaultACLAccess', acls: [...DEFAULT_ACCESS] }]));
      this.opts.logger.info('set the broker’s default ACL access to deny');
    }
    if (serverUsername !== undefined) await this.ensureServerAccess(serverUsername);
  }

  /** Rejects every request still waiting (the bus is going away). */
  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const [id, p] of this.pending) p.resolve({ command: '?', error: 'stopped', correlationData: id });
    this.pending.clear();
  }

  /** Sends commands in one control message and answers their responses in order. */
  async request(commands: Command[], qos: 0 | 1 = 1): Promise<DynsecResponse[]> {
    this.subscribed ??= this.opts.bus.subscribe(DYNSEC_RESPONSE_TOPIC, (_topic, payload) => this.onResponse(payload));
    await this.subscribed;
    const ids = commands.map(() => `${this.prefix}-${++this.seq}`);
    const answers = ids.map((id) => new Promise<DynsecResponse>((resolve) => this.pending.set(id, { resolve })));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DynsecError(`no answer from the dynamic-security plugin within ${this.timeoutMs} ms`)), this.timeoutMs);
      this.timers.add(timer);
    });
    try {
      const body = JSON.stringify({ commands: commands.map((c, i) => ({ ...c, correlationData: ids[i] })) });
      await Promise.race([this.opts.bus.publish(DYNSEC_TOPIC, body, { qos, retain: false }), timeout]);
      return await Promise.race([Promise.all(answers), timeout]);
    } finally {
      clearTimeout(timer);
      if (timer) this.timers.delete(timer);
      for (const id of ids) this.pending.delete(id);
    }
  }

  /**
   * Creates or updates devices' clients and roles, idempotently and in batches: one round reads what the
   * plugin has, a second changes only what differs (a changed role or client is kicked by the plugin and
   * reconnects under the new rules).
   */
  async ensureDevices(specs: readonly DeviceSpec[]): Promise<void> {
    const size = Math.max(1, this.opts.batchSize ?? 200);
    for (let i = 0; i < specs.length; i += size) await this.ensureBatch(specs.slice(i, i + size));
  }

  ensureDevice(spec: DeviceSpec): Promise<void> {
    return this.ensureDevices([spec]);
  }

  /** Deletes the device's client (the plugin disconnects it at once) and its role. Idempotent. */
  async revokeDevice(deviceId: string): Promise<void> {
    const res = await this.request([
      { command: 'deleteClient', username: deviceId },
      { command: 'deleteRole', rolename: deviceRoleName(deviceId) },
    ]);
    this.check(res.filter((r) => !notFound(r)));
    this.opts.logger.info({ deviceId }, 'device removed from the broker');
  }

  /** Disconnects every connection of the device; it may connect again (2.0 has no kick command). */
  async kick(deviceId: string): Promise<void> {
    const res = await this.request([
      { command: 'disableClient', username: deviceId },
      { command: 'enableClient', username: deviceId },
    ]);
    this.check(res.filter((r) => !notFound(r)));
  }

  /** Makes sure the server's login holds the server role with the current ACLs. */
  async ensureServerAccess(username: string): Promise<'unchanged' | 'granted'> {
    const want = serverRoleAcls();
    for (let round = 0; round < 3; round++) {
      const [client, role] = await this.request([
        { command: 'getClient', username },
        { command: 'getRole', rolename: SERVER_ROLE },
      ]);
      if (client!.error) throw new DynsecError(`the server's login "${username}" is not a dynamic-security client: ${client!.error}`);
      const roles = ((client!.data?.client as { roles?: Array<{ rolename: string }> } | undefined)?.roles ?? []).map((r) => r.rolename);
      const roleOk = !role!.error && sameAcls((role!.data?.role as { acls?: unknown } | undefined)?.acls, want);
      const held = roles.includes(SERVER_ROLE);
      if (roleOk && held) return round === 0 ? 'unchanged' : 'granted';
      const commands: Command[] = [];
      if (role!.error) commands.push({ command: 'createRole', rolename: SERVER_ROLE, textname: 'Loa Xã server', acls: want });
      else if (!roleOk) commands.push({ command: 'modifyRole', rolename: SERVER_ROLE, acls: want });
      if (!held) commands.push({ command: 'addClientRole', username, rolename: SERVER_ROLE });
      this.opts.logger.warn({ username, role: SERVER_ROLE }, 'granting the server’s login its role; the broker disconnects it once');
      // The plugin kicks a client whose roles change before it answers; QoS 0, so the command is not sent
      // again on the next connection. Whichever comes first (answer or reconnection), then look again.
      const reconnected = this.opts.nextConnection?.(this.timeoutMs * 2);
      reconnected?.catch(() => undefined);
      let refused: DynsecError | null = null;
      const answered = this.request(commands, 0).then((r) => {
        try {
          this.check(r);
        } catch (err) {
          refused = err as DynsecError;
          throw err;
        }
      });
      try {
        await Promise.race(reconnected ? [answered, reconnected] : [answered]);
      } catch (err) {
        if (refused || !reconnected) throw err;
        await reconnected; // the answer was lost with the kicked connection
      }
      answered.catch(() => undefined);
    }
    throw new DynsecError(`could not grant the role ${SERVER_ROLE} to "${username}"`);
  }

  private async ensureBatch(specs: readonly DeviceSpec[]): Promise<void> {
    const seen = await this.request(specs.flatMap((s) => [
      { command: 'getRole', rolename: deviceRoleName(s.deviceId) },
      { command: 'getClient', username: s.deviceId },
    ]));
    const changes: Command[] = [];
    specs.forEach((s, i) => {
      const start = changes.length;
      const role = seen[2 * i]!;
      const client = seen[2 * i + 1]!;
      const rolename = deviceRoleName(s.deviceId);
      const acls = deviceRoleAcls(s);
      if (role.error && !notFound(role)) throw new DynsecError(`getRole ${rolename}: ${role.error}`);
      if (client.error && !notFound(client)) throw new DynsecError(`getClient ${s.deviceId}: ${client.error}`);
      if (role.error) changes.push({ command: 'createRole', rolename, acls });
      else if (!sameAcls((role.data?.role as { acls?: unknown } | undefined)?.acls, acls)) changes.push({ command: 'modifyRole', rolename, acls });
      if (client.error) {
        if (s.password === undefined) {
          throw new DynsecError(`device ${s.deviceId} is not known to the broker and its secret is not at hand; issue it a new secret`);
        }
        // The client id is bound to the username: one box's credentials never open another box's session.
        changes.push({ command: 'createClient', username: s.deviceId, password: s.password, clientid: s.deviceId, roles: [{ rolename }] });
        return;
      }
      const c = (client.data?.client ?? {}) as { clientid?: string; roles?: Array<{ rolename: string }>; disabled?: boolean };
      const rolesOk = c.roles?.length === 1 && c.roles[0]!.rolename === rolename;
      if (s.password !== undefined || c.clientid !== s.deviceId || !rolesOk) {
        changes.push({ command: 'modifyClient', username: s.deviceId, clientid: s.deviceId, roles: [{ rolename }], ...(s.password !== undefined ? { password: s.password } : {}) });
      }
      // A changed role applies to new subscriptions only; those already made (an old area's `cmd`) stay
      // until the box reconnects. Disabling and enabling kicks it, so it resubscribes under the new rules.
      if (changes.length > start) changes.push({ command: 'disableClient', username: s.deviceId }, { command: 'enableClient', username: s.deviceId });
      else if (c.disabled) changes.push({ command: 'enableClient', username: s.deviceId });
    });
    if (changes.length) this.check(await this.request(changes));
    this.opts.logger.debug({ devices: specs.length, changes: changes.length }, 'devices ensured at the broker');
  }

  private check(responses: DynsecResponse[]): void {
    const failed = responses.filter((r) => r.error);
    if (failed.length) throw new DynsecError(failed.map((r) => `${r.command}: ${r.error}`).join('; '));
  }

  private onResponse(payload: Buffer): void {
    let body: { responses?: DynsecResponse[] };
    try {
      body = JSON.parse(payload.toString('utf8')) as { responses?: DynsecResponse[] };
    } catch {
      this.opts.logger.warn('unreadable answer from the dynamic-security plugin');
      return;
    }
    for (const r of body.responses ?? []) {
      const id = typeof r.correlationData === 'string' ? r.correlationData : undefined;
      const p = id ? this.pending.get(id) : undefined;
      if (p) {
        this.pending.delete(id!);
        p.resolve(r);
      }
    }
  }
}
