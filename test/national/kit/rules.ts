/**
 * The conformance kit's field rules (issue 17): what the published checker of CV 1273/BTTTT-TTCS refuses,
 * written on their own, from the checker's list, WITHOUT the mapping engine of `shared/src/national/` — the kit
 * is there to catch that engine's mistakes, so it must not share them.
 *
 * The checker is an ASP.NET service: a body binds to a .NET model, then each rule runs. So, as there:
 * - property names match case-insensitively (ASP.NET Core's web JSON defaults: `NguonID` and `NguonId` are one);
 * - a JSON string where the model has a string and a number where it has a number; the one exception the
 *   checker tolerates is *AmLuong*, which the vendors' agents send as a string ("70") and it parses as an int;
 * - dates bind as `DateTime` (its parser takes `2021-12-31T00:00:00.00000`, with or without an offset, up to
 *   seven fractional digits), times of day in *LichPhat* must be exactly `HH:mm:ss.ffffff`.
 * A problem names the field path (`LichPhat.ThoiDiemBatDau[1]`) and the rule, so a test can say which rule
 * refused a body and the answer's *MoTa* tells an integrator what to fix.
 */

export interface Problem {
  field: string;
  /** The rule's name: required, type, range, code, format, epoch-seconds, time-of-day, datetime. */
  rule: string;
  message: string;
}

export type Rule = (value: unknown, field: string, out: Problem[]) => void;

const present = (v: unknown): boolean => v !== undefined && v !== null;

/** Looks `name` up in `obj` the way ASP.NET Core binds: case-insensitively. */
export function prop(obj: unknown, name: string): unknown {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return undefined;
  const rec = obj as Record<string, unknown>;
  if (name in rec) return rec[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(rec)) if (k.toLowerCase() === lower) return rec[k];
  return undefined;
}

/** A string; `required`: present and not blank (the checker's "không được để trống"). */
export const text =
  (opts: { required?: boolean; max?: number } = {}): Rule =>
  (v, field, out) => {
    if (!present(v)) {
      if (opts.required) out.push({ field, rule: 'required', message: `${field} không được để trống` });
      return;
    }
    if (typeof v !== 'string') return void out.push({ field, rule: 'type', message: `${field} phải là chuỗi` });
    if (opts.required && v.trim() === '') out.push({ field, rule: 'required', message: `${field} không được để trống` });
    if (opts.max !== undefined && v.length > opts.max) out.push({ field, rule: 'range', message: `${field} dài quá ${opts.max} ký tự` });
  };

/** An int in [min, max]; `fromString`: a string of digits is parsed as the checker does for *AmLuong*. */
export const int =
  (opts: { required?: boolean; min?: number; max?: number; fromString?: boolean } = {}): Rule =>
  (v, field, out) => {
    if (!present(v)) {
      if (opts.required) out.push({ field, rule: 'required', message: `${field} không được để trống` });
      return;
    }
    let n: number | undefined;
    if (typeof v === 'number') n = v;
    else if (opts.fromString && typeof v === 'string' && /^\s*-?\d+\s*$/.test(v)) n = Number(v);
    if (n === undefined || !Number.isInteger(n)) return void out.push({ field, rule: 'type', message: `${field} phải là số nguyên` });
    if ((opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max))
      out.push({ field, rule: 'range', message: `${field} phải trong khoảng ${opts.min ?? '-∞'}–${opts.max ?? '∞'} (nhận ${n})` });
  };

/** A number (lat/lon, power, temperature): finite, in range; null allowed unless required. */
export const num =
  (opts: { required?: boolean; min?: number; max?: number } = {}): Rule =>
  (v, field, out) => {
    if (!present(v)) {
      if (opts.required) out.push({ field, rule: 'required', message: `${field} không được để trống` });
      return;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) return void out.push({ field, rule: 'type', message: `${field} phải là số` });
    if ((opts.min !== undefined && v < opts.min) || (opts.max !== undefined && v > opts.max))
      out.push({ field, rule: 'range', message: `${field} phải trong khoảng ${opts.min}–${opts.max} (nhận ${v})` });
  };

/** A code out of a fixed set (the six national topic codes of *LoaiLinhVuc*). */
export const code =
  (codes: readonly (number | string)[], opts: { required?: boolean } = {}): Rule =>
  (v, field, out) => {
    if (!present(v)) {
      if (opts.required) out.push({ field, rule: 'required', message: `${field} không được để trống` });
      return;
    }
    if (!codes.some((c) => c === v)) out.push({ field, rule: 'code', message: `${field} phải là một trong ${codes.join(', ')} (nhận ${JSON.stringify(v)})` });
  };

// Epoch seconds between 2000 and 2100: a millisecond value (×1000) is the vendors' commonest slip.
const EPOCH_S_MIN = 946_684_800;
const EPOCH_S_MAX = 4_102_444_800;

/** Epoch seconds as an int, where the vendors' agents send ints (*ThoiDiemBatDau*, *ThoiDiemGui*). */
export const epochSeconds =
  (opts: { required?: boolean } = {}): Rule =>
  (v, field, out) => {
    if (!present(v)) {
      if (opts.required) out.push({ field, rule: 'required', message: `${field} không được để trống` });
      return;
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) return void out.push({ field, rule: 'type', message: `${field} phải là số nguyên (giây epoch)` });
    if (v < EPOCH_S_MIN || v > EPOCH_S_MAX)
      out.push({ field, rule: 'epoch-seconds', message: `${field} phải là giây epoch (nhận ${v}${v > EPOCH_S_MAX ? ', có lẽ là mili giây' : ''})` });
  };

/** `HH:mm:ss.ffffff`, exactly: the checker's *LichPhat* time form (six fractional digits, 24-hour). */
export const TIME_OF_DAY = /^([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{6}$/;
export const timeOfDay: Rule = (v, field, out) => {
  if (typeof v !== 'string' || !TIME_OF_DAY.test(v)) out.push({ field, rule: 'time-of-day', message: `${field} phải đúng dạng HH:mm:ss.ffffff (nhận ${JSON.stringify(v)})` });
};

// What .NET's DateTime.Parse takes in the forms a JSON body carries: a date, optionally a time with up to seven
// fractional digits, optionally Z or an offset; `T` or a space between.
const DOTNET_DATETIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?(Z|[+-]\d{2}:\d{2})?$/;

/** True when `s` parses as a .NET `DateTime` (a real calendar date and time). */
export function parsesAsDotnetDateTime(s: string): boolean {
  const m = DOTNET_DATETIME.exec(s);
  if (!m) return false;
  const [y, mo, d, h = '0', mi = '0', se = '0'] = m.slice(1, 7);
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (day.getUTCFullYear() !== Number(y) || day.getUTCMonth() !== Number(mo) - 1 || day.getUTCDate() !== Number(d)) return false;
  return Number(h) < 24 && Number(mi) < 60 && Number(se) < 60;
}

/** *NgayBatDau*, *NgayKetThuc*: must parse as DateTime (the checker's example `2021-12-31T00:00:00.00000`). */
export const dotnetDateTime =
  (opts: { required?: boolean } = {}): Rule =>
  (v, field, out) => {
    if (!present(v) || v === '') {
      if (opts.required) out.push({ field, rule: 'required', message: `${field} không được để trống` });
      return;
    }
    if (typeof v !== 'string' || !parsesAsDotnetDateTime(v))
      out.push({ field, rule: 'datetime', message: `${field} không đọc được thành ngày giờ (ví dụ 2021-12-31T00:00:00.00000; nhận ${JSON.stringify(v)})` });
  };

/** A list; `nonEmpty`: at least one element (*DanhSachDiaBanNhan*); each element checked by `item`. */
export const list =
  (item: Rule, opts: { required?: boolean; nonEmpty?: boolean; max?: number } = {}): Rule =>
  (v, field, out) => {
    if (!present(v)) {
      if (opts.required || opts.nonEmpty) out.push({ field, rule: 'required', message: `${field} không được để trống` });
      return;
    }
    if (!Array.isArray(v)) return void out.push({ field, rule: 'type', message: `${field} phải là danh sách` });
    if (opts.nonEmpty && v.length === 0) out.push({ field, rule: 'required', message: `${field} không được để trống` });
    if (opts.max !== undefined && v.length > opts.max) out.push({ field, rule: 'range', message: `${field} có quá ${opts.max} phần tử` });
    v.forEach((x, i) => item(x, `${field}[${i}]`, out));
  };

/** A nested object whose fields are checked by `fields` (absent: refused only when required). */
export const object =
  (fields: Record<string, Rule>, opts: { required?: boolean } = {}): Rule =>
  (v, field, out) => {
    if (!present(v)) {
      if (opts.required) out.push({ field, rule: 'required', message: `${field} không được để trống` });
      return;
    }
    if (typeof v !== 'object' || Array.isArray(v)) return void out.push({ field, rule: 'type', message: `${field} phải là đối tượng` });
    checkFields(fields, v, field, out);
  };

/** The English variant's `{id, value}` pairs: `id` an int in range, `value` its label (a string). */
export const idValue =
  (opts: { required?: boolean; min: number; max: number }): Rule =>
  (v, field, out) => {
    if (!present(v)) {
      if (opts.required) out.push({ field, rule: 'required', message: `${field} không được để trống` });
      return;
    }
    if (typeof v !== 'object' || Array.isArray(v)) return void out.push({ field, rule: 'type', message: `${field} phải là cặp {id, value}` });
    int({ required: true, min: opts.min, max: opts.max })(prop(v, 'id'), `${field}.id`, out);
    text()(prop(v, 'value'), `${field}.value`, out);
  };

export function checkFields(fields: Record<string, Rule>, body: unknown, prefix: string, out: Problem[]): void {
  for (const [name, rule] of Object.entries(fields)) rule(prop(body, name), prefix ? `${prefix}.${name}` : name, out);
}

/** Every problem of `body` against `fields`; a body that is not a JSON object is one problem. */
export function check(fields: Record<string, Rule>, body: unknown): Problem[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return [{ field: '$', rule: 'type', message: 'Nội dung phải là một đối tượng JSON' }];
  const out: Problem[] = [];
  checkFields(fields, body, '', out);
  return out;
}
