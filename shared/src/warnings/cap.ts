/**
 * The Common Alerting Protocol 1.2 (OASIS Standard, 1 July 2010) as zod schemas: the model that CAP XML is
 * read into (server/src/warnings/cap-read.ts) and written from (cap-write.ts). Section numbers are those of
 * the standard ("CAP-v1.2-os"): §3.2.1 alert, §3.2.2 info, §3.2.3 resource, §3.2.4 area, §3.3.2 DateTime.
 *
 * The model is structured where the XML packs several values in one string — polygons and circles are
 * numbers, `references` are triples, `addresses` and `incidents` are lists — so nothing downstream parses
 * CAP strings again. Repeated elements are arrays that are always present (empty when absent), and
 * `language` takes the standard's default, so a model written and read back is equal to itself.
 */
import { z } from 'zod';

export const CAP_NAMESPACE = 'urn:oasis:names:tc:emergency:cap:1.2';
/** The MIME type of a CAP document (CAP 1.2 Appendix, IANA registration; also the Atom `content` type). */
export const CAP_MIME_TYPE = 'application/cap+xml';

export const CAP_STATUSES = ['Actual', 'Exercise', 'System', 'Test', 'Draft'] as const;
export const CAP_MSG_TYPES = ['Alert', 'Update', 'Cancel', 'Ack', 'Error'] as const;
export const CAP_SCOPES = ['Public', 'Restricted', 'Private'] as const;
export const CAP_CATEGORIES = ['Geo', 'Met', 'Safety', 'Security', 'Rescue', 'Fire', 'Health', 'Env', 'Transport', 'Infra', 'CBRNE', 'Other'] as const;
export const CAP_RESPONSE_TYPES = ['Shelter', 'Evacuate', 'Prepare', 'Execute', 'Avoid', 'Monitor', 'Assess', 'AllClear', 'None'] as const;
export const CAP_URGENCIES = ['Immediate', 'Expected', 'Future', 'Past', 'Unknown'] as const;
export const CAP_SEVERITIES = ['Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'] as const;
export const CAP_CERTAINTIES = ['Observed', 'Likely', 'Possible', 'Unlikely', 'Unknown'] as const;

export type CapStatus = (typeof CAP_STATUSES)[number];
export type CapMsgType = (typeof CAP_MSG_TYPES)[number];
export type CapUrgency = (typeof CAP_URGENCIES)[number];
export type CapSeverity = (typeof CAP_SEVERITIES)[number];
export type CapCertainty = (typeof CAP_CERTAINTIES)[number];
export type CapCategory = (typeof CAP_CATEGORIES)[number];

/**
 * §3.3.2: "2002-05-24T16:49:00-07:00"; no fractional seconds; an offset always, never "Z"; UTC is written
 * "-00:00". The XSD's pattern (`[-,+]\d\d:\d\d`) also lets "+00:00" through, and senders use it, so we read
 * both and write "-00:00" (formatCapDateTime).
 */
export const CAP_DATETIME_PATTERN = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)([-+])(\d\d):(\d\d)$/;

/** Milliseconds since the epoch of a CAP DateTime, or null when it is not one (bad form or no such date). */
export function capDateTimeToMs(value: string): number | null {
  const m = CAP_DATETIME_PATTERN.exec(value);
  if (!m) return null;
  const [y, mo, d, h, mi, s, sign, oh, om] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), m[7], Number(m[8]), Number(m[9])];
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59 || oh > 14 || om > 59) return null;
  const local = Date.UTC(y, mo - 1, d, h, mi, s);
  if (new Date(local).getUTCDate() !== d) return null; // 31 April, 29 February of a common year
  return local - (sign === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
}

/**
 * A CAP DateTime for an instant, shown at `offsetMinutes` from UTC (Vietnam: +07:00, the default). Seconds
 * are truncated (§3.3.2 has no fractions); offset 0 is written "-00:00" as §3.3.2 requires.
 */
export function formatCapDateTime(ms: number, offsetMinutes = 420): string {
  const t = new Date(Math.floor(ms / 1000) * 1000 + offsetMinutes * 60_000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const sign = offsetMinutes > 0 ? '+' : '-';
  const off = Math.abs(offsetMinutes);
  return `${p(t.getUTCFullYear(), 4)}-${p(t.getUTCMonth() + 1)}-${p(t.getUTCDate())}T${p(t.getUTCHours())}:${p(t.getUTCMinutes())}:${p(t.getUTCSeconds())}${sign}${p(Math.floor(off / 60))}:${p(off % 60)}`;
}

export const capDateTimeSchema = z.string().refine((v) => capDateTimeToMs(v) !== null, {
  message: 'must be a CAP DateTime like 2026-12-07T10:00:00+07:00 (no fractional seconds, no "Z")',
});

/**
 * Characters an XML 1.0 document can hold (§2.2 Char): a model string outside it could not be written as
 * CAP. In `u` mode a lone surrogate is a code point of its own, outside every range.
 */
const XML_CHARS = /^[\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;
/**
 * Trimmed: CAP readers (ours included) trim a value's surrounding white space, which pretty-printing adds,
 * so a model that kept it would not read back the same.
 */
const xmlString = () => z.string().trim().regex(XML_CHARS, 'contains a character XML cannot hold');

/** §3.2.1 identifier and sender: "MUST NOT include spaces, commas or restricted characters (< and &)". */
const capId = xmlString().min(1).max(1000).regex(/^[^\s,<&]+$/, 'must not contain spaces, commas, "<" or "&"');
/** Free text elements; bounded so one field cannot hold a whole document. */
const text = (max = 20_000) => xmlString().max(max);

/** §3.2.1 references: one referenced message, written "sender,identifier,sent". */
export const capReferenceSchema = z.object({ sender: capId, identifier: capId, sent: capDateTimeSchema });
/** A "valueName"/"value" pair (eventCode, parameter, geocode; §3.2.2, §3.2.4). */
export const capValuePairSchema = z.object({ valueName: text(500), value: text(5000) });

/** WGS 84 point, as CAP writes it: "lat,lon" (§3.2.4). */
export const capPointSchema = z.tuple([z.number().min(-90).max(90), z.number().min(-180).max(180)]);
export type CapPoint = z.infer<typeof capPointSchema>;

/** §3.2.4 polygon: "a minimum of four coordinate pairs", "the first and last pairs of coordinates MUST be the same". */
export const capPolygonSchema = z
  .array(capPointSchema)
  .min(4, 'a polygon needs at least 4 points (CAP 1.2 §3.2.4)')
  .max(10_000)
  // zod runs this check even when `min` failed: an empty or one-point polygon must not throw here.
  .refine((ps) => ps.length > 0 && ps[0]![0] === ps[ps.length - 1]![0] && ps[0]![1] === ps[ps.length - 1]![1], { message: 'a polygon must be closed: its first and last points the same (CAP 1.2 §3.2.4)' });

/** §3.2.4 circle: "lat,lon radius", the radius in kilometres. */
export const capCircleSchema = z.object({ center: capPointSchema, radiusKm: z.number().min(0).max(20_040) });

export const capAreaSchema = z
  .object({
    areaDesc: text(5000).min(1),
    polygon: z.array(capPolygonSchema).max(1000).default([]),
    circle: z.array(capCircleSchema).max(1000).default([]),
    geocode: z.array(capValuePairSchema).max(10_000).default([]),
    /** Feet above mean sea level (WGS 84 datum, §3.2.4). */
    altitude: z.number().optional(),
    ceiling: z.number().optional(),
  })
  // §3.2.4 ceiling: "MUST NOT be used except in combination with the altitude element".
  .refine((a) => a.ceiling === undefined || a.altitude !== undefined, { message: 'ceiling needs altitude (CAP 1.2 §3.2.4)', path: ['ceiling'] });

export const capResourceSchema = z.object({
  resourceDesc: text(5000).min(1),
  mimeType: xmlString().min(1).max(255),
  /** Bytes (§3.2.3: "approximate size of the resource file in bytes"). */
  size: z.number().int().min(0).optional(),
  uri: xmlString().min(1).max(2048).optional(),
  /** Base64 of the resource itself, "in lieu of the uri" (§3.2.3); bounded by the reader's document size. */
  derefUri: xmlString().min(1).optional(),
  /** SHA-1 hash of the resource (§3.2.3). */
  digest: xmlString().max(256).optional(),
});

export const capInfoSchema = z.object({
  /** RFC 3066 language (xs:language); §3.2.2: "if not present, an implicit default value of 'en-US'". */
  language: z.string().regex(/^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$/, 'must be a language tag like vi or vi-VN').default('en-US'),
  category: z.array(z.enum(CAP_CATEGORIES)).min(1, 'at least one category (CAP 1.2 §3.2.2)').max(CAP_CATEGORIES.length),
  event: text(1000).min(1),
  responseType: z.array(z.enum(CAP_RESPONSE_TYPES)).max(CAP_RESPONSE_TYPES.length).default([]),
  urgency: z.enum(CAP_URGENCIES),
  severity: z.enum(CAP_SEVERITIES),
  certainty: z.enum(CAP_CERTAINTIES),
  audience: text().optional(),
  eventCode: z.array(capValuePairSchema).max(100).default([]),
  effective: capDateTimeSchema.optional(),
  onset: capDateTimeSchema.optional(),
  expires: capDateTimeSchema.optional(),
  senderName: text(1000).optional(),
  /** §3.2.2 recommends under 160 characters; longer ones are accepted (the standard says SHOULD). */
  headline: text(1000).optional(),
  description: text(200_000).optional(),
  instruction: text(200_000).optional(),
  /** §3.2.2: "a full absolute URI". */
  web: xmlString().max(2048).regex(/^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$/, 'must be an absolute URI').optional(),
  contact: text(1000).optional(),
  parameter: z.array(capValuePairSchema).max(1000).default([]),
  resource: z.array(capResourceSchema).max(100).default([]),
  area: z.array(capAreaSchema).max(1000).default([]),
});

export const capAlertSchema = z
  .object({
    identifier: capId,
    sender: capId,
    sent: capDateTimeSchema,
    status: z.enum(CAP_STATUSES),
    msgType: z.enum(CAP_MSG_TYPES),
    source: text(1000).optional(),
    scope: z.enum(CAP_SCOPES),
    restriction: text(5000).optional(),
    /** §3.2.1: space-delimited; an address with spaces is written in double quotes. */
    addresses: z.array(xmlString().min(1).max(1000).regex(/^[^"]+$/, 'an address cannot contain a double quote')).max(10_000).default([]),
    code: z.array(text(1000)).max(100).default([]),
    note: text().optional(),
    references: z.array(capReferenceSchema).max(1000).default([]),
    incidents: z.array(xmlString().min(1).max(1000).regex(/^[^"]+$/, 'an incident cannot contain a double quote')).max(1000).default([]),
    info: z.array(capInfoSchema).max(100).default([]),
  })
  .superRefine((a, ctx) => {
    // §3.2.1 restriction: "Used when <scope> value is 'Restricted'"; addresses: "Required when <scope> is 'Private'".
    if (a.scope === 'Restricted' && a.restriction === undefined) ctx.addIssue({ code: 'custom', path: ['restriction'], message: 'a Restricted alert needs <restriction> (CAP 1.2 §3.2.1)' });
    if (a.scope === 'Private' && a.addresses.length === 0) ctx.addIssue({ code: 'custom', path: ['addresses'], message: 'a Private alert needs <addresses> (CAP 1.2 §3.2.1)' });
    if (a.scope === 'Public' && a.restriction !== undefined) ctx.addIssue({ code: 'custom', path: ['restriction'], message: '<restriction> is only for Restricted alerts (CAP 1.2 §3.2.1)' });
    // An Update, Cancel, Ack or Error is about earlier messages: without references nobody knows which.
    // §3.2.1 does not say MUST, but without them we could not replace or stop anything (issue 18).
    if (a.msgType !== 'Alert' && a.references.length === 0) ctx.addIssue({ code: 'custom', path: ['references'], message: `${a.msgType === 'Update' || a.msgType === 'Ack' || a.msgType === 'Error' ? 'an' : 'a'} ${a.msgType} must name the messages it refers to in <references>` });
  });

export type CapReference = z.infer<typeof capReferenceSchema>;
export type CapValuePair = z.infer<typeof capValuePairSchema>;
export type CapPolygon = z.infer<typeof capPolygonSchema>;
export type CapCircle = z.infer<typeof capCircleSchema>;
export type CapArea = z.infer<typeof capAreaSchema>;
export type CapResource = z.infer<typeof capResourceSchema>;
export type CapInfo = z.infer<typeof capInfoSchema>;
export type CapAlert = z.infer<typeof capAlertSchema>;
/** What an author (the warning form, a test) writes: arrays and language may be left out. */
export type CapAlertInput = z.input<typeof capAlertSchema>;

/** "sender,identifier,sent" — how §3.2.1 writes one reference, and the key that makes a message unique. */
export function capReferenceKey(r: CapReference): string {
  return `${r.sender},${r.identifier},${r.sent}`;
}

/** The reference another message would use for this alert. */
export function capReferenceOf(a: Pick<CapAlert, 'sender' | 'identifier' | 'sent'>): CapReference {
  return { sender: a.sender, identifier: a.identifier, sent: a.sent };
}
