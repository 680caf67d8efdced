import t from 'tap';
import {
  PRIORITIES, compareContenders, mayBeDeclined, needsAcceptance, outranks, pickNext, playsAtOnce, priorityRank, queueOrder, sameRank,
} from '@loaxa/shared';

t.test('Circular 39 arbitration: higher interrupts lower, equal never interrupts', async (t) => {
  t.ok(outranks('emergency', 'normal'));
  t.ok(outranks('emergency', 'priority'));
  t.ok(outranks('priority', 'normal'));
  t.notOk(outranks('emergency', 'emergency'));
  t.notOk(outranks('priority', 'priority'));
  t.notOk(outranks('normal', 'normal'));
  t.notOk(outranks('normal', 'emergency'));
  t.notOk(outranks('priority', 'emergency'));
  for (const a of PRIORITIES) {
    for (const b of PRIORITIES) t.equal(sameRank(a, b), !outranks(a, b) && !outranks(b, a), `${a} and ${b}: same rank exactly when neither interrupts`);
  }
  t.ok(priorityRank('emergency') > priorityRank('priority') && priorityRank('priority') > priorityRank('normal'));
});

t.test('the next waiting item: priority, then start time, then arrival', async (t) => {
  const w = [
    { id: 'a', priority: 'normal' as const, startAt: 100, seq: 0 },
    { id: 'b', priority: 'priority' as const, startAt: 300, seq: 1 },
    { id: 'c', priority: 'priority' as const, startAt: 200, seq: 2 },
    { id: 'd', priority: 'priority' as const, startAt: 200, seq: 3 },
  ];
  t.equal(pickNext(w)?.id, 'c');
  t.equal(pickNext(w.slice(0, 1))?.id, 'a');
  t.equal(pickNext([]), undefined);
  t.ok(queueOrder({ priority: 'emergency', startAt: 900 }, { priority: 'normal', startAt: 0 }) < 0, 'rank before start time');
  t.equal(queueOrder({ priority: 'normal', startAt: 5 }, { priority: 'normal', startAt: 5 }), 0, 'no tie-breaker of its own');
  t.ok(compareContenders({ priority: 'normal', startAt: 5, seq: 'a' }, { priority: 'normal', startAt: 5, seq: 'b' }) < 0, 'ids break ties too');
});

t.test('what an emergency and a normal item mean for the rest of the system', async (t) => {
  t.same(PRIORITIES.filter(playsAtOnce), ['emergency'], 'only an emergency plays at once');
  t.same(PRIORITIES.filter(needsAcceptance), ['normal'], 'only a normal offer waits for the commune to accept it');
  t.same(PRIORITIES.filter(mayBeDeclined), ['normal'], 'only a normal offer may be declined');
});
