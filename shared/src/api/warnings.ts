/**
 * Disaster warnings (issue 18): Decision 18/2021/QĐ-TTg warnings written on the province's form, CAP 1.2 alerts
 * pushed by or pulled from a warning source, what each became (an emergency on the communes' speakers, or a
 * wait for a person), and the sources with their policy. The CAP model itself is `../warnings/cap.ts`; the
 * kinds and risk levels are `../warnings/decision18.ts`.
 *
 * Words: a **warning** is one event as we track it (a CAP `identifier` chain: the Alert and the Updates that
 * replace it, until a Cancel or its expiry); each message of the chain is a **version**; a **source** is a
 * sender we take CAP from (pushed to us with its token, or pulled from its feed) with its **policy**.
 */
import { z } from 'zod';
import { areaCodeSchema } from '../ids.js';
import { CAP_CERTAINTIES, CAP_MSG_TYPES, CAP_SEVERITIES, CAP_STATUSES, CAP_URGENCIES } from '../warnings/cap.js';
import { DISASTER_KIND_IDS } from '../warnings/decision18.js';
import { pageQuerySchema } from './common.js';
import { readingSpanSchema } from './broadcasts.js';
import { instantSchema } from './schedule.js';

export const riskLevelSchema = z.number().int().min(1).max(5);
export const disasterKindSchema = z.enum(DISASTER_KIND_IDS);

/**
 * What a source's messages become. A message airs at once as an emergency (Circular 39: it interrupts
 * everything) when its status is one of `airStatuses` and either its severity, urgency and certainty are all
 * in `atOnce`'s lists, or its Decision 18 risk level is at least `atOnce.minRiskLevel`. Any other message
 * of an airing status waits for a person (`others: 'wait'`) or is only recorded (`'ignore'`); a message of
 * another status (Test, System, Draft, an Exercise not listed) is recorded and never airs.
 */
export const warningPolicySchema = z.object({
  airStatuses: z.array(z.enum(['Actual', 'Exercise'])).max(2).default(['Actual']),
  atOnce: z
    .object({
      severities: z.array(z.enum(CAP_SEVERITIES)).max(CAP_SEVERITIES.length).default(['Extreme', 'Severe']),
      urgencies: z.array(z.enum(CAP_URGENCIES)).max(CAP_URGENCIES.length).default(['Immediate', 'Expected']),
      certainties: z.array(z.enum(CAP_CERTAINTIES)).max(CAP_CERTAINTIES.length).default(['Observed', 'Likely']),
      /** null: the risk level alone never airs a message at once. */
      minRiskLevel: riskLevelSchema.nullable().default(4),
    })
    .default({ severities: ['Extreme', 'Severe'], urgencies: ['Immediate', 'Expected'], certainties: ['Observed', 'Likely'], minRiskLevel: 4 }),
  others: z.enum(['wait', 'ignore']).default('wait'),
  /** Aired again every N minutes until the warning expires; 0: once. */
  repeatMinutes: z.number().int().min(0).max(1440).default(30),
  /** An attention signal (a distinct alert tone) before the speech. */
  attention: z.boolean().default(true),
  /** How long a warning without `expires` holds, hours. */
  defaultValidHours: z.number().int().min(1).max(168).default(6),
});
export type WarningPolicy = z.infer<typeof warningPolicySchema>;
export type WarningPolicyInput = z.input<typeof warningPolicySchema>;
export const DEFAULT_WARNING_POLICY: WarningPolicy = warningPolicySchema.parse({});

export const WARNING_SOURCE_KINDS = ['push', 'feed'] as const;

const httpUrl = z
  .string()
  .max(2000)
  .url()
  .refine((u) => /^https?:\/\//i.test(u), 'must be an http:// or https:// URL');

/** A warning source as the province admin sees it. Its push token is shown once, when made or renewed. */
export const warningSourceSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(WARNING_SOURCE_KINDS),
  /** The CAP, Atom or RSS document we pull (kind `feed`). */
  feedUrl: z.string().nullable(),
  pollSeconds: z.number().int(),
  /** The areas its messages may reach: anything outside is left out (and shown as such). */
  areaCodes: z.array(z.string()),
  policy: warningPolicySchema,
  /** CAP geocode value names it gives our official codes under (besides the defaults). */
  geocodeValueNames: z.array(z.string()),
  /** Its messages must carry a valid XML signature (CAP 1.2 §3.3.4.1) by the certificate set here. */
  requireSignature: z.boolean(),
  /** Subject of the certificate its signatures are checked against, when one is set. */
  certificateSubject: z.string().nullable(),
  createdAt: z.string(),
  disabledAt: z.string().nullable(),
  /** How its feed is doing (kind `feed`). */
  feed: z
    .object({
      lastPolledAt: z.string().nullable(),
      lastChangedAt: z.string().nullable(),
      /** "200", "304", "error: …" */
      lastResult: z.string().nullable(),
      failures: z.number().int(),
      nextPollAt: z.string().nullable(),
    })
    .nullable(),
});
export type WarningSource = z.infer<typeof warningSourceSchema>;

export const warningSourceCreateBodySchema = z.object({
  name: z.string().trim().min(1).max(200),
  kind: z.enum(WARNING_SOURCE_KINDS),
  feedUrl: httpUrl.optional(),
  pollSeconds: z.number().int().min(15).max(3600).default(60),
  areaCodes: z.array(areaCodeSchema).min(1).max(5000),
  policy: warningPolicySchema.default(DEFAULT_WARNING_POLICY),
  geocodeValueNames: z.array(z.string().trim().min(1).max(100)).max(20).default([]),
  requireSignature: z.boolean().default(false),
  /** PEM of the X.509 certificate whose key signs the source's messages. */
  certificatePem: z.string().max(20_000).optional(),
});
export const warningSourceUpdateBodySchema = warningSourceCreateBodySchema
  .omit({ kind: true })
  .partial()
  .extend({ disabled: z.boolean().optional(), certificatePem: z.string().max(20_000).nullable().optional() });
/** A source as made, with the token it pushes with (`Authorization: Bearer …`), shown this once. */
export const warningSourceCreatedSchema = warningSourceSchema.extend({ token: z.string().nullable() });
export const warningSourceListSchema = z.object({ items: z.array(warningSourceSchema) });

export const WARNING_STATES = ['pending', 'airing', 'expired', 'cancelled', 'rejected', 'held', 'unmatched'] as const;
export type WarningState = (typeof WARNING_STATES)[number];

export const warningReachSchema = z.object({
  /** Boxes sent the current version. */
  targeted: z.number().int(),
  /** Boxes that have aired the current version at least once. */
  aired: z.number().int(),
  /** Boxes airing it now. */
  playing: z.number().int(),
  /** Boxes that could not air it (failed, expired, missed). */
  failed: z.number().int(),
});

export const warningVersionSchema = z.object({
  version: z.number().int(),
  identifier: z.string(),
  sender: z.string(),
  sent: z.string(),
  msgType: z.enum(CAP_MSG_TYPES),
  receivedAt: z.string(),
  bulletinId: z.string().nullable(),
  broadcastId: z.string().nullable(),
});

export const warningSchema = z.object({
  id: z.string(),
  /** null: written on the province's warning form. */
  sourceId: z.string().nullable(),
  sourceName: z.string(),
  /** The CAP identifier and sender of the first message of the chain. */
  identifier: z.string(),
  sender: z.string(),
  status: z.enum(CAP_STATUSES),
  kind: disasterKindSchema.nullable(),
  riskLevel: riskLevelSchema.nullable(),
  event: z.string(),
  headline: z.string().nullable(),
  severity: z.enum(CAP_SEVERITIES),
  urgency: z.enum(CAP_URGENCIES),
  certainty: z.enum(CAP_CERTAINTIES),
  expiresAt: z.string().nullable(),
  state: z.enum(WARNING_STATES),
  /** Why it is in that state, in Vietnamese ("chờ duyệt: mức độ Moderate không phát ngay theo chính sách nguồn"). */
  reason: z.string().nullable(),
  /** What it airs at (once approved or by policy). */
  priority: z.enum(['emergency', 'priority']).nullable(),
  decidedBy: z.string().nullable(),
  announcement: z.string(),
  communes: z.array(z.object({ code: z.string(), name: z.string() })),
  boxes: z.number().int(),
  boxesWithoutCoordinates: z.number().int(),
  /** What an area said that reached nothing of ours (or lay outside the source's areas). */
  unmatched: z.array(z.object({ what: z.string(), value: z.string() })),
  repeatMinutes: z.number().int(),
  version: z.number().int(),
  versions: z.array(warningVersionSchema),
  reach: warningReachSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Warning = z.infer<typeof warningSchema>;
export const warningListQuerySchema = pageQuerySchema.extend({ state: z.enum(WARNING_STATES).optional() });
export const warningListSchema = z.object({ items: z.array(warningSchema), total: z.number().int(), next: z.string().nullable() });

/** The province's warning form. The announcement is generated from it unless an edited one is given. */
export const warningFormBodySchema = z.object({
  kind: disasterKindSchema,
  riskLevel: riskLevelSchema.nullable(),
  agency: z.string().trim().min(1).max(300),
  agencyText: z.string().trim().min(1).max(20_000),
  /** Provinces and communes concerned (our official codes). */
  areaCodes: z.array(areaCodeSchema).min(1).max(5000),
  validUntil: instantSchema,
  /** The announcement as edited on the form; generated from the template when absent. */
  announcement: z.string().trim().min(1).max(20_000).optional(),
  /** Emergency (interrupts everything) or priority; default by the risk level (3 and above: emergency). */
  priority: z.enum(['emergency', 'priority']).optional(),
  repeatMinutes: z.number().int().min(0).max(1440).default(30),
  attention: z.boolean().default(true),
  /** The reading preview was looked at (issue 19): spans the reader guessed or could not read are accepted. */
  checked: z.boolean().default(false),
});
export type WarningFormBody = z.input<typeof warningFormBodySchema>;

/** What the form (or a CAP message, for a source's admin) would become, before anything airs. */
export const warningPreviewSchema = z.object({
  announcement: z.string(),
  readingSpans: z.array(readingSpanSchema),
  communes: z.array(z.object({ code: z.string(), name: z.string() })),
  boxes: z.number().int(),
  boxesWithoutCoordinates: z.number().int(),
  unmatched: z.array(z.object({ what: z.string(), value: z.string() })),
  /** For a CAP message: what the source's policy would do with it. */
  decision: z.enum(['air-now', 'wait', 'hold']).nullable(),
  reason: z.string().nullable(),
});

export const warningApproveBodySchema = z.object({
  priority: z.enum(['emergency', 'priority']).default('emergency'),
  announcement: z.string().trim().min(1).max(20_000).optional(),
  checked: z.boolean().default(false),
});
export const warningRejectBodySchema = z.object({ reason: z.string().trim().min(1).max(500) });
export const warningCancelBodySchema = z.object({ reason: z.string().trim().min(1).max(500) });

/** One row of a warning's as-run: which box aired which version when. */
export const warningAsRunSchema = z.object({
  items: z.array(
    z.object({
      deviceId: z.string(),
      deviceName: z.string(),
      areaCode: z.string(),
      version: z.number().int(),
      occurrenceAt: z.string(),
      state: z.string(),
      startedAt: z.string().nullable(),
      endedAt: z.string().nullable(),
    }),
  ),
  total: z.number().int(),
});

/** The answer to a CAP message pushed by a source. */
export const warningPushResultSchema = z.object({
  /** false for a message already taken (same sender, identifier and sent): ignored. */
  accepted: z.boolean(),
  warningId: z.string().nullable(),
  state: z.enum(WARNING_STATES).nullable(),
  message: z.string(),
});
