/**
 * Issue 20, notifications on a real server: an operator's broadcast waiting reaches the approver (the list, the
 * badge's count, a Web Push decrypted by a strict local push service, an e-mail received by a local SMTP server
 * that requires AUTH); the rejection reaches the operator with its reason; a simulated box's blocking fault
 * reaches its commune's users and not another commune's; its commune's coverage drop reaches the province.
 */
import t from 'tap';
import { join } from 'node:path';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { startSimulation } from '../../firmware-sim/src/index.js';
import { loadConfig } from '../../server/src/config.js';
import { ADMIN_PASSWORD, importSampleAreas, startTestServer, tempDir } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { PushServiceStandIn } from './push-service.js';

interface Mail {
  from: string;
  to: string[];
  raw: string;
}

/** A local SMTP server that takes mail only after AUTH with this user and password. */
async function smtpServer(t: { teardown(fn: () => unknown): void }, user: string, pass: string) {
  const mails: Mail[] = [];
  const authFailures: string[] = [];
  const server = new SMTPServer({
    authOptional: false,
    // Plain SMTP on loopback: without STARTTLS the client logs in in clear, which only this test allows.
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === user && auth.password === pass) return cb(null, { user });
      authFailures.push(auth.username ?? '');
      return cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { mails, authFailures, port: (server.server.address() as AddressInfo).port };
}

/** RFC 2047 encoded words and the quoted-printable / base64 parts nodemailer writes, decoded for reading. */
function decodeMail(raw: string): { subject: string; text: string } {
  const words = (s: string) =>
    s.replace(/\r?\n[ \t]/g, ' ').replace(/=\?utf-8\?([QB])\?([^?]*)\?=\s*/gi, (_m, enc: string, data: string) =>
      enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('utf8') : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'),
    );
  const subject = words(/^Subject: (.*(?:\r?\n[ \t].*)*)/m.exec(raw)?.[1] ?? '').trim();
  const plain = /Content-Type: text\/plain[^\r\n]*\r?\nContent-Transfer-Encoding: ([\w-]+)\r?\n\r?\n([\s\S]*?)\r?\n--/i.exec(raw);
  let text = plain?.[2] ?? '';
  if (plain?.[1]?.toLowerCase() === 'quoted-printable') text = Buffer.from(text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
  else if (plain?.[1]?.toLowerCase() === 'base64') text = Buffer.from(text, 'base64').toString('utf8');
  return { subject, text };
}

t.test('approvals, decisions and faults are notified in the list, by Web Push and by e-mail', async (t) => {
  const push = new PushServiceStandIn();
  await push.start();
  t.teardown(() => push.stop());
  const smtp = await smtpServer(t, 'loaxa', 'mat-khau-smtp');
  const s = await startTestServer(t, {
    notifications: { ...loadConfig({}).notifications, pushAllowLoopback: true, smtpUrl: `smtp://loaxa:mat-khau-smtp@127.0.0.1:${smtp.port}`, smtpFrom: 'Loa Xã <loa-xa@tinh.example>', coverageThresholdPct: 50 },
  });
  const { api, token } = s;
  await importSampleAreas(api, token);
  const login = async (username: string, role: string, areaCode: string | null) => {
    const created = await api('POST', '/api/v1/users', { username, password: 'mat-khau-dai-du', role, areaCode }, token);
    t.equal(created.status, 201, `user ${username}`);
    return (await api<{ token: string }>('POST', '/api/v1/auth/login', { username, password: 'mat-khau-dai-du' })).body.token;
  };
  const op = await login('vanhanh.tanlap', 'operator', '99003');
  const approver = await login('duyet.tinh', 'approver', '99');
  const viewerElsewhere = await login('xem.binhyen', 'viewer', '99004');

  // The approver's phone subscribes (and an old browser of theirs whose subscription has since expired), and gives an address.
  const phone = push.subscription();
  const oldBrowser = push.subscription();
  const key = (await api<{ publicKey: string }>('GET', '/api/v1/notifications/push/key', undefined, approver)).body.publicKey;
  t.equal(Buffer.from(key, 'base64url').length, 65, 'the VAPID key is a P-256 public key');
  for (const sub of [phone, oldBrowser]) t.equal((await api('POST', '/api/v1/notifications/push/subscribe', sub, approver)).status, 201);
  push.expire(oldBrowser.endpoint);
  const prefs = await api('PUT', '/api/v1/notifications/preferences', { email: 'duyet@tinh.example', channels: { approval: { push: true, email: true }, decision: { push: true, email: true }, fault: { push: false, email: false }, coverage: { push: true, email: false } } }, approver);
  t.equal(prefs.status, 200);
  t.equal(prefs.body.emailAvailable, true);
  t.equal(prefs.body.pushSubscriptions, 2);
  const bad = await api('PUT', '/api/v1/notifications/preferences', { email: 'không-phải-email', channels: prefs.body.channels }, approver);
  t.equal(bad.status, 400, 'a malformed address is refused');
  t.equal((await api('GET', '/api/v1/notifications/preferences', undefined, approver)).body.email, 'duyet@tinh.example', 'and changes nothing');

  // The operator gives an address too, and keeps the default channels (everything).
  t.equal((await api('PUT', '/api/v1/notifications/preferences', { email: 'vanhanh@tanlap.example', channels: { ...prefs.body.channels, decision: { push: true, email: true }, fault: { push: true, email: true } } }, op)).status, 200);

  // The operator submits.
  const bulletin = (await api('POST', '/api/v1/bulletins', { title: 'Lịch tiêm chủng tháng 12', text: 'Trạm y tế xã tiêm phòng cho trẻ vào sáng thứ bảy.' }, op)).body;
  await waitFor('the bulletin synthesized', async () => ((await api<{ status: string }>('GET', `/api/v1/bulletins/${bulletin.id}`, undefined, op)).body.status === 'ready' ? true : null), 60_000);
  // 08:30 in Vietnam (01:30 UTC), two days ahead.
  const air = new Date(Date.now() + 2 * 86_400_000);
  air.setUTCHours(1, 30, 0, 0);
  const airVi = `08:30 ngày ${String(air.getUTCDate()).padStart(2, '0')}/${String(air.getUTCMonth() + 1).padStart(2, '0')}/${air.getUTCFullYear()}`;
  const submitted = await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['99003'] }, startAt: air.toISOString() }, op);
  t.equal(submitted.status, 201, 'submitted', { body: submitted.body });
  t.equal(submitted.body.status, 'submitted');
  t.same((await api('GET', '/api/v1/notifications/unread-count', undefined, approver)).body, { unread: 1 }, 'the approver’s badge counts 1');
  const list = (await api('GET', '/api/v1/notifications', undefined, approver)).body;
  t.equal(list.items.length, 1);
  t.match(list.items[0], { kind: 'approval', title: 'Chờ duyệt: “Lịch tiêm chủng tháng 12”', link: '/phe-duyet', readAt: null });
  t.equal(list.items[0].body, `vanhanh.tanlap gửi phê duyệt lượt phát cho Xã Tân Lập, phát lúc ${airVi}.`, 'who, where and the air time in Vietnam time');
  t.equal((await api('GET', '/api/v1/notifications/unread-count', undefined, op)).body.unread, 0, 'the author is not told of their own submission');

  await s.server.notifications.service.idle();
  t.same(push.refused, [], 'the push service found nothing wrong with the requests');
  t.equal(push.received.length, 1, 'one push delivered (the expired browser answered 410)');
  const got = push.received[0]!;
  t.same(JSON.parse(got.text), { title: list.items[0].title, body: list.items[0].body, url: '/phe-duyet', tag: `loaxa-${list.items[0].id}` }, 'the decrypted payload is the notification');
  t.equal(got.vapidKey, key, 'signed with the server’s VAPID key');
  t.equal(got.jwt.aud, push.origin);
  t.ok(got.jwt.exp - Date.now() / 1000 <= 24 * 3600, 'exp within 24 h');
  t.equal(got.ttl, 86_400);
  t.equal((await api('GET', '/api/v1/notifications/preferences', undefined, approver)).body.pushSubscriptions, 1, 'the expired subscription was removed');

  t.equal(smtp.mails.length, 1, 'one e-mail');
  t.same(smtp.mails[0]!.to, ['duyet@tinh.example']);
  t.equal(smtp.mails[0]!.from, 'loa-xa@tinh.example');
  const mail = decodeMail(smtp.mails[0]!.raw);
  t.equal(mail.subject, '[Loa Xã] Chờ duyệt: “Lịch tiêm chủng tháng 12”');
  t.match(mail.text, /vanhanh\.tanlap gửi phê duyệt lượt phát cho Xã Tân Lập/);
  // Without LOAXA_PUBLIC_URL the link is where the server listens.
  t.ok(mail.text.includes(`Xem chi tiết: ${s.base}/phe-duyet`), 'with a link into the app', { text: mail.text });
  t.same(smtp.authFailures, []);

  // The approver rejects with a reason: the operator's list says so.
  t.equal((await api('POST', `/api/v1/broadcasts/${submitted.body.id}/reject`, { reason: 'Trùng với lịch họp của xã' }, approver)).status, 200);
  const opList = (await api('GET', '/api/v1/notifications', undefined, op)).body;
  t.equal(opList.unread, 1);
  t.match(opList.items[0], { kind: 'decision', title: 'Bị từ chối: “Lịch tiêm chủng tháng 12”', link: `/luot-phat/${submitted.body.id}` });
  t.match(opList.items[0].body, /duyet\.tinh đã từ chối lượt phát của bạn\. Lý do: Trùng với lịch họp của xã\./);
  await s.server.notifications.service.idle();
  const rejectedMail = smtp.mails.find((m) => m.to[0] === 'vanhanh@tanlap.example');
  t.ok(rejectedMail, 'the operator is e-mailed the decision');
  const rm = decodeMail(rejectedMail!.raw);
  t.equal(rm.subject, '[Loa Xã] Bị từ chối: “Lịch tiêm chủng tháng 12”');
  t.match(rm.text, /Lý do: Trùng với lịch họp của xã\./);
  t.ok(rm.text.includes(`${s.base}/luot-phat/${submitted.body.id}`), 'linking to the broadcast');

  t.equal((await api('GET', '/api/v1/notifications/unread-count', undefined, approver)).body.unread, 0, 'decided: the approver’s badge no longer counts it');
  t.ok((await api('GET', '/api/v1/notifications', undefined, approver)).body.items[0].readAt, 'its “waiting” is read');

  // Reading: one's own only.
  const opItem = opList.items[0].id;
  t.equal((await api('POST', `/api/v1/notifications/${opItem}/read`, {}, approver)).status, 404, 'another user’s notification is not found');
  t.equal((await api('GET', '/api/v1/notifications/unread-count', undefined, op)).body.unread, 1, 'and stays unread');
  t.same((await api('POST', `/api/v1/notifications/${opItem}/read`, {}, op)).body, { unread: 0 });
  t.ok((await api('GET', '/api/v1/notifications', undefined, op)).body.items[0].readAt);

  // A second broadcast, withdrawn by its author before anyone decides: the approver's badge goes back to 0.
  const second = await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['99003'] }, startAt: new Date(air.getTime() + 3600_000).toISOString() }, op);
  t.equal(second.body.status, 'submitted');
  t.equal((await api('GET', '/api/v1/notifications/unread-count', undefined, approver)).body.unread, 1);
  t.equal((await api('POST', `/api/v1/broadcasts/${second.body.id}/cancel`, {}, op)).status, 200, 'the author withdraws it');
  t.equal((await api('GET', '/api/v1/notifications/unread-count', undefined, approver)).body.unread, 0, 'withdrawn: nothing waits');
  t.equal((await api('GET', '/api/v1/notifications/unread-count', undefined, op)).body.unread, 0, 'and the author is not told of their own withdrawal');
  t.same((await api('POST', '/api/v1/notifications/read-all', {}, op)).body, { unread: 0 });
  t.equal((await api('POST', '/api/v1/notifications/abc/read', {}, op)).status, 400);
  t.equal((await api('GET', '/api/v1/notifications')).status, 401, 'a login is needed');

  // A simulated box of Tân Lập: its amplifier fails.
  await s.server.notifications.service.idle();
  const pushesBefore = push.received.length;
  const sim = await startSimulation({
    serverUrl: s.base, count: 1, areaCode: '99003', stateFile: join(await tempDir(t, 'loaxa-notify-sim-'), 'sim.json'), logger: pino({ level: 'silent' }),
    username: 'admin', password: ADMIN_PASSWORD, startSpreadMs: 10, agentConfig: { faultPollMs: 50 },
  });
  t.teardown(() => sim.stop());
  t.equal(await sim.waitForConnections(15_000), 1);
  await waitFor('the box heard', async () => ((await api('GET', `/api/v1/devices/${sim.devices[0]!.id}`, undefined, token)).body.lastSeenAt ? true : null), 10_000);
  s.server.ctx.coverage.snapshot(); // the notifications learn Tân Lập's share: 1 of 1 working
  sim.boxes[0]!.board.inputs.ampFault = true;
  const fault = await waitFor('the operator told of the fault', async () => {
    const items = (await api('GET', '/api/v1/notifications?unread=true', undefined, op)).body.items as Array<{ kind: string; title: string; body: string }>;
    return items.find((i) => i.kind === 'fault') ?? null;
  }, 15_000);
  t.match(fault.title, /^Cụm loa .+: hỏng bộ khuếch đại$/);
  t.match(fault.body, /\(Xã Tân Lập\) báo hỏng bộ khuếch đại lúc \d\d:\d\d ngày \d\d\/\d\d\/\d{4} và không phát được/);
  t.equal((await api('GET', '/api/v1/notifications/unread-count', undefined, viewerElsewhere)).body.unread, 0, 'another commune’s user is not told');
  t.equal((await api('GET', '/api/v1/notifications?unread=true', undefined, approver)).body.items.filter((i: { kind: string }) => i.kind === 'fault').length, 0, 'the province hears of it as a coverage drop, not per box');

  s.server.ctx.coverage.snapshot();
  const drop = await waitFor('the province told of the coverage drop', async () => {
    const items = (await api('GET', '/api/v1/notifications?unread=true', undefined, approver)).body.items as Array<{ kind: string; title: string; body: string; link: string }>;
    return items.find((i) => i.kind === 'coverage') ?? null;
  }, 5_000);
  t.match(drop, { title: 'Độ phủ giảm: Xã Tân Lập', body: 'Xã Tân Lập chỉ còn 0/1 cụm loa hoạt động (0 %), dưới ngưỡng 50 %.', link: '/tong-quan' });
  s.server.ctx.coverage.snapshot();
  t.equal((await api('GET', '/api/v1/notifications?unread=true', undefined, approver)).body.items.filter((i: { kind: string }) => i.kind === 'coverage').length, 1, 'told once while it stays low');
  await s.server.notifications.service.idle();
  t.equal(push.received.length, pushesBefore + 1, 'the approver chose push for coverage drops and not for faults');
  t.match(JSON.parse(push.received.at(-1)!.text), { title: 'Độ phủ giảm: Xã Tân Lập', url: '/tong-quan' });
  t.equal(push.received.at(-1)!.urgency, 'high');
  const to = (addr: string) => smtp.mails.filter((m) => m.to[0] === addr).map((m) => decodeMail(m.raw).subject);
  t.same(to('duyet@tinh.example'), ['[Loa Xã] Chờ duyệt: “Lịch tiêm chủng tháng 12”', '[Loa Xã] Chờ duyệt: “Lịch tiêm chủng tháng 12”'], 'the two broadcasts waiting; the approver chose no e-mail for coverage drops');
  t.match(to('vanhanh@tanlap.example'), [/Bị từ chối/, /^\[Loa Xã\] Cụm loa .+: hỏng bộ khuếch đại$/], 'the operator is e-mailed the decision and the fault');
});

t.test('a push endpoint must be https on a public address unless the loopback stand-in is allowed', async (t) => {
  const s = await startTestServer(t);
  const sub = (endpoint: string) => ({ endpoint, keys: { p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 7)]).toString('base64url'), auth: Buffer.alloc(16, 1).toString('base64url') } });
  for (const endpoint of ['http://127.0.0.1:9/push/x', 'https://127.0.0.1/push/x', 'https://169.254.169.254/latest/meta-data', 'https://10.0.0.1/push', 'http://push.example.com/x', 'https://[::1]/push']) {
    const res = await s.api('POST', '/api/v1/notifications/push/subscribe', sub(endpoint), s.token);
    t.equal(res.status, 400, `${endpoint} refused`);
    t.match(res.body.error.message, /https|nội bộ/, 'in Vietnamese words');
  }
  const res = await s.api('POST', '/api/v1/notifications/push/subscribe', { ...sub('https://203.0.113.5/push/x'), keys: { p256dh: 'abc', auth: 'x' } }, s.token);
  t.equal(res.status, 400, 'keys that are not a P-256 point and a 16-byte secret are refused');
  t.equal((await s.api('GET', '/api/v1/notifications/preferences', undefined, s.token)).body.pushSubscriptions, 0, 'nothing saved');
  t.equal((await s.api('GET', '/api/v1/notifications/preferences', undefined, s.token)).body.emailAvailable, false, 'no SMTP server configured: no e-mail');
});
