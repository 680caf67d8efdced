/**
 * Encoding and decoding of wire messages. Receivers get `{ok:false, error}` instead of an exception
 * (STYLE.md habit 6), so one malformed payload can never take a handler down.
 */
import { randomUUID } from 'node:crypto';
import {
  agendaItemSchema,
  envelopeSchema,
  messageCatalog,
  syncAgendaPayloadSchema,
  responseSchema,
  responseDataCatalog,
  type CommandType,
  type Envelope,
  type MessageType,
  type Payload,
  type Response,
  type ResponseData,
} from './messages.js';
import { ErrorCode } from './errors.js';
import { FAST_PAYLOAD_CHECKS, fastEnvelope } from './fast-check.js';

/** MQTT payloads larger than this are refused before JSON parsing (an agenda of 10,000 items fits). */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** syncAgendaPayloadSchema's limit on items. */
const MAX_AGENDA_ITEMS = 10_000;

export interface DecodeError {
  code: ErrorCode;
  message: string;
  /** The envelope id when it could be read, so the error can be answered on `res`. */
  id?: string;
  type?: string;
}

/**
 * `payloadJson`, from decodeMessage only: the payload's own JSON text, when it could be cut out of the
 * message exactly (see `payloadText`), for a receiver that stores it as JSON without serializing it again.
 */
export type Decoded<T> = { ok: true; value: T; payloadJson?: string } | { ok: false; error: DecodeError };

function zodMessage(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

export function createEnvelope<T extends MessageType>(
  type: T,
  payload: Payload<T>,
  opts: { id?: string; ts?: number; expiresAt?: number } = {},
): Envelope<T> {
  const parsed = messageCatalog[type].safeParse(payload);
  if (!parsed.success) throw new Error(`refusing to send an invalid ${type} message: ${zodMessage(parsed.error.issues)}`);
  const env: Envelope<T> = { v: 1, id: opts.id ?? randomUUID(), type, ts: opts.ts ?? Date.now(), payload: parsed.data as Payload<T> };
  if (opts.expiresAt !== undefined) env.expiresAt = opts.expiresAt;
  return env;
}

export function encodeMessage<T extends MessageType>(
  type: T,
  payload: Payload<T>,
  opts: { id?: string; ts?: number; expiresAt?: number } = {},
): string {
  return JSON.stringify(createEnvelope(type, payload, opts));
}

/**
 * A payload checked against its schema once, for a message sent many times: the same `play` to 10,000
 * boxes differs only in its envelope id, and 10,000 identical schema passes cost an emergency fan-out
 * tenths of a second for nothing (issue 8). `envelope()` answers exactly what `encodeMessage` answers.
 */
export class CheckedPayload<T extends MessageType> {
  /** The checked payload as JSON, keys in schema order (as `encodeMessage` writes them). */
  readonly json: string;
  /** The payload as checked (what a receiver decodes). */
  readonly value: Payload<T>;
  private readonly typeJson: string;

  constructor(readonly type: T, payload: Payload<T>) {
    const parsed = messageCatalog[type].safeParse(payload);
    if (!parsed.success) throw new Error(`refusing to send an invalid ${type} message: ${zodMessage(parsed.error.issues)}`);
    this.value = parsed.data as Payload<T>;
    this.json = JSON.stringify(parsed.data);
    this.typeJson = JSON.stringify(type);
  }

  envelope(opts: { id?: string; ts?: number; expiresAt?: number } = {}): string {
    const tail = opts.expiresAt === undefined ? '' : `,"expiresAt":${JSON.stringify(opts.expiresAt)}`;
    return `{"v":1,"id":${JSON.stringify(opts.id ?? randomUUID())},"type":${this.typeJson},"ts":${JSON.stringify(opts.ts ?? Date.now())},"payload":${this.json}${tail}}`;
  }
}

const commandIdSchema = agendaItemSchema.shape.commandId;

/**
 * A `sync-agenda` whose items are checked play payloads, each with the device's command id: what
 * `encodeMessage('sync-agenda', {version, generatedAt, items: [{...play, commandId}]})` answers, with each
 * distinct item checked once for all the boxes that hold it rather than once per box.
 */
export function encodeAgenda(
  agenda: { version: number; generatedAt: number; items: ReadonlyArray<{ play: CheckedPayload<'play'>; commandId: string }> },
  opts: { id?: string; ts?: number } = {},
): string {
  const head = syncAgendaPayloadSchema.safeParse({ version: agenda.version, generatedAt: agenda.generatedAt, items: [] });
  if (!head.success) throw new Error(`refusing to send an invalid sync-agenda message: ${zodMessage(head.error.issues)}`);
  if (agenda.items.length > MAX_AGENDA_ITEMS) throw new Error(`refusing to send an invalid sync-agenda message: items: more than ${MAX_AGENDA_ITEMS}`);
  const items = agenda.items.map(({ play, commandId }) => {
    if (!commandIdSchema.safeParse(commandId).success) throw new Error(`refusing to send an invalid sync-agenda message: items: commandId ${JSON.stringify(commandId)} is not a UUID`);
    // {...play, commandId}: the play keys in schema order, then commandId, as agendaItemSchema orders them.
    return `${play.json.slice(0, -1)},"commandId":${JSON.stringify(commandId)}}`;
  });
  const payload = `{"version":${JSON.stringify(agenda.version)},"generatedAt":${JSON.stringify(agenda.generatedAt)},"items":[${items.join(',')}]}`;
  return `{"v":1,"id":${JSON.stringify(opts.id ?? randomUUID())},"type":"sync-agenda","ts":${JSON.stringify(opts.ts ?? Date.now())},"payload":${payload}}`;
}

function parseJson(raw: Buffer | string): Decoded<unknown> & { text?: string } {
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (size > MAX_MESSAGE_BYTES) return { ok: false, error: { code: ErrorCode.BAD_MESSAGE, message: `message of ${size} bytes exceeds ${MAX_MESSAGE_BYTES}` } };
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  try {
    return { ok: true, value: JSON.parse(text), text };
  } catch {
    return { ok: false, error: { code: ErrorCode.BAD_MESSAGE, message: 'payload is not valid JSON' } };
  }
}

/** Cut payloads longer than this are not worth keeping as text (a heartbeat is ~900 bytes). */
const MAX_PAYLOAD_TEXT = 8 * 1024;

/**
 * The payload's JSON text inside `text`, a message that JSON.parse read as `env` (an object payload), when
 * it can be cut out exactly: the envelope begins as `encodeMessage` writes it (v, id, type, ts, then
 * payload; no expiresAt), the text has no backslash — so every `"` opens or closes a string and no escaped
 * key can hide — and the payload's object, matched brace for brace with strings skipped, is followed only
 * by the envelope's closing brace. Then nothing can follow it (no later duplicate key that JSON.parse
 * would have preferred), and the cut is exactly what JSON.parse read the payload from. Anything else answers
 * undefined and the caller serializes the value itself.
 */
export function payloadText(text: string, env: { id: string; type: string; ts: number; expiresAt?: number }): string | undefined {
  if (env.expiresAt !== undefined || text.length > MAX_PAYLOAD_TEXT || text.includes('\\')) return undefined;
  const head = `{"v":1,"id":"${env.id}","type":"${env.type}","ts":${env.ts},"payload":`;
  if (!text.startsWith(head) || text.charCodeAt(head.length) !== 123 /* { */) return undefined;
  let depth = 0;
  for (let i = head.length; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      i = text.indexOf('"', i + 1);
      if (i === -1) return undefined;
    } else if (c === 123 /* { */ || c === 91 /* [ */) depth++;
    else if (c === 125 /* } */ || c === 93 /* ] */) {
      if (--depth === 0) return i === text.length - 2 && text.charCodeAt(i + 1) === 125 ? text.slice(head.length, i + 1) : undefined;
    }
  }
  return undefined;
}

/**
 * Decodes an envelope and checks its payload against the schema of its type. When `expected` is given,
 * any other type is refused (a device's `status` topic carries only `status`). With `payloadText`, a message
 * taken on the fast path also answers its payload's own text when it can be cut out exactly (`payloadText()`).
 */
export function decodeMessage<T extends MessageType = MessageType>(raw: Buffer | string, expected?: readonly T[], opts: { payloadText?: boolean } = {}): Decoded<Envelope<T>> {
  const json = parseJson(raw);
  if (!json.ok) return json;
  // The hot messages (heartbeats, delivery reports) that pass the plain-code checks are taken as they are:
  // the checks accept only what the schemas accept unchanged. Anything else gets zod's answer (fast-check.ts).
  const v = json.value;
  if (fastEnvelope(v) && Object.hasOwn(messageCatalog, v.type) && (!expected || (expected as readonly string[]).includes(v.type)) && FAST_PAYLOAD_CHECKS.get(v.type)?.(v.payload)) {
    const payloadJson = opts.payloadText && json.text !== undefined ? payloadText(json.text, v) : undefined;
    return payloadJson === undefined ? { ok: true, value: v as Envelope<T> } : { ok: true, value: v as Envelope<T>, payloadJson };
  }
  const env = envelopeSchema.safeParse(json.value);
  if (!env.success) {
    const maybe = json.value as { id?: unknown; type?: unknown } | null;
    const id = typeof maybe?.id === 'string' ? maybe.id : undefined;
    return { ok: false, error: { code: ErrorCode.BAD_MESSAGE, message: `bad envelope: ${zodMessage(env.error.issues)}`, ...(id ? { id } : {}) } };
  }
  const { id, type } = env.data;
  if (!Object.hasOwn(messageCatalog, type) || (expected && !(expected as readonly string[]).includes(type))) {
    return { ok: false, error: { code: ErrorCode.UNKNOWN_TYPE, message: `unexpected message type ${JSON.stringify(type)}`, id, type } };
  }
  const payload = messageCatalog[type as MessageType].safeParse(env.data.payload);
  if (!payload.success) {
    return { ok: false, error: { code: ErrorCode.BAD_MESSAGE, message: `bad ${type} payload: ${zodMessage(payload.error.issues)}`, id, type } };
  }
  return { ok: true, value: { ...env.data, type: type as T, payload: payload.data } as Envelope<T> };
}

export function encodeResponse<T extends CommandType>(re: string, result: { ok: true; data: ResponseData<T> } | { ok: false; error: { code: ErrorCode; message: string } }, type?: T): string {
  if (result.ok && type) {
    const check = responseDataCatalog[type].safeParse(result.data);
    if (!check.success) throw new Error(`refusing to send an invalid ${type} answer: ${zodMessage(check.error.issues)}`);
  }
  const body: Response = result.ok
    ? { v: 1, re, ts: Date.now(), ok: true, data: result.data }
    : { v: 1, re, ts: Date.now(), ok: false, error: result.error };
  return JSON.stringify(body);
}

/** Decodes an answer; with `type`, the data of a successful answer is checked against that command's schema. */
export function decodeResponse(raw: Buffer | string, type?: CommandType): Decoded<Response> {
  const json = parseJson(raw);
  if (!json.ok) return json;
  const res = responseSchema.safeParse(json.value);
  if (!res.success) return { ok: false, error: { code: ErrorCode.BAD_MESSAGE, message: `bad response: ${zodMessage(res.error.issues)}` } };
  if (res.data.ok && type) {
    const data = responseDataCatalog[type].safeParse(res.data.data);
    if (!data.success) return { ok: false, error: { code: ErrorCode.BAD_MESSAGE, message: `bad ${type} answer: ${zodMessage(data.error.issues)}` } };
  }
  return { ok: true, value: res.data };
}
