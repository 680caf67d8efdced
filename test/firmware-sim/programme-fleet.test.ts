// The fleet's load-test box decodes no audio: a programme is "played" as a timer of its items in turn (issue 15),
// a relay segment until its fixed end (`endsAt`) or for `durationMs`, so the bench's delivery times stay true.
import t from 'tap';
import { programmeMs } from '@loaxa/firmware-sim';

const media = (durationMs: number): { sha256: string; url: string; durationMs: number } => ({ sha256: 'a'.repeat(64), url: 'http://127.0.0.1/media/a', durationMs });

t.test('a programme lasts its files, pauses and relay segments in turn', async (t) => {
  const now = 1_000_000;
  const programme = (items: NonNullable<Parameters<typeof programmeMs>[0]['programme']>['items']) => ({ programme: { programmeId: 'p', version: 1, items } });
  t.equal(programmeMs(programme([{ index: 0, kind: 'bulletin', media: media(1_500) }, { index: 1, kind: 'pause', pauseMs: 500 }]), now), 2_000);
  t.equal(programmeMs(programme([{ index: 0, kind: 'chime', media: media(1_000) }, { index: 1, kind: 'relay', stream: { sourceId: 's', urls: ['http://x/'], durationMs: 60_000 } }]), now), 61_000);
  t.equal(programmeMs(programme([{ index: 0, kind: 'relay', stream: { sourceId: 's', urls: ['http://x/'], endsAt: now + 30_000 } }, { index: 1, kind: 'music', media: media(2_000) }]), now), 32_000, 'until a time of day, then the rest');
  t.equal(programmeMs(programme([{ index: 0, kind: 'bulletin', media: media(40_000) }, { index: 1, kind: 'relay', stream: { sourceId: 's', urls: ['http://x/'], endsAt: now + 30_000 } }]), now), 40_000, 'a segment whose end passed adds nothing');
  t.equal(programmeMs({}, now), 0);
});
