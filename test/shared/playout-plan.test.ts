import t from 'tap';
import { planPlayout, outranks, type PlayoutItem, type Priority, type ResumeMode } from '@loaxa/shared';

const P: Record<string, Priority> = { N: 'normal', P: 'priority', E: 'emergency' };
/** `N1@0+100` = normal item N1 starting at 0 for 100 ms; `/r` suffix = restart instead of resume. */
function items(spec: string): PlayoutItem[] {
  return spec.split(' ').map((s) => {
    const m = /^([NPE])(\w*)@(\d+)\+(\d+)(\/r)?$/.exec(s);
    if (!m) throw new Error(s);
    const resumeMode: ResumeMode = m[5] ? 'restart' : 'resume';
    return { id: `${m[1]}${m[2]}`, priority: P[m[1] as string] as Priority, startAt: Number(m[3]), durationMs: Number(m[4]), resumeMode };
  });
}
/** Segments as `id start-end [fromOffset-toOffset]`. */
const segs = (spec: string): string[] => planPlayout(items(spec)).segments.map((s) => `${s.id} ${s.startAt}-${s.endAt} [${s.fromOffsetMs}-${s.toOffsetMs}]`);

t.test('who may interrupt whom (Circular 39)', async (t) => {
  const table: [Priority, Priority, boolean][] = [
    ['emergency', 'normal', true], ['emergency', 'priority', true], ['emergency', 'emergency', false],
    ['priority', 'normal', true], ['priority', 'priority', false], ['priority', 'emergency', false],
    ['normal', 'normal', false], ['normal', 'priority', false], ['normal', 'emergency', false],
  ];
  for (const [a, b, yes] of table) t.equal(outranks(a, b), yes, `${a} over ${b}`);
});

t.test('playout plans', async (t) => {
  const table: { name: string; spec: string; want: string[] }[] = [
    { name: 'a lone item plays as scheduled', spec: 'N@0+100', want: ['N 0-100 [0-100]'] },
    { name: 'equal normal items queue by start time', spec: 'N2@10+50 N1@0+100', want: ['N1 0-100 [0-100]', 'N2 100-150 [0-50]'] },
    { name: 'equal priority never interrupts', spec: 'P1@0+100 P2@10+10', want: ['P1 0-100 [0-100]', 'P2 100-110 [0-10]'] },
    { name: 'an emergency does not interrupt an emergency', spec: 'E1@0+50 E2@10+20', want: ['E1 0-50 [0-50]', 'E2 50-70 [0-20]'] },
    { name: 'a normal item never interrupts', spec: 'P@0+100 N@10+10', want: ['P 0-100 [0-100]', 'N 100-110 [0-10]'] },
    {
      name: 'priority interrupts normal, which resumes where it stopped',
      spec: 'N@0+100 P@30+20', want: ['N 0-30 [0-30]', 'P 30-50 [0-20]', 'N 50-120 [30-100]'],
    },
    {
      name: 'a restart item starts again from the beginning',
      spec: 'N@0+100/r P@30+20', want: ['N 0-30 [0-30]', 'P 30-50 [0-20]', 'N 50-150 [0-100]'],
    },
    {
      name: 'emergency interrupts a priority item that interrupted a normal one',
      spec: 'N@0+100 P@10+50 E@20+10',
      want: ['N 0-10 [0-10]', 'P 10-20 [0-10]', 'E 20-30 [0-10]', 'P 30-70 [10-50]', 'N 70-160 [10-100]'],
    },
    {
      name: 'the interrupted item resumes before a later equal item that was waiting',
      spec: 'N1@0+100 N2@10+10 P@20+10',
      want: ['N1 0-20 [0-20]', 'P 20-30 [0-10]', 'N1 30-110 [20-100]', 'N2 110-120 [0-10]'],
    },
    {
      name: 'higher priority goes first among waiting items',
      spec: 'E@0+50 N@10+10 P@20+10', want: ['E 0-50 [0-50]', 'P 50-60 [0-10]', 'N 60-70 [0-10]'],
    },
    { name: 'same start: the emergency plays first, nothing is interrupted', spec: 'N@0+10 E@0+10', want: ['E 0-10 [0-10]', 'N 10-20 [0-10]'] },
    { name: 'an item ending as an emergency starts is not interrupted', spec: 'N@0+10 E@10+10', want: ['N 0-10 [0-10]', 'E 10-20 [0-10]'] },
    { name: 'idle gaps stay idle', spec: 'N1@0+10 N2@100+10', want: ['N1 0-10 [0-10]', 'N2 100-110 [0-10]'] },
    {
      name: 'interrupted twice, resumed twice',
      spec: 'N@0+100 P1@10+10 P2@50+10',
      want: ['N 0-10 [0-10]', 'P1 10-20 [0-10]', 'N 20-50 [10-40]', 'P2 50-60 [0-10]', 'N 60-120 [40-100]'],
    },
  ];
  for (const row of table) t.same(segs(row.spec), row.want, row.name);
});

t.test('interruptions say when and how the item comes back', async (t) => {
  const resume = planPlayout(items('N@0+100 P@30+20'));
  t.same(resume.interruptions, [{ id: 'N', at: 30, byId: 'P', stoppedAtOffsetMs: 30, resumeMode: 'resume', resumeAt: 50, resumeFromOffsetMs: 30 }]);
  t.same(resume.items.N, { firstStartAt: 0, endAt: 120, delayMs: 0 });
  t.same(resume.items.P, { firstStartAt: 30, endAt: 50, delayMs: 0 });
  const restart = planPlayout(items('N@0+100/r P@30+20'));
  t.same(restart.interruptions, [{ id: 'N', at: 30, byId: 'P', stoppedAtOffsetMs: 30, resumeMode: 'restart', resumeAt: 50, resumeFromOffsetMs: 0 }]);
  t.same(planPlayout(items('N1@0+100 N2@10+50')).items.N2, { firstStartAt: 100, endAt: 150, delayMs: 90 }, 'queued items report their delay');
  t.same(planPlayout(items('N@0+10 E@0+10')).interruptions, [], 'waiting is not being interrupted');
});

t.test('invariants over pseudo-random device loads', async (t) => {
  let seed = 42;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (let round = 0; round < 200; round++) {
    const list: PlayoutItem[] = Array.from({ length: 1 + rnd(8) }, (_, i) => ({
      id: `i${i}`, priority: (['normal', 'priority', 'emergency'] as const)[rnd(3)] as Priority,
      startAt: rnd(500), durationMs: 1 + rnd(200), resumeMode: rnd(2) ? 'resume' : 'restart',
    }));
    const plan = planPlayout(list);
    for (let i = 1; i < plan.segments.length; i++) {
      if ((plan.segments[i] as { startAt: number }).startAt < (plan.segments[i - 1] as { endAt: number }).endAt) t.fail(`overlap in round ${round}`);
    }
    for (const it of list) {
      const own = plan.segments.filter((s) => s.id === it.id);
      if (own[0]!.startAt < it.startAt) t.fail('played before its start');
      if (own.at(-1)!.toOffsetMs !== it.durationMs) t.fail('did not play to the end');
    }
    for (const x of plan.interruptions) {
      const a = list.find((i) => i.id === x.id)!;
      const b = list.find((i) => i.id === x.byId)!;
      if (!outranks(b.priority, a.priority)) t.fail(`${b.priority} interrupted ${a.priority}`);
    }
  }
  t.pass('200 rounds');
});

t.test('bad input is refused', async (t) => {
  t.throws(() => planPlayout(items('N@0+10 N@5+10')), RangeError, 'duplicate ids');
  t.throws(() => planPlayout([{ id: 'x', priority: 'normal', startAt: 0, durationMs: 0, resumeMode: 'resume' }]), RangeError);
  t.same(planPlayout([]), { segments: [], interruptions: [], items: {} });
});
