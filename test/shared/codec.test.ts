import t from 'tap';
import { encodeMessage, decodeMessage, encodeResponse, decodeResponse, canTransition, ErrorCode, MAX_MESSAGE_BYTES } from '@loaxa/shared';

const play = {
  broadcastId: 'bc-1',
  occurrenceAt: 1_800_000_000_000,
  priority: 'normal' as const,
  media: { sha256: 'a'.repeat(64), url: 'http://127.0.0.1:8080/media/' + 'a'.repeat(64), durationMs: 4000 },
  startAt: 1_800_000_000_000,
  windowMs: 300_000,
};

t.test('round-trips a command in the v1 envelope', async (t) => {
  const raw = encodeMessage('play', play, { expiresAt: 1_800_000_300_000 });
  const env = JSON.parse(raw);
  t.equal(env.v, 1);
  t.match(env.id, /^[0-9a-f-]{36}$/);
  t.equal(env.type, 'play');
  t.type(env.ts, 'number');
  const back = decodeMessage(raw, ['play']);
  t.ok(back.ok);
  if (back.ok) t.same(back.value.payload, play);
});

t.test('refuses to send an invalid message', async (t) => {
  t.throws(() => encodeMessage('set-volume', { volume: 101 }), /refusing to send an invalid set-volume/);
  t.throws(() => encodeMessage('play', { ...play, broadcastId: 'BAD/ID' }), /broadcastId/);
});

t.test('decoding garbage yields an error value, never a throw', async (t) => {
  const cases: Array<[string | Buffer, ErrorCode]> = [
    ['not json', ErrorCode.BAD_MESSAGE],
    ['[]', ErrorCode.BAD_MESSAGE],
    ['{"v":2,"id":"x","type":"play","ts":1,"payload":{}}', ErrorCode.BAD_MESSAGE],
    [JSON.stringify({ v: 1, id: '3b241101-e2bb-4255-8caf-4136c566a962', type: 'reboot', ts: 1, payload: {} }), ErrorCode.UNKNOWN_TYPE],
    [JSON.stringify({ v: 1, id: '3b241101-e2bb-4255-8caf-4136c566a962', type: 'play', ts: 1, payload: { broadcastId: 'x' } }), ErrorCode.BAD_MESSAGE],
    [Buffer.alloc(MAX_MESSAGE_BYTES + 1, 32), ErrorCode.BAD_MESSAGE],
    [Buffer.from([0xff, 0xfe, 0x00]), ErrorCode.BAD_MESSAGE],
  ];
  for (const [raw, code] of cases) {
    const r = decodeMessage(raw);
    t.notOk(r.ok);
    if (!r.ok) t.equal(r.error.code, code, Buffer.isBuffer(raw) ? `${raw.length} raw bytes` : raw.slice(0, 40));
  }
  const bad = decodeMessage(JSON.stringify({ v: 1, id: '3b241101-e2bb-4255-8caf-4136c566a962', type: 'play', ts: 1, payload: {} }));
  t.equal(!bad.ok && bad.error.id, '3b241101-e2bb-4255-8caf-4136c566a962', 'the id is kept so the error can be answered');
});

t.test('a message of the wrong type for its topic is refused', async (t) => {
  const raw = encodeMessage('set-volume', { volume: 10 });
  const r = decodeMessage(raw, ['status']);
  t.equal(!r.ok && r.error.code, ErrorCode.UNKNOWN_TYPE);
});

t.test('answers carry the request id and are checked against the command', async (t) => {
  const id = '3b241101-e2bb-4255-8caf-4136c566a962';
  const ok = decodeResponse(encodeResponse(id, { ok: true, data: { volume: 40 } }, 'set-volume'), 'set-volume');
  t.ok(ok.ok && ok.value.re === id && ok.value.ok);
  const err = decodeResponse(encodeResponse(id, { ok: false, error: { code: ErrorCode.EXPIRED, message: 'too late' } }));
  t.ok(err.ok && !err.value.ok && err.value.error.code === ErrorCode.EXPIRED);
  t.throws(() => encodeResponse(id, { ok: true, data: { volume: 400 } } as never, 'set-volume'));
  t.notOk(decodeResponse(JSON.stringify({ v: 1, re: id, ts: 1, ok: true, data: { volume: 'loud' } }), 'set-volume').ok);
});

t.test('delivery states only move forward and end in a terminal state', async (t) => {
  t.ok(canTransition('queued', 'sent'));
  t.ok(canTransition('sent', 'cached'), 'a lost acknowledged report may be skipped');
  t.ok(canTransition('playing', 'played'));
  t.ok(canTransition('cached', 'failed'));
  t.notOk(canTransition('played', 'playing'), 'a late report never moves a delivery back');
  t.notOk(canTransition('playing', 'cached'));
  t.notOk(canTransition('failed', 'played'), 'terminal is final');
  t.notOk(canTransition('played', 'played'), 'a repeat is not a transition');
});
