import t from 'tap';
import { JobSlots } from '../../server/src/national/downlink/job-slots.js';
import { withoutUserinfo } from '../../server/src/national/link/link-service.js';

t.test('audio jobs: a few per parent and in all, a bounded queue, then refused', async (t) => {
  const slots = new JobSlots({ perPeer: 2, total: 3, queuePerPeer: 1, queueTotal: 2 });
  const a1 = slots.tryEnter('a')!;
  const a2 = slots.tryEnter('a')!;
  const a3 = slots.tryEnter('a')!; // waits: a has 2 running
  t.equal(slots.tryEnter('a'), null, 'a’s queue is full: refused');
  const b1 = slots.tryEnter('b')!; // runs: 3 in all
  const b2 = slots.tryEnter('b')!; // waits: 3 in all
  t.equal(slots.tryEnter('c'), null, 'the queue in all is full: refused');
  t.equal(slots.running, 3);
  let a3ran = false;
  void a3.ready.then(() => (a3ran = true));
  let b2ran = false;
  void b2.ready.then(() => (b2ran = true));
  a1.release();
  a1.release(); // idempotent
  await new Promise((r) => setImmediate(r));
  t.ok(a3ran, 'a’s waiting job runs when one of a’s ends');
  t.notOk(b2ran, 'b’s waits for a slot in all');
  b2.release(); // gives up its place
  a2.release();
  a3.release();
  b1.release();
  t.equal(slots.running, 0, 'nothing leaks');
  t.notOk(b2ran, 'a place given up never runs');
});

t.test('the upstream URL is shown without its credentials', async (t) => {
  t.equal(withoutUserinfo('https://user:secret@tinh.example.vn/api'), 'https://tinh.example.vn/api');
  t.equal(withoutUserinfo('https://tinh.example.vn/api'), 'https://tinh.example.vn/api');
});
