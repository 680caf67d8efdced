import t from 'tap';
import { can, canOpen, homeFor, navFor, needsApproval, ROUTES, type Action } from '../../web/src/logic/roles.js';
import { matchPath, PATHS, broadcastPath } from '../../web/src/logic/routes.js';
import type { Role } from '../../web/src/api/types.js';

const WRITES: Action[] = ['compose', 'schedule', 'approve', 'offer-act', 'cancel-broadcast', 'manage-users'];

t.test('approve and reject only for province admins and approvers', async (t) => {
  t.ok(can('province-admin', 'approve'));
  t.ok(can('approver', 'approve'));
  t.notOk(can('operator', 'approve'));
  t.notOk(can('viewer', 'approve'));
  t.same(navFor('operator').includes('approvals'), false, 'operators see no approval queue');
  t.ok(needsApproval('operator'));
  t.notOk(needsApproval('approver'));
});

t.test('viewers see no action that writes, and no page that only writes', async (t) => {
  for (const a of WRITES) t.notOk(can('viewer', a), `viewer cannot ${a}`);
  t.same(navFor('viewer'), ['dashboard', 'warnings', 'library', 'calendar', 'broadcasts', 'inbox', 'devices', 'sources', 'reports', 'notifications']);
  t.notOk(canOpen('viewer', 'compose'));
  t.equal(homeFor('viewer'), 'dashboard');
});

t.test('operators start at composing, the province at the dashboard; only admins manage users', async (t) => {
  t.equal(homeFor('operator'), 'compose');
  t.equal(homeFor('province-admin'), 'dashboard');
  t.equal(homeFor('approver'), 'dashboard');
  const roles: Role[] = ['province-admin', 'approver', 'operator', 'viewer'];
  t.same(roles.filter((r) => can(r, 'manage-users')), ['province-admin']);
  for (const r of roles) for (const route of navFor(r)) t.ok(canOpen(r, route), `${r} can open ${route} it is shown`);
  t.same(navFor('province-admin').slice().sort(), [...ROUTES].sort(), 'the admin sees every page');
});

t.test('paths round-trip', async (t) => {
  for (const [route, path] of Object.entries(PATHS)) t.same(matchPath(path), { route, params: {} });
  t.same(matchPath(broadcastPath('bc-123')), { route: 'broadcast', params: { id: 'bc-123' } });
  t.same(matchPath('/'), { route: 'home' });
  t.same(matchPath('/khong-co'), { route: 'not-found' });
  t.same(matchPath('/luot-phat/../etc'), { route: 'not-found' });
});
