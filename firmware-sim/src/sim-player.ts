/**
 * The simulated box's file player (issue 15, "the simulated player counts the seconds it actually decodes"):
 * it plays through an inner player (a NullPlayer, which takes the real time of the audio) and records, for
 * every file, when decoding started and ended in real time and whether it ran to its end. A test computes from
 * it the gaps between a programme's items (end of one to the audio of the next: issue 15 wants < 200 ms) and
 * the seconds actually decoded per item. Relays are counted by the box's sink (sim-box.ts), not here.
 */
import { NullPlayer, type Player, type PlayOptions } from '@loaxa/device-agent';

export interface DecodedFile {
  file: string;
  /** Real time (epoch ms, sub-millisecond) when the audio started: the inner player's onStart. */
  startedAt: number;
  /** When it stopped (ended, aborted or failed); null while it plays. */
  endedAt: number | null;
  /** Where in the file it started (an interrupted item resuming). */
  offsetMs: number;
  /** Ran to the end of the file. */
  completed: boolean;
}

/** Wall-clock milliseconds with the monotonic clock's resolution (gaps of a few ms must be measurable). */
const realNow = (): number => performance.timeOrigin + performance.now();

/** At most this many files are remembered (a long simulation must not grow without bound). */
const MAX_RECORDS = 10_000;

export class SimPlayer implements Player {
  readonly decoded: DecodedFile[] = [];

  constructor(private readonly inner: Player = new NullPlayer()) {}

  async play(file: string, opts: PlayOptions): Promise<void> {
    const found: { rec: DecodedFile | null } = { rec: null };
    try {
      await this.inner.play(file, {
        ...opts,
        onStart: () => {
          found.rec = { file, startedAt: realNow(), endedAt: null, offsetMs: Math.max(0, opts.offsetMs ?? 0), completed: false };
          this.decoded.push(found.rec);
          if (this.decoded.length > MAX_RECORDS) this.decoded.shift();
          opts.onStart?.();
        },
      });
      if (found.rec) found.rec.completed = true;
    } finally {
      if (found.rec) found.rec.endedAt = realNow();
    }
  }

  /** Milliseconds decoded per file (summed over its plays: an interrupted file resumed counts both parts). */
  decodedMs(file: string): number {
    return this.decoded.filter((d) => d.file === file && d.endedAt !== null).reduce((ms, d) => ms + (d.endedAt! - d.startedAt), 0);
  }

  /** Silence between consecutive files: the next one's start minus the previous one's end, in order. */
  gaps(): number[] {
    const out: number[] = [];
    for (let i = 1; i < this.decoded.length; i++) {
      const prev = this.decoded[i - 1]!;
      if (prev.endedAt !== null) out.push(this.decoded[i]!.startedAt - prev.endedAt);
    }
    return out;
  }
}
