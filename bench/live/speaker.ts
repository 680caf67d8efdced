/**
 * bench:live's speaker (issue 16), a child process of bench/live/main.ts: the operator's side as the browser
 * does it — the WebSocket `audioPath` with a bearer token, `{"type":"start","mimeType":"audio/webm;codecs=opus"}`,
 * then a recording's WebM clusters (100 ms each, MediaRecorder's timeslice) one a chunk at real-time pace.
 * Its own process so that nothing the orchestrator does (decoding the reference, reading the listeners'
 * results) can hold a chunk back: a late chunk would be the bench's stall, heard as the server's.
 *
 * argv: base, audioPath, token, webm file. Reports `{type:'speaking', t0}` (epoch ms of the recording's first
 * sample: chunk k leaves at t0 + (k + 1) × 100 ms, as a recorder hands it over) and `{type:'done', late}` (the
 * most any chunk left after its time, ms). `{type:'stop'}` from the parent sends the stop and closes.
 */
import { readFileSync } from 'node:fs';
import { openOperator, splitClusters } from '../../test/helpers/live.js';

export type FromSpeaker = { type: 'speaking'; t0: number } | { type: 'done'; lateMaxMs: number; lateChunks: number; lateAt: number[]; chunks: number; closed: string } | { type: 'failed'; why: string };
export type ToSpeaker = { type: 'stop' };

async function speakerMain(base: string, audioPath: string, token: string, file: string): Promise<void> {
  const chunks = splitClusters(readFileSync(file));
  const op = await openOperator(base, audioPath, { bearer: token });
  let stopped = false;
  let closed = '';
  void op.closed.then((c) => {
    closed = `${c.code} ${c.reason}`;
    stopped = true;
  });
  process.on('message', (m: ToSpeaker) => {
    if (m.type === 'stop' && !stopped) {
      stopped = true;
      op.ws.send(JSON.stringify({ type: 'stop' }));
    }
  });
  op.ws.send(JSON.stringify({ type: 'start', mimeType: 'audio/webm;codecs=opus' }));
  const t0 = performance.timeOrigin + performance.now();
  process.send!({ type: 'speaking', t0 } satisfies FromSpeaker);
  let lateMaxMs = 0;
  /** Chunks that left more than 50 ms after their time: the process was held up (a hiccup every box hears). */
  let lateChunks = 0;
  /** When they were due (epoch ms, the first 200): a dropout of every box just after one is the speaker's. */
  const lateAt: number[] = [];
  let k = 0;
  for (; k < chunks.length && !stopped; k++) {
    const due = t0 + (k + 1) * 100;
    const wait = due - (performance.timeOrigin + performance.now());
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const late = performance.timeOrigin + performance.now() - due;
    lateMaxMs = Math.max(lateMaxMs, late);
    if (late > 50) {
      lateChunks++;
      if (lateAt.length < 200) lateAt.push(due);
    }
    op.ws.send(chunks[k]!);
  }
  if (!stopped) op.ws.send(JSON.stringify({ type: 'stop' }));
  await Promise.race([op.closed, new Promise((r) => setTimeout(r, 10_000))]);
  process.send!({ type: 'done', lateMaxMs: Math.round(lateMaxMs), lateChunks, lateAt, chunks: k, closed } satisfies FromSpeaker);
}

if (process.argv.includes('--speaker')) {
  const [base, audioPath, token, file] = process.argv.slice(process.argv.indexOf('--speaker') + 1);
  process.on('disconnect', () => process.exit(0));
  speakerMain(base!, audioPath!, token!, file!).then(
    () => process.exit(0),
    (err: unknown) => {
      process.send?.({ type: 'failed', why: err instanceof Error ? err.message : String(err) } satisfies FromSpeaker);
      process.exit(1);
    },
  );
}
