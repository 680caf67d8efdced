/**
 * A province's vocabulary as data (issue 17): a **mapping** says, for every message of the internal model
 * (`./model.ts`), the HTTP method and path, and how each province field is made from the model — and, read the
 * other way, how the model is read back from a province's body. One engine (`./codec.ts`) runs every mapping
 * both ways, so a Loa Xã commune system (encoding up, decoding down) and a Loa Xã source system (decoding up,
 * encoding down) cannot drift apart. Two mappings ship (`./mappings/vi.ts`, the Vietnamese-field variant most
 * provinces use, and `./mappings/en.ts`, the English-field one); a province's own is a JSON file named by
 * `LOAXA_NATIONAL_MAPPING`, checked by `mappingSchema` when the server starts (a bad file stops the start with
 * the field that is wrong).
 *
 * Paths of the shipped Vietnamese variant (relative to the province's base URL, `LOAXA_NATIONAL_URL`; a Loa Xã
 * source system serves them under `/national`):
 *   login                 POST /api/auth/login            {Username, Password} → {TrangThaiGui, MoTa, NoiDung{Token}}
 *   up   box-status       POST /api/thietbi/trangthai     every 30 s per box
 *   up   airing-start     POST /api/nhatky/bantin         the play log at an airing's start
 *   up   airing-end       POST /api/nhatky/ketqua         completion (GiaTri 1) or failure (GiaTri 0)
 *   up   schedule-ack     POST /api/bantin/xacnhan        our answer to a bulletin that came down
 *   down bulletin         POST /api/bantin                a bulletin with its schedule
 *   down bulletin-delete  POST /api/bantin/xoa
 *   down bulletin-reschedule POST /api/bantin/lichphat
 *   down device-control   POST /api/thietbi/dieukhien
 * The English variant uses /api/auth/token, /api/device/status, /api/log/play, /api/log/result,
 * /api/news/ack, /api/news, /api/news/delete, /api/news/schedule, /api/device/control.
 * Every answer, both ways, is the mapping's `answer` form ({TrangThaiGui 0|1, MoTa} in the Vietnamese variant).
 */
import { z } from 'zod';
import { DOWNSTREAM_COMMAND_KINDS, UPSTREAM_EVENT_KINDS } from './model.js';

/**
 * How a value is written on the wire. `epoch-s`/`epoch-ms`: numbers; `iso-local`: `2021-12-31T00:00:00.00000`
 * in the mapping's time zone (the published checker's example), `iso-offset`: with the offset; `time-of-day`:
 * the model's `HH:mm:ss` written `HH:mm:ss.ffffff` (the checker's exact form); `date-number`: a local date
 * as the number yyyymmdd; `string`/`int`/`number`: the value as that JSON type (a model number written as a
 * string, as the vendors' agents do for *AmLuong*).
 */
export const CONVERSIONS = ['string', 'int', 'number', 'boolean-int', 'epoch-s', 'epoch-ms', 'iso-local', 'iso-offset', 'time-of-day', 'date-number'] as const;
export type Conversion = (typeof CONVERSIONS)[number];

/** A dotted path into the model (`box.area.code`), or `$` for the element itself inside `each`. */
const modelPath = z.string().regex(/^(\$|[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*)$/, 'must be a dotted path such as box.area.code');

export type FieldRule =
  | { const: string | number | boolean | null }
  | {
      from: string;
      as?: Conversion | undefined;
      /** A code table of `codes` (priority, category, contentType, playMode, scheduleKind, operating, command). */
      codes?: string | undefined;
      /** With `codes`: write the code (default), `{id, value}` (the English variant's pairs) or the label. */
      shape?: 'code' | 'id-value' | 'label' | undefined;
      /** Reading a body: the field may be absent, and then the model gets `default`. Writing: always written. */
      required?: boolean | undefined;
      default?: unknown;
    }
  | { object: Record<string, FieldRule> }
  | { each: string; item: FieldRule; required?: boolean | undefined };

export const fieldRuleSchema: z.ZodType<FieldRule> = z.lazy(() =>
  z.union([
    z.object({ const: z.union([z.string(), z.number(), z.boolean(), z.null()]) }).strict(),
    z
      .object({
        from: modelPath,
        as: z.enum(CONVERSIONS).optional(),
        codes: z.string().min(1).max(64).optional(),
        shape: z.enum(['code', 'id-value', 'label']).optional(),
        required: z.boolean().optional(),
        default: z.unknown().optional(),
      })
      .strict(),
    z.object({ object: z.record(z.string().min(1).max(100), fieldRuleSchema) }).strict(),
    z.object({ each: modelPath, item: fieldRuleSchema, required: z.boolean().optional() }).strict(),
  ]),
);

export const messageRuleSchema = z
  .object({
    method: z.enum(['POST', 'PUT', 'DELETE']).default('POST'),
    /** Relative to the province's base URL; starts with `/`. */
    path: z.string().regex(/^\/[A-Za-z0-9/_.-]*$/, 'must be a path such as /api/thietbi/trangthai'),
    body: fieldRuleSchema,
  })
  .strict();
export type MessageRule = z.infer<typeof messageRuleSchema>;

/** One entry of a code table: our value, the province's code, and its label (`{id, value}` pairs use both). */
export const codeEntrySchema = z.object({ internal: z.union([z.string(), z.number(), z.boolean()]), code: z.union([z.string(), z.number()]), label: z.string().max(200).optional() }).strict();

const kindRecord = <K extends readonly [string, ...string[]]>(kinds: K) => z.object(Object.fromEntries(kinds.map((k) => [k, messageRuleSchema])) as { [P in K[number]]: typeof messageRuleSchema }).strict();

export const mappingSchema = z
  .object({
    name: z.string().min(1).max(100),
    description: z.string().max(2000).default(''),
    /** The offset local times are written in; Vietnam is +07:00 all year. */
    timeZoneOffset: z.string().regex(/^[+-]\d{2}:\d{2}$/).default('+07:00'),
    login: z
      .object({
        path: messageRuleSchema.shape.path,
        /** Made from `nationalLoginSchema` ({username, password}). */
        body: fieldRuleSchema,
        /** Where the token is in the login's answer (dotted path in the province's body, e.g. NoiDung.Token). */
        token: z.string().min(1).max(200),
        /** Where its expiry is, if the province says (epoch seconds or ISO); absent: renewed on 401 only. */
        expiresAt: z.string().min(1).max(200).optional(),
        /** The header the token travels in, and its scheme. */
        header: z.string().min(1).max(100).default('Authorization'),
        scheme: z.string().max(50).default('Bearer'),
      })
      .strict(),
    /** The answer form of every request: the field holding the status, the value meaning accepted, the message field. */
    answer: z
      .object({ status: z.string().min(1).max(100), okValue: z.union([z.string(), z.number(), z.boolean()]), refusedValue: z.union([z.string(), z.number(), z.boolean()]), message: z.string().min(1).max(100) })
      .strict(),
    up: kindRecord(UPSTREAM_EVENT_KINDS),
    down: kindRecord(DOWNSTREAM_COMMAND_KINDS),
    codes: z.record(z.string().min(1).max(64), z.array(codeEntrySchema).min(1).max(1000)),
  })
  .strict();
export type Mapping = z.infer<typeof mappingSchema>;
export type MappingInput = z.input<typeof mappingSchema>;

/** A request made from a mapping: what the link sends (or what a served route expects). */
export interface EncodedRequest {
  method: 'POST' | 'PUT' | 'DELETE';
  path: string;
  body: unknown;
}

/**
 * A body that does not read as the mapping says: each problem with the province field's path (`LichPhat.
 * ThoiDiemBatDau[0]`) and what is wrong, so the answer's *MoTa* and the province admin's log can show it.
 */
export class NationalDecodeError extends Error {
  constructor(
    readonly issues: Array<{ field: string; problem: string }>,
    message = `Nội dung không đúng định dạng: ${issues
      .slice(0, 5)
      .map((i) => `${i.field}: ${i.problem}`)
      .join('; ')}`,
  ) {
    super(message);
    this.name = 'NationalDecodeError';
  }
}
