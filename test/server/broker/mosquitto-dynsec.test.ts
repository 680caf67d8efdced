/**
 * MosquittoDynsec against a small stand-in of the plugin (hermetic; the real plugin is exercised in
 * mosquitto-e2e.test.ts): the role ACLs are acl.ts's decisions, provisioning is idempotent and batched,
 * and the server's own role is granted even though the plugin kicks it before answering.
 */
import t from 'tap';
import { pino } from 'pino';
import { topics } from '@loaxa/shared';
import { decide } from '../../../server/src/broker/acl.js';
import type { MessageBus, MessageHandler } from '../../../server/src/broker/bus.js';
import { DYNSEC_RESPONSE_TOPIC, DYNSEC_TOPIC, MosquittoDynsec, SERVER_ROLE, deviceRoleAcls, deviceRoleName, type DynsecAcl } from '../../../server/src/broker/mosquitto-dynsec.js';

type Cmd = { command: string; correlationData: string } & Record<string, any>;

/** Answers like Mosquitto 2.0.11's plugin (same error strings), from an in-memory state. */
class FakePlugin implements MessageBus {
  roles = new Map<string, DynsecAcl[]>();
  clients = new Map<string, { clientid?: string; password?: string; roles: string[]; disabled: boolean }>();
  defaults = { publishClientSend: true, publishClientReceive: true, subscribe: true, unsubscribe: true } as Record<string, boolean>;
  messages: Cmd[][] = [];
  kicked: string[] = [];
  silent = false;
  /** Plugin time per changing command: 2.0.11 rewrites its whole file after each (ever slower as it grows). */
  msPerChange = 0;
  /** When the server's own roles change: the plugin kicks it before answering. */
  onSelfKick: (() => void) | null = null;
  private handler: MessageHandler | null = null;

  async subscribe(pattern: string, handler: MessageHandler): Promise<void> {
    if (pattern === DYNSEC_RESPONSE_TOPIC) this.handler = handler;
  }

  async publish(topic: string, payload: string): Promise<void> {
    if (topic !== DYNSEC_TOPIC || this.silent) return;
    const { commands } = JSON.parse(payload) as { commands: Cmd[] };
    this.messages.push(commands);
    let lost = false;
    const responses = commands.map((c) => {
      const r = this.run(c);
      if (r === 'kicked-self') {
        lost = true;
        return { command: c.command, correlationData: c.correlationData };
      }
      return { command: c.command, correlationData: c.correlationData, ...r };
    });
    if (lost) return void setImmediate(() => this.onSelfKick?.());
    const busyMs = this.msPerChange * commands.filter((c) => !c.command.startsWith('get')).length;
    setTimeout(() => this.handler?.(DYNSEC_RESPONSE_TOPIC, Buffer.from(JSON.stringify({ responses }))), busyMs);
  }

  commands(): string[] {
    return this.messages.flat().map((c) => c.command);
  }

  private run(c: Cmd): { error?: string; data?: unknown } | 'kicked-self' {
    const client = this.clients.get(c.username);
    const role = this.roles.get(c.rolename);
    switch (c.command) {
      case 'getDefaultACLAccess':
        return { data: { acls: Object.entries(this.defaults).map(([acltype, allow]) => ({ acltype, allow })) } };
      case 'setDefaultACLAccess':
        for (const a of c.acls) this.defaults[a.acltype] = a.allow;
        return {};
      case 'getRole':
        return role ? { data: { role: { rolename: c.rolename, acls: role.map((a) => ({ ...a, priority: 0 })) } } } : { error: 'Role not found' };
      case 'getClient':
        return client ? { data: { client: { username: c.username, ...(client.clientid ? { clientid: client.clientid } : {}), roles: client.roles.map((rolename) => ({ rolename })), groups: [], ...(client.disabled ? { disabled: true } : {}) } } } : { error: 'Client not found' };
      case 'createRole':
        if (role) return { error: 'Role already exists' };
        this.roles.set(c.rolename, c.acls ?? []);
        return {};
      case 'modifyRole':
        if (!role) return { error: 'Role not found' };
        this.roles.set(c.rolename, c.acls);
        return {};
      case 'deleteRole':
        return this.roles.delete(c.rolename) ? {} : { error: 'Role not found' };
      case 'createClient':
        if (client) return { error: 'Client already exists' };
        this.clients.set(c.username, { clientid: c.clientid, password: c.password, roles: (c.roles ?? []).map((r: { rolename: string }) => r.rolename), disabled: false });
        return {};
      case 'modifyClient':
        if (!client) return { error: 'Client not found' };
        Object.assign(client, { clientid: c.clientid, roles: c.roles.map((r: { rolename: string }) => r.rolename), ...(c.password ? { password: c.password } : {}) });
        return {};
      case 'addClientRole':
        if (!client) return { error: 'Client not found' };
        client.roles.push(c.rolename);
        return c.username === 'loaxa-server' ? 'kicked-self' : {};
      case 'disableClient':
      case 'enableClient':
      case 'deleteClient':
        if (!client) return { error: 'Client not found' };
        if (c.command === 'disableClient' || c.command === 'deleteClient') this.kicked.push(c.username);
        if (c.command === 'deleteClient') this.clients.delete(c.username);
        else client.disabled = c.command === 'disableClient';
        return {};
      default:
        return { error: 'Unknown command' };
    }
  }
}

const logger = pino({ level: 'silent' });
const A = { deviceId: 'spk-a', password: 'pw-a', areaAncestry: ['99003', '99'] };

t.test('a device role allows exactly what acl.ts decides, with literal topics only', async (t) => {
  const identity = { kind: 'device' as const, deviceId: 'spk-a', areaAncestry: ['99003', '99'] };
  const acls = deviceRoleAcls(identity);
  const probes = [
    ...['status', 'telemetry', 'event', 'res', 'cmd'].flatMap((ch) => [topics.device('spk-a', ch as never), topics.device('spk-b', ch as never)]),
    topics.areaCmd('99003'), topics.areaCmd('99'), topics.areaCmd('99004'), topics.areaCmd('98'), topics.serverStatus(),
  ];
  for (const topic of probes) {
    const pub = acls.some((a) => a.acltype === 'publishClientSend' && a.topic === topic && a.allow);
    const sub = acls.some((a) => a.acltype === 'subscribeLiteral' && a.topic === topic && a.allow);
    t.equal(pub, decide(identity, 'publish', topic).allow, `publish ${topic}`);
    t.equal(sub, decide(identity, 'subscribe', topic).allow, `subscribe ${topic}`);
  }
  t.ok(acls.every((a) => a.allow && !a.topic.includes('+') && !a.topic.includes('#')), 'no wildcard and no deny rule: the plugin defaults deny the rest');
  t.same(new Set(acls.map((a) => a.acltype)), new Set(['publishClientSend', 'subscribeLiteral']));
});

t.test('ensureDevices creates, leaves alone, updates, and refuses to invent a password', async (t) => {
  const plugin = new FakePlugin();
  const dynsec = new MosquittoDynsec({ bus: plugin, logger, requestTimeoutMs: 1_000 });
  await dynsec.start();
  await dynsec.ensureDevice(A);
  t.same(plugin.clients.get('spk-a'), { clientid: 'spk-a', password: 'pw-a', roles: [deviceRoleName('spk-a')], disabled: false }, 'client bound to its client id and role');
  t.same(plugin.roles.get(deviceRoleName('spk-a')), deviceRoleAcls(A));

  plugin.messages = [];
  await dynsec.ensureDevice({ deviceId: 'spk-a', areaAncestry: A.areaAncestry });
  t.same(plugin.commands(), ['getRole', 'getClient'], 'nothing changed: nothing sent but the look-up');

  plugin.messages = [];
  await dynsec.ensureDevice({ deviceId: 'spk-a', areaAncestry: ['99004', '99'] });
  t.same(plugin.commands(), ['getRole', 'getClient', 'modifyRole', 'disableClient', 'enableClient'], 'moved: new role, and a kick so old subscriptions go');
  t.ok(plugin.roles.get(deviceRoleName('spk-a'))!.some((a) => a.topic === topics.areaCmd('99004')));
  t.same(plugin.kicked, ['spk-a']);

  await dynsec.ensureDevice({ ...A, password: 'rotated' });
  t.equal(plugin.clients.get('spk-a')!.password, 'rotated', 'a new secret reaches the broker');

  plugin.clients.get('spk-a')!.disabled = true;
  plugin.messages = [];
  await dynsec.ensureDevice({ deviceId: 'spk-a', areaAncestry: A.areaAncestry });
  t.same(plugin.commands(), ['getRole', 'getClient', 'enableClient'], 'a disabled client is enabled again');

  await t.rejects(dynsec.ensureDevice({ deviceId: 'spk-new', areaAncestry: ['99'] }), /spk-new is not known to the broker.*new secret/);
});

const many = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ deviceId: `spk-${from + i}`, password: `pw-${from + i}`, areaAncestry: ['99003', '99'] }));

const reads = (p: FakePlugin) => p.messages.filter((m) => m[0]!.command === 'getRole').map((m) => m.length / 2);
const writes = (p: FakePlugin) => p.messages.filter((m) => m[0]!.command !== 'getRole').map((m) => m.length);

t.test('bulk provisioning sends few messages while the plugin is quick', async (t) => {
  const plugin = new FakePlugin();
  const dynsec = new MosquittoDynsec({ bus: plugin, logger, batchSize: 200 });
  await dynsec.ensureDevices(many(450));
  t.equal(plugin.clients.size, 450);
  t.same(reads(plugin), [200, 200, 50], 'look-ups of 200 devices');
  t.same(writes(plugin), [20, 380, 400, 100], 'changes: 10 devices to learn the pace, then all of a look-up at once');
  plugin.messages = [];
  await dynsec.ensureDevices(many(450).map(({ password: _, ...s }) => s));
  t.same(writes(plugin), [], 'nothing to change: look-ups only');
  t.same(reads(plugin), [200, 200, 50]);
});

t.test('a slow plugin gets smaller messages, and timeouts in proportion to their commands', async (t) => {
  // As Mosquitto 2.0.11 at ~1,000 boxes: ~10 ms per changing command. The old fixed batches of 200 boxes
  // (400 commands, 4 s) would outlast the 300 ms timeout.
  const plugin = new FakePlugin();
  plugin.msPerChange = 10;
  const dynsec = new MosquittoDynsec({ bus: plugin, logger, requestTimeoutMs: 300, batchTargetMs: 200 });
  await dynsec.ensureDevices(many(70));
  t.equal(plugin.clients.size, 70);
  t.same(reads(plugin), [70], 'one look-up');
  const w = writes(plugin);
  t.equal(w[0], 20, 'first change message: 10 devices');
  t.ok(w.length >= 7 && w.slice(1, -1).every((n) => n >= 14 && n <= 20 && n % 2 === 0), `then whole devices, ~200 ms of plugin time each (${w.join(', ')})`);

  // Messages that take longer than the base timeout still get their answer.
  plugin.messages = [];
  const fixed = new MosquittoDynsec({ bus: plugin, logger, requestTimeoutMs: 300, batchSize: 40, batchTargetMs: 60_000 });
  await fixed.ensureDevices(many(50, 100));
  t.same(writes(plugin), [20, 60, 20], 'a 600 ms message of 60 commands outlasted the 300 ms base timeout');
  t.equal(plugin.clients.size, 120);

  // A plugin that stops answering still fails, at the base timeout for a look-up.
  plugin.silent = true;
  await t.rejects(fixed.ensureDevices(many(1, 500)), /no answer from the dynamic-security plugin within 300 ms$/, 'the look-up: base timeout');
});

t.test('revoke deletes client and role (idempotent); kick disables and enables', async (t) => {
  const plugin = new FakePlugin();
  const dynsec = new MosquittoDynsec({ bus: plugin, logger });
  await dynsec.start();
  await dynsec.ensureDevice(A);
  await dynsec.kick('spk-a');
  t.same(plugin.kicked, ['spk-a']);
  t.equal(plugin.clients.get('spk-a')!.disabled, false, 'may connect again after a kick');
  await dynsec.revokeDevice('spk-a');
  t.notOk(plugin.clients.has('spk-a'));
  t.notOk(plugin.roles.has(deviceRoleName('spk-a')));
  await dynsec.revokeDevice('spk-a');
  await dynsec.kick('spk-a');
  t.pass('revoking or kicking an unknown device is not an error');
});

t.test('start sets deny-by-default access and grants the server its role across the kick', async (t) => {
  const plugin = new FakePlugin();
  plugin.clients.set('loaxa-server', { roles: ['admin'], disabled: false });
  let reconnect: (() => void) | null = null;
  plugin.onSelfKick = () => setTimeout(() => reconnect?.(), 20);
  const dynsec = new MosquittoDynsec({
    bus: plugin,
    logger,
    requestTimeoutMs: 2_000,
    nextConnection: () => new Promise<void>((r) => (reconnect = r)),
  });
  const t0 = Date.now();
  await dynsec.start('loaxa-server');
  t.ok(Date.now() - t0 < 1_500, 'did not wait for the lost answer to time out');
  t.same(plugin.defaults, { publishClientSend: false, publishClientReceive: true, subscribe: false, unsubscribe: true });
  t.same(plugin.clients.get('loaxa-server')!.roles, ['admin', SERVER_ROLE]);
  t.ok(plugin.roles.get(SERVER_ROLE)!.some((a) => a.acltype === 'publishClientSend' && a.topic === topics.allDevices('cmd')));
  t.equal(await dynsec.ensureServerAccess('loaxa-server'), 'unchanged');
  await t.rejects(dynsec.ensureServerAccess('nobody'), /"nobody" is not a dynamic-security client/);
});

t.test('a plugin that never answers fails the request at its timeout', async (t) => {
  const plugin = new FakePlugin();
  plugin.silent = true;
  const dynsec = new MosquittoDynsec({ bus: plugin, logger, requestTimeoutMs: 200 });
  await t.rejects(dynsec.start(), /did not answer \(no answer from the dynamic-security plugin within 200 ms\)/);
  await t.rejects(dynsec.ensureDevice(A), /no answer/);
  dynsec.stop();
});
