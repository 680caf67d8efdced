/**
 * Review of issue 20's notifications: a browser's Web Push subscription is a capability.
 * - It is never moved to another user (anyone who learnt an endpoint could take someone's notifications away): 409.
 * - Its endpoint and keys are not kept in the audit log, which province admins read.
 * - A user changed by an admin (new password, role, area, disabled) stops getting pushes on every browser,
 *   as a lost phone must when its sessions are ended.
 */
import t from 'tap';
import { loadConfig } from '../../server/src/config.js';
import { importSampleAreas, startTestServer } from '../helpers/server.js';
import { userToken } from '../helpers/programmes.js';

const keys = { p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 7)]).toString('base64url'), auth: Buffer.alloc(16, 1).toString('base64url') };

t.test('a subscription stays its user’s, out of the audit log, and ends with the user’s sessions', async (t) => {
  const s = await startTestServer(t, { notifications: { ...loadConfig({}).notifications, pushAllowLoopback: true } });
  await importSampleAreas(s.api, s.token);
  const approver = await userToken(s.api, s.token, 'duyet.tinh', 'approver', '99');
  const operator = await userToken(s.api, s.token, 'vanhanh.xa', 'operator', '99003');
  const count = async (token: string) => (await s.api('GET', '/api/v1/notifications/preferences', undefined, token)).body.pushSubscriptions as number;
  const phone = 'http://127.0.0.1:9/push/approver-phone';
  t.equal((await s.api('POST', '/api/v1/notifications/push/subscribe', { endpoint: phone, keys }, approver)).status, 201);

  const taken = await s.api('POST', '/api/v1/notifications/push/subscribe', { endpoint: phone, keys }, operator);
  t.equal(taken.status, 409, 'another user cannot take the endpoint');
  t.match(taken.body.error.message, /người dùng khác/, 'said in Vietnamese');
  t.equal(await count(approver), 1, 'the approver keeps it');
  t.equal(await count(operator), 0);
  t.equal((await s.api('POST', '/api/v1/notifications/push/subscribe', { endpoint: phone, keys }, approver)).status, 201, 'its own user renews it');

  const audit = await s.api('GET', `/api/v1/audit?action=${encodeURIComponent('POST /api/v1/notifications/push/subscribe')}`, undefined, s.token);
  t.equal(audit.status, 200);
  t.ok(audit.body.items.length >= 2, 'the subscriptions are audited');
  const text = JSON.stringify(audit.body.items);
  t.notOk(text.includes('approver-phone') || text.includes(keys.auth) || text.includes(keys.p256dh), 'without the endpoint or the keys');

  const users = (await s.api('GET', '/api/v1/users?limit=100', undefined, s.token)).body.items as Array<{ id: string; username: string }>;
  const id = users.find((u) => u.username === 'duyet.tinh')!.id;
  t.equal((await s.api('PATCH', `/api/v1/users/${id}`, { password: 'another-long-password' }, s.token)).status, 200, 'an admin resets the password (a lost phone)');
  t.equal(s.server.notifications.repo.subscriptions(id).length, 0, 'no browser of that user gets pushes any more');
  t.equal((await s.api('GET', '/api/v1/notifications/preferences', undefined, approver)).status, 401, 'and the old session is over');
});
