/**
 * Issue 13, hostile review after the fix: what a broadcast's targets reveal and cost.
 * - A box of another commune named as a target answered "outside your area" (403) where a made-up id answered
 *   "unknown device" (400): device ids could be probed. Both are now "unknown device".
 * - A target naming one box 20,000 times made each visibility check of the broadcast cost 20,000 lookups: a
 *   box may be named once.
 * - A broadcast visible to a commune because the commune is one of its targets showed the boxes, deliveries
 *   and states of every other target: each caller sees its own boxes only.
 */
import t from 'tap';
import { securityServer } from './helpers.js';
import { waitFor } from '../helpers/wait.js';

t.test('targets: other communes’ boxes are unknown, a box is named once, and deliveries show only the caller’s boxes', async (t) => {
  const { api, token, login } = await securityServer(t);
  const boxes: Record<string, string> = {};
  for (const area of ['98001', '98002', '99003']) boxes[area] = (await api('POST', '/api/v1/devices', { name: `loa ${area}`, areaCode: area }, token)).body.id;
  const op = await login('operator', '98001');
  const viewer = await login('viewer', '98001');
  const bulletin = (await api('POST', '/api/v1/bulletins', { title: 'Thông báo', text: 'Thông báo của xã.' }, op.token)).body;
  await waitFor('synthesized', async () => ((await api('GET', `/api/v1/bulletins/${bulletin.id}`, undefined, op.token)).body.status === 'ready' ? true : null), 30_000);

  const foreign = await api('POST', '/api/v1/broadcasts/check', { bulletinId: bulletin.id, target: { deviceIds: [boxes['99003']] } }, op.token);
  const madeUp = await api('POST', '/api/v1/broadcasts/check', { bulletinId: bulletin.id, target: { deviceIds: ['spk-0000000000000000'] } }, op.token);
  t.equal(foreign.status, madeUp.status, 'another province’s box answers as a made-up id');
  t.same(foreign.body.error.fields, [{ path: 'target.deviceIds.0', message: 'unknown device' }]);
  t.equal(foreign.body.error.message.replace(boxes['99003']!, 'X'), madeUp.body.error.message.replace('spk-0000000000000000', 'X'), 'in the same words');

  const twice = await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { deviceIds: [boxes['98001'], boxes['98001']] } }, op.token);
  t.equal(twice.status, 400, 'a box named twice is refused');
  t.match(twice.body.error.message, /named twice/);

  // The province's (installation-wide) broadcast to both provinces: the commune sees it, with its own box only.
  const bcast = await api('POST', '/api/v1/broadcasts', { bulletinId: bulletin.id, target: { areaCodes: ['98', '99'], deviceIds: [boxes['98002'], boxes['98001']] }, startAt: new Date(Date.now() + 3600_000).toISOString() }, token);
  t.equal(bcast.status, 201);
  const seen = (await api('GET', `/api/v1/broadcasts/${bcast.body.id}`, undefined, viewer.token)).body;
  t.same(seen.deliveries.map((d: { deviceId: string }) => d.deviceId), [boxes['98001']], 'the commune’s viewer sees its own box’s delivery');
  t.same(seen.target.deviceIds, [boxes['98001']], 'and only its own box among the named targets');
  t.equal(Object.values(seen.summary as Record<string, number>).reduce((a, b) => a + b, 0), 1, 'the summary counts its box only');
  const listed = (await api('GET', '/api/v1/broadcasts?status=approved', undefined, viewer.token)).body.items.find((b: { id: string }) => b.id === bcast.body.id);
  t.same(listed.target.deviceIds, [boxes['98001']], 'the list shows the same');
  const all = (await api('GET', `/api/v1/broadcasts/${bcast.body.id}`, undefined, token)).body;
  t.equal(all.deliveries.length, 3, 'the installation-wide admin sees every box');
});
