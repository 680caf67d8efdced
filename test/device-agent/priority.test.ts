import t from 'tap';
import { interrupts, pickNext } from '@loaxa/device-agent';

t.test('Circular 39 arbitration: higher interrupts lower, equal never interrupts', async (t) => {
  t.ok(interrupts('emergency', 'normal'));
  t.ok(interrupts('emergency', 'priority'));
  t.ok(interrupts('priority', 'normal'));
  t.notOk(interrupts('emergency', 'emergency'));
  t.notOk(interrupts('priority', 'priority'));
  t.notOk(interrupts('normal', 'normal'));
  t.notOk(interrupts('normal', 'emergency'));
  t.notOk(interrupts('priority', 'emergency'));
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
});
