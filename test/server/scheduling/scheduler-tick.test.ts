/**
 * The scheduler's relative tick on a hand-moved clock (test/helpers/clock.ts): a pass runs at start and then
 * every `tickMs`, with the clock it was given, and no more once stopped — without sleeping for any of it.
 */
import t from 'tap';
import { pino } from 'pino';
import { Scheduler, type SchedulerDeps } from '../../../server/src/services/scheduler.js';
import { fakeClock } from '../../helpers/clock.js';

function setup() {
  const clock = fakeClock(Date.parse('2026-03-10T04:00:00+07:00'));
  const passes: number[] = [];
  const expired: Array<{ id: string; since: number }> = [];
  const offer = { id: 'of-1', priority: 'normal' as const, status: 'pending' as const, since: clock.now(), expiresAt: clock.now() + 45_000 };
  const deps = {
    broadcasts: { active: () => [] },
    devices: {},
    areas: {},
    delivery: { dispatchDue: async () => void passes.push(clock.now()), expireOverdue: () => 0 },
    offers: {
      due: (now: number) => (expired.length === 0 && offer.expiresAt <= now ? [offer] : []),
      update: (id: string, change: { since: number }) => void expired.push({ id, since: change.since }),
    },
    logger: pino({ level: 'silent' }),
    now: clock.now,
    schedule: clock.schedule,
    tickMs: 30_000,
  } as unknown as SchedulerDeps;
  return { clock, passes, expired, scheduler: new Scheduler(deps) };
}

t.test('a pass at start, then one every tick, on the clock it was given', async (t) => {
  const { clock, passes, expired, scheduler } = setup();
  const start = clock.now();
  await scheduler.start();
  t.same(passes, [start], 'the first pass at start');
  clock.advance(29_999);
  await scheduler.tick(); // an explicit pass between ticks (after a change) does not move the beat
  t.same(passes, [start, start + 29_999]);
  clock.advance(1);
  await scheduler.tick();
  t.same(passes.slice(2), [start + 30_000], 'the tick fires at tickMs');
  t.same(expired, [], 'the offer has not reached its expiry');
  clock.advance(30_000);
  await scheduler.tick();
  t.same(expired, [{ id: 'of-1', since: start + 60_000 }], 'the tick after its expiry expires it, at the tick’s instant');
  scheduler.stop();
  t.equal(clock.pending(), 0, 'stopped: no tick left armed');
  const before = passes.length;
  clock.advance(120_000);
  t.equal(passes.length, before, 'and none runs');
});
