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
 *
 * Why a role per device, and why registering many boxes is slow — Mosquitto 2.0.x (Debian's 2.0.11):
 * - Its ACL check compares the stored topic as is (plugins/dynamic-security/acl.c,
 *   `acl_check_publish_c_send`: `mosquitto_topic_matches_sub(acl->topic, ed->topic, …)`; subscribe literals
 *   by `HASH_FIND` on the exact string): no `%c`/`%u` substitution, so "a box's own topics" cannot be one
 *   shared role. Tried against 2.0.11: a role with `loaxa/v1/d/%c/status` refuses spk-1's
 *   `loaxa/v1/d/spk-1/status` (and grants the literal `…/d/%c/cmd`). Substitution arrives with 2.1
 *   (eclipse-mosquitto/mosquitto#3191).
 * - Every changing command rewrites the whole file before the next command runs: clients.c
 *   `dynsec_clients__process_create`, roles.c `dynsec_roles__process_create` (and modify, delete, enable,
 *   disable…) end in `dynsec__config_save()`, which (plugin.c) rebuilds the JSON tree of every client,
 *   group and role, base64-encodes every password hash and salt, `cJSON_Print`s it, writes `<file>.new`
 *   and renames it. strace: 1,001 renames for 1,001 commands in 5 control messages. A save costs
 *   ~11 µs per device already there (its client and role; perf: malloc/free and cJSON ~75 %, OpenSSL BIO
 *   base64 ~5 %, PBKDF2 <1 %), so each new box costs two saves of O(boxes) and N boxes cost O(N²): 25 ms per
 *   box at 1,000 boxes, 127 ms at 5,000, 230 ms at 10,000 (bench/scale/dynsec-provision.ts). One control
 *   message does not batch the saves, and the broker serves nobody else while it runs one; so
 *   ensureDevices sizes its messages by time (batchTargetMs), not by count, and gives each a timeout in
 *   proportion to its commands.
 * For more than a few hundred boxes, mosquitto-files.ts (issue 21) writes Mosquitto's password and ACL files instead.
 * Over 300 lines because the plugin's command protocol, the pacing it needs (Mosquitto rewrites its whole
 * JSON file for every command: bench/README.md) and the ACLs derived from acl.ts are one client.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { DEVICE_PUBLISH_CHANNELS, TOPIC_ROOT, topics } from '@loaxa/shared';
import type { MessageBus } from './bus.js';
import type { BrokerIdentities, DeviceSpec } from './identities.js';

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

export type { DeviceSpec } from './identities.js';

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
  /** At most this many devices per control message in ensureDevices (default 200). */
  batchSize?: number;
  /**
   * Plugin time one control message of ensureDevices should take (default 1,000 ms): the plugin rewrites
   * its file after every command, ever slower as it grows, and the broker serves no one else meanwhile, so
   * batches shrink as it slows down.
   */
  batchTargetMs?: number;
}

/** Devices in the first change message of ensureDevices, before the plugin's pace is known. */
const FIRST_BATCH = 10;
/** Assumed plugin time per changing command until one has been measured (2.0.11 at ~20,000 identities). */
const UNMEASURED_COMMAND_MS = 250;
/** A change message may take this many times its expected time before it counts as unanswered. */
const TIMEOUT_FACTOR = 4;
const PROGRESS_EVERY_MS = 5_000;

interface Pending {
  resolve: (r: DynsecResponse) => void;
}

export class MosquittoDynsec implements BrokerIdentities {
  private readonly pending = new Map<string, Pending>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly prefix = randomBytes(4).toString('hex');
  private seq = 0;
  private subscribed: Promise<void> | null = null;
  /** Plugin time per changing command in the last change message (it grows with the plugin's file). */
  private commandMs: number | null = null;

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
  async request(commands: Command[], qos: 0 | 1 = 1, timeoutMs: number = this.timeoutMs): Promise<DynsecResponse[]> {
    this.subscribed ??= this.opts.bus.subscribe(DYNSEC_RESPONSE_TOPIC, (_topic, payload) => this.onResponse(payload));
    await this.subscribed;
    const ids = commands.map(() => `${this.prefix}-${++this.seq}`);
    const answers = ids.map((id) => new Promise<DynsecResponse>((resolve) => this.pending.set(id, { resolve })));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      const scaled = timeoutMs !== this.timeoutMs ? ` (${commands.length} commands)` : '';
      timer = setTimeout(() => reject(new DynsecError(`no answer from the dynamic-security plugin within ${Math.round(timeoutMs)} ms${scaled}`)), timeoutMs);
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
   * Creates or updates devices' clients and roles, idempotently and in batches: one message reads what the
   * plugin has for up to batchSize devices (reads do not save the file: quick at any size), then messages
   * change only what differs (a changed role or client is kicked by the plugin and reconnects under the
   * new rules). Each change message holds as many commands as the plugin runs in about batchTargetMs at
   * its last measured pace (see the top of this file), and may take TIMEOUT_FACTOR times that before it
   * counts as unanswered; progress is logged every few seconds.
   */
  async ensureDevices(specs: readonly DeviceSpec[]): Promise<void> {
    const max = Math.max(1, this.opts.batchSize ?? 200);
    const run = { started: Date.now(), lastLog: Date.now(), done: 0, of: specs.length, commands: 0 };
    for (let i = 0; i < specs.length; i += max) await this.ensureBatch(specs.slice(i, i + max), run);
    const elapsedMs = Date.now() - run.started;
    this.opts.logger[elapsedMs >= PROGRESS_EVERY_MS ? 'info' : 'debug'](
      { devices: specs.length, commands: run.commands, elapsedMs, msPerCommand: this.pace() },
      'devices ensured at the broker',
    );
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

  private pace(): number | null {
    return this.commandMs === null ? null : Number(this.commandMs.toFixed(2));
  }

  /** Reads one batch's devices and sends what differs, in messages sized by the plugin's pace. */
  private async ensureBatch(specs: readonly DeviceSpec[], run: { started: number; lastLog: number; done: number; of: number; commands: number }): Promise<void> {
    const seen = await this.request(specs.flatMap((s) => [
      { command: 'getRole', rolename: deviceRoleName(s.deviceId) },
      { command: 'getClient', username: s.deviceId },
    ]));
    // Each device's commands, in order (its role before its client, the kick last), kept in one message.
    const perDevice = specs.map((s, i): Command[] => {
      const changes: Command[] = [];
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
        return changes;
      }
      const c = (client.data?.client ?? {}) as { clientid?: string; roles?: Array<{ rolename: string }>; disabled?: boolean };
      const rolesOk = c.roles?.length === 1 && c.roles[0]!.rolename === rolename;
      if (s.password !== undefined || c.clientid !== s.deviceId || !rolesOk) {
        changes.push({ command: 'modifyClient', username: s.deviceId, clientid: s.deviceId, roles: [{ rolename }], ...(s.password !== undefined ? { password: s.password } : {}) });
      }
      // A changed role applies to new subscriptions only; those already made (an old area's `cmd`) stay
      // until the box reconnects. Disabling and enabling kicks it, so it resubscribes under the new rules.
      if (changes.length > 0) changes.push({ command: 'disableClient', username: s.deviceId }, { command: 'enableClient', username: s.deviceId });
      else if (c.disabled) changes.push({ command: 'enableClient', username: s.deviceId });
      return changes;
    });
    const targetMs = this.opts.batchTargetMs ?? 1_000;
    for (let d = 0; d < perDevice.length; ) {
      const budget = this.commandMs === null ? 2 * FIRST_BATCH : Math.max(1, Math.floor(targetMs / Math.max(this.commandMs, 0.01)));
      const changes: Command[] = [];
      const from = d;
      while (d < perDevice.length && (changes.length === 0 || changes.length + perDevice[d]!.length <= budget)) changes.push(...perDevice[d++]!);
      if (changes.length) {
        const expectedMs = changes.length * (this.commandMs ?? UNMEASURED_COMMAND_MS);
        const t0 = performance.now();
        const answers = await this.request(changes, 1, this.timeoutMs + TIMEOUT_FACTOR * expectedMs);
        this.commandMs = (performance.now() - t0) / changes.length;
        this.check(answers);
        run.commands += changes.length;
      }
      run.done += d - from;
      if (Date.now() - run.lastLog >= PROGRESS_EVERY_MS && run.done < run.of) {
        run.lastLog = Date.now();
        this.opts.logger.info(
          { done: run.done, of: run.of, commands: run.commands, msPerCommand: this.pace(), perMessage: changes.length, elapsedMs: run.lastLog - run.started },
          'registering devices at the broker',
        );
      }
    }
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
