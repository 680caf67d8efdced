import t from 'tap';
import { CheckedPayload, encodeAgenda, encodeMessage, decodeMessage } from '@loaxa/shared';

const play = {
  broadcastId: 'bc-1',
  occurrenceAt: 1_800_000_000_000,
  priority: 'emergency' as const,
  // Keys out of schema order on purpose: the output follows the schema, as encodeMessage's does.
  media: { url: 'http://127.0.0.1:8080/media/' + 'a'.repeat(64), sha256: 'a'.repeat(64), durationMs: 4000, bytes: 1234 },
  startAt: 1_800_000_000_000,
  windowMs: 300_000,
  title: 'Báo động "khẩn"',
  resume: 'restart' as const,
};
const id = '3b241101-e2bb-4255-8caf-4136c566a962';
const id2 = '0a67e910-3877-5fe5-8a67-e9103877afe5';

t.test('a payload checked once is sent in many envelopes, each exactly what encodeMessage writes', async (t) => {
  const checked = new CheckedPayload('play', play);
  const opts = { id, ts: 1_800_000_000_123, expiresAt: 1_800_000_300_000 };
  t.equal(checked.envelope(opts), encodeMessage('play', play, opts));
  t.equal(checked.envelope({ id, ts: 5 }), encodeMessage('play', play, { id, ts: 5 }), 'without expiresAt');
  const fresh = decodeMessage(checked.envelope(), ['play']);
  t.ok(fresh.ok && fresh.value.id !== id, 'a new id when none is given');
  t.throws(() => new CheckedPayload('play', { ...play, broadcastId: 'BAD/ID' }), /refusing to send an invalid play/);
});

t.test('an agenda of checked items is exactly what encodeMessage writes', async (t) => {
  const a = new CheckedPayload('play', play);
  const b = new CheckedPayload('play', { ...play, broadcastId: 'bc-2', priority: 'normal', title: undefined } as never);
  const items = [{ play: a, commandId: id }, { play: b, commandId: id2 }];
  const plain = { version: 3, generatedAt: 1_800_000_000_000, items: [{ ...play, commandId: id }, { ...play, broadcastId: 'bc-2', priority: 'normal' as const, title: undefined, commandId: id2 }] };
  t.equal(encodeAgenda({ version: 3, generatedAt: 1_800_000_000_000, items }, { id, ts: 7 }), encodeMessage('sync-agenda', plain as never, { id, ts: 7 }));
  t.equal(encodeAgenda({ version: 1, generatedAt: 1, items: [] }, { id, ts: 7 }), encodeMessage('sync-agenda', { version: 1, generatedAt: 1, items: [] }, { id, ts: 7 }), 'an empty agenda');
  t.ok(decodeMessage(encodeAgenda({ version: 3, generatedAt: 1, items }), ['sync-agenda']).ok);
  t.throws(() => encodeAgenda({ version: -1, generatedAt: 1, items }), /invalid sync-agenda/);
  t.throws(() => encodeAgenda({ version: 1, generatedAt: 1, items: [{ play: a, commandId: 'not-a-uuid' }] }), /not a UUID/);
});
