/**
 * Issue 16 review: a live voice outlived its speaker's login — a logout (or a revoked session, the user disabled)
 * left the socket streaming to every box. Like the live-event stream (routes/events.ts), the operator's socket is
 * checked against the login it was opened with, at once on a sessions notice and at every ping: it closes, and the
 * airing ends as a dropped link does, the boxes stopping.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { securityServer } from './helpers.js';
import { waitFor } from '../helpers/wait.js';
import { makeSpeech, openOperator, speak } from '../helpers/live.js';

t.test('logging out ends the live voice the login was speaking', async (t) => {
  const s = await securityServer(t);
  await s.api('POST', '/api/v1/devices', { name: 'loa Tân Lập', areaCode: '99003' }, s.token);
  const operator = await s.login('operator', '99003');
  const dir = mkdtempSync(join(tmpdir(), 'loaxa-live-login-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const made = await s.api('POST', '/api/v1/live', { target: { areaCodes: ['99003'] } }, operator.token);
  t.equal(made.status, 201, 'on air', { body: made.body });
  const op = await openOperator(s.base, made.body.audioPath, { bearer: operator.token });
  const speaking = speak(op, makeSpeech(dir, { durationMs: 8_000 })).catch(() => undefined);

  await waitFor('the voice on air', async () => ((await s.api('GET', `/api/v1/live/${made.body.id}`, undefined, s.token)).body.state === 'on-air' ? true : null), 10_000);
  t.equal((await s.api('POST', '/api/v1/auth/logout', {}, operator.token)).status, 204, 'the speaker’s login ends');
  const closed = await Promise.race([op.closed, new Promise<null>((r) => setTimeout(() => r(null), 5_000))]);
  t.ok(closed, 'the socket closes within seconds');
  t.equal(closed?.code, 4001, 'saying why');
  const ended = await waitFor('the airing to end', async () => {
    const r = (await s.api('GET', `/api/v1/live/${made.body.id}`, undefined, s.token)).body;
    return r.state === 'ended' ? r : null;
  }, 10_000);
  t.equal(ended.endReason, 'link-dropped', 'ended as a dropped link: the boxes play what they hold and stop');
  op.ws.terminate();
  await speaking;
});
