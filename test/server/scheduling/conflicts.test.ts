import t from 'tap';
import { conflictOutcome, findConflicts, type ExistingOccurrence } from '../../../server/src/scheduling/conflicts.js';
import type { Priority } from '@loaxa/shared';

const MIN = 60_000;
const at = (hhmm: string): number => Date.parse(`2026-03-10T${hhmm}:00+07:00`);

t.test('outcome table, seen from the proposed broadcast', async (t) => {
  const table: [Priority, number, Priority, number, string][] = [
    // mine, mine start, other, other start → outcome
    ['priority', 5, 'normal', 0, 'interrupts'],
    ['emergency', 5, 'priority', 0, 'interrupts'],
    ['priority', 0, 'normal', 5, 'queues-before'],
    ['priority', 0, 'normal', 0, 'queues-before'],
    ['normal', 0, 'priority', 5, 'interrupted-by'],
    ['priority', 0, 'emergency', 5, 'interrupted-by'],
    ['normal', 5, 'priority', 0, 'queued-after'],
    ['normal', 0, 'emergency', 0, 'queued-after'],
    ['normal', 0, 'normal', 5, 'queues-before'],
    ['normal', 5, 'normal', 0, 'queued-after'],
    ['emergency', 5, 'emergency', 0, 'queued-after'],
    ['priority', 0, 'priority', 0, 'queued-after'],
  ];
  for (const [mp, ms, op, os, want] of table) {
    t.equal(conflictOutcome({ priority: mp, startAt: ms }, { priority: op, startAt: os }), want, `${mp}@${ms} vs ${op}@${os}`);
  }
});

t.test('overlaps per device', async (t) => {
  const news: ExistingOccurrence = { broadcastId: 'news', occurrenceAt: at('10:00'), durationMs: 10 * MIN, priority: 'normal' };
  const longMusic: ExistingOccurrence = { broadcastId: 'music', occurrenceAt: at('08:00'), durationMs: 120 * MIN, priority: 'normal' };
  const existing = {
    'spk-a': [news],
    'spk-b': [longMusic, { broadcastId: 'edit-me', occurrenceAt: at('09:50'), durationMs: 5 * MIN, priority: 'normal' as const }],
    'spk-c': [],
  };
  const got = findConflicts(
    { broadcastId: 'edit-me', priority: 'priority', durationMs: 10 * MIN, occurrences: [at('10:05'), at('09:50'), at('10:10')], deviceIds: ['spk-c', 'spk-b', 'spk-a', 'spk-z'] },
    existing,
  );
  t.same(got, [
    { deviceId: 'spk-a', occurrenceAt: at('10:05'), otherBroadcastId: 'news', otherOccurrenceAt: at('10:00'), overlapMs: 5 * MIN, outcome: 'interrupts' },
    { deviceId: 'spk-b', occurrenceAt: at('09:50'), otherBroadcastId: 'music', otherOccurrenceAt: at('08:00'), overlapMs: 10 * MIN, outcome: 'interrupts' },
  ], '09:50–10:00 meets news at 10:00 without overlap; 10:10 starts as news ends; own old occurrences are ignored');
});

t.test('equal and lower priority, half-open intervals', async (t) => {
  const other: ExistingOccurrence = { broadcastId: 'b', occurrenceAt: at('17:00'), durationMs: 30 * MIN, priority: 'priority' };
  const base = { broadcastId: 'a', durationMs: 20 * MIN, deviceIds: ['d1'] };
  const run = (priority: Priority, hhmm: string) => findConflicts({ ...base, priority, occurrences: [at(hhmm)] }, new Map([['d1', [other]]]));
  t.same(run('priority', '17:10').map((c) => [c.outcome, c.overlapMs]), [['queued-after', 20 * MIN]], 'equal priority queues, never interrupts');
  t.same(run('priority', '16:50').map((c) => [c.outcome, c.overlapMs]), [['queues-before', 10 * MIN]]);
  t.same(run('normal', '16:50').map((c) => [c.outcome, c.overlapMs]), [['interrupted-by', 10 * MIN]]);
  t.same(run('emergency', '17:29').map((c) => [c.outcome, c.overlapMs]), [['interrupts', 1 * MIN]]);
  t.same(run('emergency', '17:30'), [], 'starting as the other ends is no conflict');
  t.same(run('normal', '16:40'), [], 'ending as the other starts is no conflict');
});
