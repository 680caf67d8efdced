import t from 'tap';
import { communeCoverage, summarize, WORKING_WINDOW_MS, type CoverageDevice } from '../../../server/src/domain/coverage.js';

const now = 1_800_000_000_000;
const dev = (id: string, communeCode: string, o: Partial<CoverageDevice> = {}): CoverageDevice => ({ id, communeCode, lastSeenAt: now - 60_000, online: true, playing: false, openFaults: [], ...o });
const C = { code: '99001', name: 'A' };

t.test('a commune is working when one recently heard device has no blocking fault', async (t) => {
  t.same(communeCoverage(C, [], now), { ...C, installed: false, working: false, reason: 'no-device' });
  t.equal(communeCoverage(C, [dev('a', C.code, { lastSeenAt: now - WORKING_WINDOW_MS - 1, online: false })], now).reason, 'offline', 'heard 15 min + 1 ms ago');
  t.equal(communeCoverage(C, [dev('a', C.code, { lastSeenAt: now - WORKING_WINDOW_MS })], now).working, true, 'exactly 15 minutes still counts');
  t.equal(communeCoverage(C, [dev('a', C.code, { lastSeenAt: null })], now).reason, 'offline', 'never heard from');
  t.equal(communeCoverage(C, [dev('a', C.code, { openFaults: ['speaker-line'] })], now).reason, 'fault:speaker-line');
  t.equal(communeCoverage(C, [dev('a', C.code, { openFaults: ['disk', 'clock'] })], now).working, true, 'disk and clock faults do not block');
  t.equal(communeCoverage(C, [dev('a', C.code, { openFaults: ['power'] }), dev('b', C.code)], now).working, true, 'one healthy box is enough');
  t.equal(communeCoverage(C, [dev('a', C.code, { openFaults: ['amplifier'] }), dev('b', C.code, { openFaults: ['power', 'amplifier'] })], now).reason, 'fault:amplifier', 'the most common blocking fault');
});

t.test('summaries count communes and devices and list what is not covered', async (t) => {
  const communes = [C, { code: '99002', name: 'B' }, { code: '99003', name: 'C' }, { code: '99004', name: 'D' }];
  const s = summarize(communes, [dev('a', '99001', { playing: true }), dev('b', '99002', { online: false, lastSeenAt: now - 3600_000 }), dev('c', '99003', { openFaults: ['power'] })], now);
  t.same(s.communes, { total: 4, installed: 3, working: 1 });
  t.equal(s.installedPct, 75);
  t.equal(s.workingPct, 25);
  t.same(s.devices, { total: 3, online: 2, faulty: 1, playing: 1 });
  t.same(s.notCovered, [{ code: '99002', name: 'B', reason: 'offline' }, { code: '99003', name: 'C', reason: 'fault:power' }, { code: '99004', name: 'D', reason: 'no-device' }]);
  t.same(summarize([], [], now).workingPct, 0, 'no communes: 0, never NaN');
  t.equal(summarize([C, { code: '99002', name: 'B' }, { code: '99003', name: 'C' }], [dev('a', '99001')], now).workingPct, 33.33);
});
