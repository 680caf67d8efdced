/**
 * The engine that runs a mapping (`./mapping.ts`) both ways (issue 17): a model message (`./model.ts`) is written
 * as a province's body, and a province's body is read back into the model and checked by the model's schema.
 * The Loa Xã commune system encodes what goes up and decodes what comes down; a Loa Xã source system (a province
 * or the centre) does the opposite with the same mapping, so both ends cannot drift apart.
 *
 * Reading is lenient where the vendors are (CV 1273 publishes no schema; the provinces' checker parses *AmLuong*
 * and *TrangThaiHoatDong* as integers from strings, keys differ in case between vendors: `NguonID`/`NguonId`), and
 * strict where the published checker is: a `required` field that is absent, null or empty is refused by name.
 * Whatever the body is — wrong types, unknown codes, huge arrays, `__proto__` keys — decoding either returns a
 * model message the model's schema accepts or throws `NationalDecodeError` naming the province's fields; it
 * never throws anything else and never touches a prototype.
 */
import { closeSync, constants as fsConstants, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import {
  airingEndEventSchema,
  airingStartEventSchema,
  boxStatusEventSchema,
  downBulletinSchema,
  downDeleteSchema,
  downDeviceControlSchema,
  downRescheduleSchema,
  nationalAnswerSchema,
  nationalLoginSchema,
  nationalTokenSchema,
  scheduleAckEventSchema,
  DOWNSTREAM_COMMAND_KINDS,
  UPSTREAM_EVENT_KINDS,
  type DownstreamCommand,
  type DownstreamCommandKind,
  type NationalAnswer,
  type NationalLogin,
  type NationalToken,
  type UpstreamEvent,
  type UpstreamEventKind,
} from './model.js';
import { mappingSchema, NationalDecodeError, type EncodedRequest, type FieldRule, type Mapping } from './mapping.js';
import { viMapping } from './mappings/vi.js';
import { enMapping } from './mappings/en.js';

type Obj = Record<string, unknown>;
type Issue = { field: string; problem: string };

/** No array in any message of the model is longer (`downDeviceControlSchema.boxes`); a longer one is refused unread. */
const MAX_ARRAY = 10_000;
/** A province's own mapping file is a few kilobytes; a bigger one is a mistake. */
const MAX_MAPPING_FILE_BYTES = 1_000_000;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

const UP_SCHEMAS = { 'box-status': boxStatusEventSchema, 'airing-start': airingStartEventSchema, 'airing-end': airingEndEventSchema, 'schedule-ack': scheduleAckEventSchema } as const;
const DOWN_SCHEMAS = { bulletin: downBulletinSchema, 'bulletin-delete': downDeleteSchema, 'bulletin-reschedule': downRescheduleSchema, 'device-control': downDeviceControlSchema } as const;

// ---------------------------------------------------------------------------------------------------------------
// Mappings

/** A mapping from any input (a province's JSON file, a test's object): checked by `mappingSchema`, each wrong field named. */
export function parseMapping(input: unknown): Mapping {
  const r = mappingSchema.safeParse(input);
  if (!r.success) {
    const fields = r.error.issues.map((i) => `${i.path.map(String).join('.') || '(gốc)'}: ${i.message}`);
    throw new Error(`Tệp ánh xạ không hợp lệ: ${fields.slice(0, 20).join('; ')}`);
  }
  // Every code table a rule names must exist, or the mapping could not write that field.
  const missing: string[] = [];
  const walk = (rule: FieldRule, where: string): void => {
    if ('from' in rule && rule.codes !== undefined && !hasOwn(r.data.codes, rule.codes)) missing.push(`${where}: bảng mã "${rule.codes}" không có trong codes`);
    if ('object' in rule) for (const [k, v] of Object.entries(rule.object)) walk(v, `${where}.${k}`);
    if ('each' in rule) walk(rule.item, `${where}[]`);
  };
  for (const k of UPSTREAM_EVENT_KINDS) walk(r.data.up[k].body, `up.${k}.body`);
  for (const k of DOWNSTREAM_COMMAND_KINDS) walk(r.data.down[k].body, `down.${k}.body`);
  walk(r.data.login.body, 'login.body');
  if (missing.length > 0) throw new Error(`Tệp ánh xạ không hợp lệ: ${missing.slice(0, 20).join('; ')}`);
  return r.data;
}

export const SHIPPED_MAPPINGS: { vi: Mapping; en: Mapping } = { vi: parseMapping(viMapping), en: parseMapping(enMapping) };

/**
 * A mapping's name: `vi`, `en`, or a province's file `<name>.json` in the mappings folder. Only a name, never a
 * path (issue 17 review: a peer's mapping was opened as any path, and the JSON error quoted the file — the
 * sealing key, an env file — and told which files exist). The folder is the installation's
 * (LOAXA_NATIONAL_MAPPINGS_DIR), so what an admin can name is what the operator put there.
 */
export const MAPPING_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/**
 * `LOAXA_NATIONAL_MAPPING` or a peer's mapping: `vi`, `en`, or a NAME read from `{dir}/NAME.json` (a name that
 * already ends in `.json` is taken as the file's name). Errors name the problem, never the file's content.
 */
export function resolveMapping(name: string, dir?: string): Mapping {
  if (name === 'vi' || name === 'en') return SHIPPED_MAPPINGS[name];
  if (!MAPPING_NAME_RE.test(name) || dir === undefined) {
    throw new Error(`"${name.slice(0, 100)}" không phải tên ánh xạ: dùng vi, en hoặc tên một tệp JSON trong thư mục ánh xạ (LOAXA_NATIONAL_MAPPINGS_DIR; chữ thường, số, . _ -)`);
  }
  return readMappingFile(join(dir, name.endsWith('.json') ? name : `${name}.json`), name);
}

/**
 * Reads and checks one mapping file the operator names (the replay tool's --mapping, resolveMapping's folder).
 * A regular file only, checked on the opened descriptor (a FIFO or /dev/zero would block or never end: opened
 * non-blocking, then refused), and the bound is on the bytes read, not on what stat said.
 */
export function readMappingFile(path: string, label = path): Mapping {
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new Error(`Tệp ánh xạ ${label} không mở được (${(e as NodeJS.ErrnoException).code ?? 'lỗi'})`, { cause: e });
  }
  let text: string;
  try {
    if (!fstatSync(fd).isFile()) throw new Error(`Tệp ánh xạ ${label} không phải tệp thường`);
    const buf = Buffer.alloc(MAX_MAPPING_FILE_BYTES + 1);
    let got = 0;
    for (;;) {
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
      if (got > MAX_MAPPING_FILE_BYTES) throw new Error(`Tệp ánh xạ ${label} quá lớn (tối đa ${MAX_MAPPING_FILE_BYTES} byte)`);
    }
    text = buf.subarray(0, got).toString('utf8');
  } finally {
    closeSync(fd);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Not the parser's message: V8 quotes the start of the text.
    throw new Error(`Tệp ánh xạ ${label} không phải JSON hợp lệ`);
  }
  return parseMapping(json);
}

/** Which message a request is: the kind whose method and path match (a served route's dispatch), or undefined. */
export function routeFor(m: Mapping, direction: 'up' | 'down' | 'login', method: string, path: string): string | undefined {
  const norm = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p).toLowerCase();
  const want = norm(path);
  const meth = method.toUpperCase();
  if (direction === 'login') return meth === 'POST' && norm(m.login.path) === want ? 'login' : undefined;
  const rules = direction === 'up' ? m.up : m.down;
  for (const [kind, rule] of Object.entries(rules)) if (rule.method === meth && norm(rule.path) === want) return kind;
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Time on the wire

function offsetMinutes(m: Mapping): number {
  const [, sign, hh, mm] = /^([+-])(\d{2}):(\d{2})$/.exec(m.timeZoneOffset) ?? ['', '+', '07', '00'];
  return (sign === '-' ? -1 : 1) * (Number(hh) * 60 + Number(mm));
}

/** `2021-12-31T00:00:00.00000`: the checker's example has five fraction digits; ours carry the milliseconds. */
function isoLocal(ms: number, offMin: number): string {
  return `${new Date(ms + offMin * 60_000).toISOString().slice(0, 23)}00`;
}
function isoOffset(ms: number, offset: string, offMin: number): string {
  return `${new Date(ms + offMin * 60_000).toISOString().slice(0, 23)}${offset}`;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** An ISO date-time, in the mapping's zone when it names none; undefined when it is not one or not a real date. */
function parseIso(s: string, offMin: number): number | undefined {
  const r = ISO.exec(s.trim());
  if (!r) return undefined;
  const [y, mo, d, h = '0', mi = '0', sec = '0', frac = '', zone] = r.slice(1) as [string, string, string, string?, string?, string?, string?, string?];
  const Y = Number(y), M = Number(mo), D = Number(d), H = Number(h), MI = Number(mi), S = Number(sec);
  if (M < 1 || M > 12 || D < 1 || D > 31 || H > 23 || MI > 59 || S > 59) return undefined;
  const utc = Date.UTC(Y, M - 1, D, H, MI, S, Number(frac.padEnd(3, '0').slice(0, 3)));
  if (new Date(Date.UTC(Y, M - 1, D)).getUTCDate() !== D) return undefined; // 31 February
  let off = offMin;
  if (zone === 'Z') off = 0;
  else if (zone !== undefined) {
    const z2 = zone.replace(':', '');
    off = (z2.startsWith('-') ? -1 : 1) * (Number(z2.slice(1, 3)) * 60 + Number(z2.slice(3, 5)));
  }
  return utc - off * 60_000;
}

function dateNumber(ms: number, offMin: number): number {
  const d = new Date(ms + offMin * 60_000);
  return d.getUTCFullYear() * 10_000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
}

// ---------------------------------------------------------------------------------------------------------------
// Model paths

function getPath(root: unknown, path: string): unknown {
  let cur: unknown = root;
  for (const seg of path.split('.')) {
    if (!isObj(cur) || !hasOwn(cur, seg)) return undefined;
    cur = cur[seg];
  }
  return cur;
}

/** Sets a model path, making the objects on the way; own properties only (model paths are letters and digits). */
function setPath(root: Obj, path: string, value: unknown): void {
  const segs = path.split('.');
  let cur = root;
  for (const seg of segs.slice(0, -1)) {
    const next = hasOwn(cur, seg) ? cur[seg] : undefined;
    if (isObj(next)) cur = next;
    else {
      const made: Obj = {};
      defineOwn(cur, seg, made);
      cur = made;
    }
  }
  defineOwn(cur, segs[segs.length - 1]!, value);
}

/** An own, enumerable property even for a key such as `__proto__` (a province field name in a mapping could be one). */
function defineOwn(o: Obj, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** What the model's schema wants at a path: the decoder turns `"70"` into 70 only where a number is wanted. */
type Target = 'string' | 'number' | 'boolean' | 'enum' | 'object' | 'array' | 'other';

function targetAt(schema: z.ZodType, path: string): Target {
  type Def = { type?: string; innerType?: unknown; shape?: Record<string, unknown>; element?: unknown };
  let cur: unknown = schema;
  const unwrap = (): Def | undefined => {
    for (;;) {
      const def = (cur as { _zod?: { def?: Def } })._zod?.def;
      if (def && (def.type === 'nullable' || def.type === 'optional' || def.type === 'default') && def.innerType) cur = def.innerType;
      else return def;
    }
  };
  for (const seg of path === '' ? [] : path.split('.')) {
    const def = unwrap();
    if (def?.type === 'object' && def.shape && hasOwn(def.shape, seg)) cur = def.shape[seg];
    else if (def?.type === 'array' && seg === '$') cur = def.element;
    else return 'other';
  }
  const t = unwrap()?.type;
  return t === 'string' || t === 'number' || t === 'boolean' || t === 'enum' || t === 'object' || t === 'array' ? t : 'other';
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding

interface EncodeCtx {
  m: Mapping;
  offMin: number;
}

function codeFor(ctx: EncodeCtx, table: string, value: unknown, shape: 'code' | 'id-value' | 'label' | undefined): unknown {
  const entry = ctx.m.codes[table]?.find((e) => e.internal === value);
  if (!entry) throw new Error(`Ánh xạ ${ctx.m.name}: bảng mã "${table}" không có mã cho ${JSON.stringify(value)}`);
  if (shape === 'id-value') return { id: entry.code, value: entry.label ?? String(entry.internal) };
  if (shape === 'label') return entry.label ?? String(entry.internal);
  return entry.code;
}

function encodeValue(ctx: EncodeCtx, rule: Extract<FieldRule, { from: string }>, v: unknown): unknown {
  if (v === undefined) v = rule.default ?? null;
  if (v === null) return null;
  if (rule.codes !== undefined) return codeFor(ctx, rule.codes, v, rule.shape);
  switch (rule.as) {
    case undefined:
      return v;
    case 'string':
      return String(v);
    case 'int':
      return Math.round(Number(v));
    case 'number':
      return Number(v);
    case 'boolean-int':
      return v ? 1 : 0;
    case 'epoch-s':
      return Math.floor(Number(v) / 1000);
    case 'epoch-ms':
      return Number(v);
    case 'iso-local':
      return isoLocal(Number(v), ctx.offMin);
    case 'iso-offset':
      return isoOffset(Number(v), ctx.m.timeZoneOffset, ctx.offMin);
    case 'time-of-day':
      return `${String(v)}.000000`;
    case 'date-number':
      return dateNumber(Number(v), ctx.offMin);
  }
}

function encodeRule(ctx: EncodeCtx, rule: FieldRule, root: unknown, elem: unknown): unknown {
  if ('const' in rule) return rule.const;
  if ('from' in rule) return encodeValue(ctx, rule, rule.from === '$' ? elem : getPath(elem !== undefined && isObj(elem) ? elem : root, rule.from));
  if ('object' in rule) {
    const out: Obj = {};
    for (const [k, r] of Object.entries(rule.object)) defineOwn(out, k, encodeRule(ctx, r, root, elem));
    return out;
  }
  const list = rule.each === '$' ? elem : getPath(elem !== undefined && isObj(elem) ? elem : root, rule.each);
  return Array.isArray(list) ? list.map((x) => encodeRule(ctx, rule.item, root, x)) : [];
}

function encodeWith(m: Mapping, rule: { method: 'POST' | 'PUT' | 'DELETE'; path: string; body: FieldRule }, model: unknown): EncodedRequest {
  return { method: rule.method, path: rule.path, body: encodeRule({ m, offMin: offsetMinutes(m) }, rule.body, model, undefined) };
}

export function encodeUp(m: Mapping, e: UpstreamEvent): EncodedRequest {
  return encodeWith(m, m.up[e.kind], e);
}
export function encodeDown(m: Mapping, c: DownstreamCommand): EncodedRequest {
  return encodeWith(m, m.down[c.kind], c);
}
export function encodeLogin(m: Mapping, l: NationalLogin): EncodedRequest {
  return encodeWith(m, { method: 'POST', path: m.login.path, body: m.login.body }, l);
}

/** Writes a value at a dotted path of a province's body (the answer's status, the token's place). */
function putBodyPath(body: Obj, path: string, value: unknown): void {
  const segs = path.split('.');
  let cur = body;
  for (const seg of segs.slice(0, -1)) {
    const next = hasOwn(cur, seg) ? cur[seg] : undefined;
    if (isObj(next)) cur = next;
    else {
      const made: Obj = {};
      defineOwn(cur, seg, made);
      cur = made;
    }
  }
  defineOwn(cur, segs[segs.length - 1]!, value);
}

export function encodeAnswer(m: Mapping, a: NationalAnswer): unknown {
  const body: Obj = {};
  putBodyPath(body, m.answer.status, a.ok ? m.answer.okValue : m.answer.refusedValue);
  putBodyPath(body, m.answer.message, a.message);
  return body;
}

/** The login's answer: accepted, with the token where the mapping reads it (and its expiry, in epoch seconds). */
export function encodeToken(m: Mapping, t: NationalToken): unknown {
  const body = encodeAnswer(m, { ok: true, message: '' }) as Obj;
  putBodyPath(body, m.login.token, t.token);
  if (m.login.expiresAt !== undefined && t.expiresAt !== null) putBodyPath(body, m.login.expiresAt, Math.floor(t.expiresAt / 1000));
  return body;
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

interface DecodeCtx {
  m: Mapping;
  offMin: number;
  schema: z.ZodType;
  issues: Issue[];
  /** Model path → the province field it was read from, to name the field when the model's schema refuses it. */
  fields: Map<string, string>;
  /** Defaults naming other model values (`{box.nationalId}`), filled once everything else is read. */
  templates: Array<{ path: string; template: string; field: string }>;
  /** Nullable objects a flag said are absent (*TiepAm* 0 → no relay): set to null after the fields inside them. */
  nulls: string[];
  now: number;
}

/** A key of a province's body: exactly as the mapping writes it, else the same letters in another case (`NguonId`). */
function readKey(o: Obj, k: string): unknown {
  if (hasOwn(o, k)) return o[k];
  const lower = k.toLowerCase();
  for (const key of Object.keys(o)) if (key.toLowerCase() === lower) return o[key];
  return undefined;
}

const NUMERIC = /^\s*-?\d+(\.\d+)?\s*$/;
const INTEGER = /^\s*-?\d+\s*$/;

const absent = (v: unknown) => v === undefined || v === null || v === '';

function decodeCode(ctx: DecodeCtx, rule: Extract<FieldRule, { from: string }>, v: unknown, field: string): { ok: true; value: unknown } | { ok: false } {
  const table = ctx.m.codes[rule.codes!] ?? [];
  let key: unknown = v;
  let where = field;
  if (rule.shape === 'id-value') {
    // `{id, value}` (the English variant's pairs): the id decides, and the checker requires it.
    if (!isObj(v)) {
      ctx.issues.push({ field, problem: 'sai kiểu: cần cặp {id, value}' });
      return { ok: false };
    }
    key = readKey(v, 'id');
    where = `${field}.id`;
    if (key === undefined || key === null || key === '') {
      ctx.issues.push({ field: where, problem: 'bắt buộc, không được để trống' });
      return { ok: false };
    }
  }
  if (typeof key !== 'string' && typeof key !== 'number' && typeof key !== 'boolean') {
    ctx.issues.push({ field: where, problem: 'sai kiểu: cần một mã' });
    return { ok: false };
  }
  const s = String(key).trim();
  // Several values may share a code (TrangThaiHoatDong 1 = working, playing or idle): the first listed is read.
  const entry = rule.shape === 'label' ? table.find((e) => (e.label ?? String(e.internal)).toLowerCase() === s.toLowerCase()) : table.find((e) => String(e.code) === s);
  if (!entry) {
    ctx.issues.push({ field: where, problem: `mã không hợp lệ: ${s.slice(0, 50)}` });
    return { ok: false };
  }
  return { ok: true, value: entry.internal };
}

function decodeFrom(ctx: DecodeCtx, rule: Extract<FieldRule, { from: string }>, raw: unknown, field: string, modelPath: string): { ok: true; value: unknown } | { ok: false } {
  const target = targetAt(ctx.schema, modelPath);
  let v: unknown = raw;
  if (rule.codes !== undefined) return decodeCode(ctx, rule, v, field);
  const bad = (problem: string) => {
    ctx.issues.push({ field, problem });
    return { ok: false as const };
  };
  switch (rule.as) {
    case 'epoch-s':
    case 'epoch-ms': {
      const seconds = rule.as === 'epoch-s';
      if (typeof v === 'string' && NUMERIC.test(v)) v = Number(v);
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return bad(seconds ? 'sai kiểu: cần thời điểm tính bằng giây (epoch)' : 'sai kiểu: cần thời điểm tính bằng mili giây (epoch)');
      // Seconds past 10^11 would be the year 5138: the sender wrote milliseconds, and reading them as seconds
      // would date the record 50,000 years ahead (the checker wants seconds).
      if (seconds && v >= 1e11) return bad('thời điểm phải tính bằng giây (có vẻ là mili giây)');
      return { ok: true, value: Math.round(seconds ? v * 1000 : v) };
    }
    case 'iso-local':
    case 'iso-offset': {
      const t = typeof v === 'string' ? parseIso(v, ctx.offMin) : undefined;
      return t === undefined ? bad('sai định dạng ngày giờ (ví dụ 2021-12-31T00:00:00.00000)') : { ok: true, value: t };
    }
    case 'time-of-day': {
      // Exactly HH:mm:ss.ffffff, as the checker requires; the model keeps seconds.
      const r = typeof v === 'string' ? /^(\d{2}):(\d{2}):(\d{2})\.\d{6}$/.exec(v) : null;
      if (!r || Number(r[1]) > 23 || Number(r[2]) > 59 || Number(r[3]) > 59) return bad('sai định dạng giờ (HH:mm:ss.ffffff)');
      return { ok: true, value: `${r[1]}:${r[2]}:${r[3]}` };
    }
    case 'date-number': {
      const s = typeof v === 'number' || typeof v === 'string' ? String(v).trim() : '';
      const t = /^\d{8}$/.test(s) ? parseIso(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}`, ctx.offMin) : undefined;
      return t === undefined ? bad('sai định dạng ngày (yyyymmdd)') : { ok: true, value: t };
    }
    case 'boolean-int': {
      let b: boolean | undefined;
      if (v === 1 || v === '1' || v === true || v === 'true') b = true;
      else if (v === 0 || v === '0' || v === false || v === 'false') b = false;
      if (b === undefined) return bad('phải là 0 hoặc 1');
      if (target === 'object') {
        // A flag saying whether a nullable part exists (*TiepAm* → relay): 1 makes it, 0 makes it null.
        if (b) return { ok: true, value: OBJECT_MARK };
        ctx.nulls.push(modelPath);
        return { ok: true, value: NULL_MARK };
      }
      return { ok: true, value: b };
    }
    case 'int':
      if (typeof v === 'string' && INTEGER.test(v)) v = Number(v);
      if (typeof v === 'number' && Number.isInteger(v)) return { ok: true, value: v };
      return bad('sai kiểu: cần số nguyên');
    case 'number':
    case 'string':
    case undefined:
      break;
  }
  switch (target) {
    case 'number':
      if (typeof v === 'string' && NUMERIC.test(v)) v = Number(v);
      return typeof v === 'number' && Number.isFinite(v) ? { ok: true, value: v } : bad('sai kiểu: cần số');
    case 'string':
    case 'enum':
      if (typeof v === 'number' || typeof v === 'boolean') v = String(v);
      return typeof v === 'string' ? { ok: true, value: v } : bad('sai kiểu: cần chuỗi');
    case 'boolean':
      if (v === 1 || v === '1' || v === 'true') return { ok: true, value: true };
      if (v === 0 || v === '0' || v === 'false') return { ok: true, value: false };
      return typeof v === 'boolean' ? { ok: true, value: v } : bad('sai kiểu: cần 0 hoặc 1');
    default:
      return { ok: true, value: v };
  }
}

const OBJECT_MARK = Symbol('object');
const NULL_MARK = Symbol('null');

function decodeRule(ctx: DecodeCtx, rule: FieldRule, body: unknown, field: string, out: Obj, elemPath: string | undefined): unknown {
  if ('const' in rule) {
    // A fixed field is not read into the model, but the province always writes it (the checker: LoaiNhatKy not empty).
    if (rule.const !== null && (body === undefined || body === null || body === '')) ctx.issues.push({ field, problem: 'bắt buộc, không được để trống' });
    return undefined;
  }
  if ('from' in rule) {
    const modelPath = rule.from === '$' ? (elemPath ?? '$') : elemPath !== undefined ? `${elemPath}.${rule.from}` : rule.from;
    // An empty string is a value for a text field (an unnamed box), absent for the rest and for a required one
    // (the checker's "not empty").
    if (body === undefined || body === null || (body === '' && (rule.required || targetAt(ctx.schema, modelPath) !== 'string'))) {
      if (rule.required) {
        ctx.issues.push({ field, problem: 'bắt buộc, không được để trống' });
        return undefined;
      }
      const d = rule.default;
      if (typeof d === 'string' && /\{[A-Za-z$][A-Za-z0-9.]*\}/.test(d)) {
        if (elemPath === undefined) ctx.templates.push({ path: modelPath, template: d, field });
        return undefined;
      }
      const value = d === '$now' ? ctx.now : structuredCloneSafe(d);
      if (elemPath === undefined && targetAt(ctx.schema, modelPath) === 'object') {
        // A nullable part with no flag in the body (*TiepAm* absent): its default says whether it exists.
        if (value === null || value === false || value === 0) ctx.nulls.push(modelPath);
        else if (!isObj(getPath(out, modelPath))) setPath(out, modelPath, {});
        return undefined;
      }
      if (elemPath === undefined && value !== undefined) {
        setPath(out, modelPath, value);
        ctx.fields.set(modelPath, field);
      }
      return value;
    }
    const r = decodeFrom(ctx, rule, body, field, modelPath);
    if (!r.ok) return undefined;
    if (elemPath !== undefined) return r.value;
    ctx.fields.set(modelPath, field);
    if (r.value === NULL_MARK) return undefined;
    if (r.value === OBJECT_MARK) {
      if (!isObj(getPath(out, modelPath))) setPath(out, modelPath, {});
      return undefined;
    }
    setPath(out, modelPath, r.value);
    return r.value;
  }
  if ('object' in rule) {
    if (body !== undefined && body !== null && !isObj(body)) {
      ctx.issues.push({ field, problem: 'sai kiểu: cần một đối tượng' });
      return undefined;
    }
    const o = isObj(body) ? body : {};
    const made: Obj = {};
    for (const [k, r] of Object.entries(rule.object)) {
      const v = decodeRule(ctx, r, readKey(o, k), field === '' ? k : `${field}.${k}`, out, elemPath);
      if (elemPath !== undefined && v !== undefined) defineOwn(made, k, v);
    }
    return made;
  }
  // each
  const modelPath = rule.each;
  if (absent(body)) {
    if (rule.required) ctx.issues.push({ field, problem: 'bắt buộc, không được để trống' });
    else if (elemPath === undefined) {
      setPath(out, modelPath, []);
      ctx.fields.set(modelPath, field);
    }
    return undefined;
  }
  if (!Array.isArray(body)) {
    ctx.issues.push({ field, problem: 'sai kiểu: cần một danh sách' });
    return undefined;
  }
  if (body.length > MAX_ARRAY) {
    ctx.issues.push({ field, problem: `danh sách quá dài (${body.length}, tối đa ${MAX_ARRAY})` });
    return undefined;
  }
  if (rule.required && body.length === 0) {
    ctx.issues.push({ field, problem: 'bắt buộc, danh sách không được rỗng' });
    return undefined;
  }
  const items: unknown[] = [];
  const before = ctx.issues.length;
  for (let i = 0; i < body.length; i++) {
    // An element's own rule reads it as the element (`$`); a field of an element object is read relative to it.
    const v = decodeRule(ctx, rule.item, body[i], `${field}[${i}]`, out, `${modelPath}.$`);
    items.push(v);
    if (ctx.issues.length - before > 20) break;
  }
  if (elemPath === undefined) {
    setPath(out, modelPath, items);
    ctx.fields.set(modelPath, field);
  }
  return items;
}

function structuredCloneSafe(v: unknown): unknown {
  return v === undefined || v === null || typeof v !== 'object' ? v : (JSON.parse(JSON.stringify(v)) as unknown);
}

function fillTemplates(ctx: DecodeCtx, out: Obj): void {
  // A template may name a value that is itself a template (`{startedAt}` ← `{at}`): fill in passes, each
  // taking those whose every named value is known.
  const REF = /\{([A-Za-z$][A-Za-z0-9.]*)\}/g;
  let todo = ctx.templates;
  while (todo.length > 0) {
    const later: typeof todo = [];
    for (const t of todo) {
      const refs = [...t.template.matchAll(REF)].map((r) => r[1]!);
      if (refs.some((p) => getPath(out, p) === undefined && todo.some((o) => o !== t && o.path === p))) {
        later.push(t);
        continue;
      }
      const whole = /^\{([A-Za-z$][A-Za-z0-9.]*)\}$/.exec(t.template);
      const value = whole ? getPath(out, whole[1]!) : t.template.replace(REF, (_, p: string) => String(getPath(out, p) ?? ''));
      if (value !== undefined) setPath(out, t.path, value);
      ctx.fields.set(t.path, t.field);
    }
    if (later.length === todo.length) break; // templates naming each other: left unset, the schema names the field
    todo = later;
  }
  for (const p of ctx.nulls) setPath(out, p, null);
}

const ZOD_PROBLEMS: Record<string, string> = {
  invalid_type: 'sai kiểu',
  too_small: 'nhỏ hơn hoặc ngắn hơn mức cho phép',
  too_big: 'lớn hơn hoặc dài hơn mức cho phép',
  invalid_value: 'giá trị không hợp lệ',
  invalid_format: 'sai định dạng',
  invalid_union: 'giá trị không hợp lệ',
  not_multiple_of: 'giá trị không hợp lệ',
  unrecognized_keys: 'có trường lạ',
};

function fieldOf(ctx: DecodeCtx, path: readonly PropertyKey[]): string {
  const segs = path.map(String);
  for (let n = segs.length; n > 0; n--) {
    const f = ctx.fields.get(segs.slice(0, n).join('.'));
    if (f !== undefined) return n < segs.length && /^\d+$/.test(segs[n]!) ? `${f}[${segs[n]}]` : f;
  }
  return segs.join('.') || '(gốc)';
}

function decodeWith<T>(m: Mapping, schema: z.ZodType<T>, rule: FieldRule, body: unknown, now: number, extra?: Obj): T {
  try {
    const ctx: DecodeCtx = { m, offMin: offsetMinutes(m), schema, issues: [], fields: new Map(), templates: [], nulls: [], now };
    if (!isObj(body)) throw new NationalDecodeError([{ field: '(gốc)', problem: 'nội dung phải là một đối tượng JSON' }]);
    const out: Obj = { ...extra };
    decodeRule(ctx, rule, body, '', out, undefined);
    if (ctx.issues.length > 0) throw new NationalDecodeError(ctx.issues);
    fillTemplates(ctx, out);
    const r = schema.safeParse(out);
    if (!r.success) {
      throw new NationalDecodeError(r.error.issues.map((i) => ({ field: fieldOf(ctx, i.path), problem: i.code === 'custom' ? i.message : (ZOD_PROBLEMS[i.code] ?? 'không hợp lệ') })));
    }
    return r.data;
  } catch (e) {
    if (e instanceof NationalDecodeError) throw e;
    // A mapping or body this engine did not foresee: still a decode error, never a crash of the caller.
    throw new NationalDecodeError([{ field: '(gốc)', problem: `không đọc được nội dung (${e instanceof Error ? e.message.slice(0, 200) : 'lỗi'})` }]);
  }
}

/** Reads a body sent up (a box status, a play log, an ack); `now` fills a `$now` default (a status without its time). */
export function decodeUp(m: Mapping, kind: UpstreamEventKind, body: unknown, now: number = Date.now()): UpstreamEvent {
  if (!(UPSTREAM_EVENT_KINDS as readonly string[]).includes(kind)) throw new NationalDecodeError([{ field: '(loại)', problem: `loại bản tin không biết: ${String(kind)}` }]);
  return decodeWith(m, UP_SCHEMAS[kind] as z.ZodType<UpstreamEvent>, m.up[kind].body, body, now, { kind });
}

/** Reads a body sent down (a bulletin, a delete, a reschedule, a device control). */
export function decodeDown(m: Mapping, kind: DownstreamCommandKind, body: unknown, now: number = Date.now()): DownstreamCommand {
  if (!(DOWNSTREAM_COMMAND_KINDS as readonly string[]).includes(kind)) throw new NationalDecodeError([{ field: '(loại)', problem: `loại bản tin không biết: ${String(kind)}` }]);
  return decodeWith(m, DOWN_SCHEMAS[kind] as z.ZodType<DownstreamCommand>, m.down[kind].body, body, now, { kind });
}

export function decodeLogin(m: Mapping, body: unknown): NationalLogin {
  return decodeWith(m, nationalLoginSchema, m.login.body, body, Date.now());
}

function readBodyPath(body: unknown, path: string): unknown {
  let cur = body;
  for (const seg of path.split('.')) {
    if (!isObj(cur)) return undefined;
    cur = readKey(cur, seg);
  }
  return cur;
}

/** The answer to any request: *TrangThaiGui* 0 accepted, 1 refused (as the mapping says), with *MoTa*. */
export function decodeAnswer(m: Mapping, body: unknown): NationalAnswer {
  if (!isObj(body)) throw new NationalDecodeError([{ field: '(gốc)', problem: 'câu trả lời phải là một đối tượng JSON' }]);
  const status = readBodyPath(body, m.answer.status);
  const same = (a: unknown, b: unknown) => (typeof a === 'string' || typeof a === 'number' || typeof a === 'boolean') && String(a).trim() === String(b);
  let ok: boolean;
  if (same(status, m.answer.okValue)) ok = true;
  else if (same(status, m.answer.refusedValue)) ok = false;
  else throw new NationalDecodeError([{ field: m.answer.status, problem: status === undefined ? 'bắt buộc, không có' : 'mã trạng thái không hợp lệ' }]);
  const msg = readBodyPath(body, m.answer.message);
  const message = typeof msg === 'string' ? msg.slice(0, 2000) : msg === undefined || msg === null ? '' : JSON.stringify(msg).slice(0, 2000);
  return nationalAnswerSchema.parse({ ok, message });
}

/** The token in the login's answer; a refused login is a decode error carrying the province's *MoTa*. */
export function readToken(m: Mapping, body: unknown): NationalToken {
  if (!isObj(body)) throw new NationalDecodeError([{ field: '(gốc)', problem: 'câu trả lời phải là một đối tượng JSON' }]);
  const status = readBodyPath(body, m.answer.status);
  if (status !== undefined) {
    const a = decodeAnswer(m, body);
    if (!a.ok) throw new NationalDecodeError([{ field: m.answer.status, problem: `đăng nhập bị từ chối: ${a.message || 'không rõ lý do'}` }]);
  }
  const token = readBodyPath(body, m.login.token);
  if (typeof token !== 'string' || token.length === 0 || token.length > 4096) throw new NationalDecodeError([{ field: m.login.token, problem: 'không có mã truy cập (token)' }]);
  let expiresAt: number | null = null;
  if (m.login.expiresAt !== undefined) {
    const e = readBodyPath(body, m.login.expiresAt);
    if (typeof e === 'number' && Number.isFinite(e) && e > 0) expiresAt = Math.round(e > 1e12 ? e : e * 1000);
    else if (typeof e === 'string') expiresAt = NUMERIC.test(e) ? Math.round(Number(e) > 1e12 ? Number(e) : Number(e) * 1000) : (parseIso(e, offsetMinutes(m)) ?? null);
  }
  const r = nationalTokenSchema.safeParse({ token, expiresAt });
  if (!r.success) return { token, expiresAt: null };
  return r.data;
}
