/**
 * The national link seen from the province admin (issue 17; Decision 135/QĐ-TTg, CV 1273/BTTTT-TTCS): the
 * other systems of the link (peers), what they sent to our served interface, the children's boxes and airings
 * (the central dashboard) and bulletins sent down to children. The upstream link's own schemas (outbox, what
 * was refused) are in `./national-link.ts`.
 */
import { z } from 'zod';
import { areaCodeSchema, idSchema } from '../ids.js';
import { prioritySchema } from '../messages.js';
import { pageQuerySchema } from './common.js';
import { instantSchema } from './schedule.js';

export const NATIONAL_PEER_ROLES = ['parent', 'child'] as const;

/**
 * A mapping name: a shipped one (`vi`, `en`) or the name of a JSON file in the server's mappings folder
 * (checked when the peer is saved). A name, never a path (issue 17 review: a path opened any server file).
 */
const mappingName = z.string().trim().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be vi, en or the name of a file in the mappings folder (a-z, 0-9, . _ -)');
const httpUrl = z
  .string()
  .max(2000)
  .url()
  .refine((u) => /^https?:\/\//i.test(u), 'must be an http:// or https:// URL');
/** The user name a peer logs in to us with (served interface): printable, no spaces. */
const peerUsername = z.string().regex(/^[A-Za-z0-9._@-]{3,100}$/, 'must be 3–100 letters, digits or . _ @ -');

export const nationalPeerSchema = z.object({
  id: z.string(),
  role: z.enum(NATIONAL_PEER_ROLES),
  name: z.string(),
  /** Its NguonID / SourceId: what it writes as the sender, and what we write when we send down to it. */
  sourceId: z.string(),
  mapping: z.string(),
  username: z.string(),
  areaCodes: z.array(z.string()),
  baseUrl: z.string().nullable(),
  outUsername: z.string().nullable(),
  /** Whether a password to log in at `baseUrl` is stored (it is never shown). */
  hasOutPassword: z.boolean(),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});

export const nationalPeerCreateBodySchema = z.object({
  role: z.enum(NATIONAL_PEER_ROLES),
  name: z.string().trim().min(1).max(200),
  sourceId: z.string().trim().min(1).max(64),
  mapping: mappingName.default('vi'),
  username: peerUsername,
  /** The areas it may act on: a parent sends bulletins to them, a child reports boxes in them. */
  areaCodes: z.array(areaCodeSchema).min(1).max(5000),
  baseUrl: httpUrl.optional(),
  outUsername: z.string().min(1).max(200).optional(),
  outPassword: z.string().min(1).max(500).optional(),
});
export const nationalPeerUpdateBodySchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    sourceId: z.string().trim().min(1).max(64),
    mapping: mappingName,
    areaCodes: z.array(areaCodeSchema).min(1).max(5000),
    baseUrl: httpUrl.nullable(),
    outUsername: z.string().min(1).max(200).nullable(),
    outPassword: z.string().min(1).max(500).nullable(),
    /** A new password it logs in to us with, generated and shown once in the answer. */
    resetPassword: z.literal(true),
  })
  .partial();
/** The password it logs in to us with, shown once (only its hash is kept). */
export const nationalPeerCreatedSchema = nationalPeerSchema.extend({ password: z.string().optional() });
export const nationalPeerListSchema = z.object({ items: z.array(nationalPeerSchema) });

export const nationalInboundQuerySchema = pageQuerySchema.extend({ peerId: z.string().max(64).optional(), accepted: z.enum(['true', 'false']).optional() });
export const nationalInboundSchema = z.object({
  id: z.number(),
  peerId: z.string().nullable(),
  kind: z.string(),
  receivedAt: z.string(),
  accepted: z.boolean(),
  detail: z.string(),
});

/** A bulletin that came down from a parent, and what it became here (the Circular 39 path it took). */
export const nationalReceivedSchema = z.object({
  peerId: z.string(),
  /** The parent's BanTinId. */
  upstreamId: z.string(),
  title: z.string(),
  priority: z.string(),
  bulletinId: z.string().nullable(),
  state: z.enum(['fetching', 'inbox', 'scheduled', 'aired', 'deleted', 'failed']),
  detail: z.string().nullable(),
  broadcastIds: z.array(z.string()),
  offerIds: z.array(z.string()),
  receivedAt: z.string(),
  updatedAt: z.string(),
});
export const nationalReceivedListSchema = z.object({ items: z.array(nationalReceivedSchema) });

/** The central dashboard: one row per child peer, from its boxes' status and play logs. */
export const nationalChildrenQuerySchema = z.object({ from: instantSchema.optional(), to: instantSchema.optional() });
export const nationalChildSummarySchema = z.object({
  peerId: z.string(),
  name: z.string(),
  sourceId: z.string(),
  boxes: z.number(),
  /** Heard from within the last 15 minutes (ARCHITECTURE.md § Coverage). */
  online: z.number(),
  faulty: z.number(),
  /** Communes with at least one box heard within 15 minutes and not in fault (working coverage). */
  communesCovered: z.number(),
  communesWithBoxes: z.number(),
  airings: z.object({ total: z.number(), ok: z.number(), failed: z.number(), open: z.number() }),
  lastReportAt: z.string().nullable(),
});
export const nationalChildrenSchema = z.object({ from: z.string(), to: z.string(), items: z.array(nationalChildSummarySchema) });
export const nationalChildAiringsQuerySchema = z.object({ from: instantSchema.optional(), to: instantSchema.optional(), limit: z.coerce.number().int().min(1).max(5000).default(500) });
export const nationalChildAiringSchema = z.object({
  airingKey: z.string(),
  bulletinId: z.string(),
  boxNationalId: z.string().nullable(),
  areaCode: z.string().nullable(),
  title: z.string(),
  contentType: z.string().nullable(),
  priority: z.string().nullable(),
  relaySource: z.string().nullable(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  ok: z.boolean().nullable(),
  airedS: z.number().nullable(),
});
export const nationalChildAiringsSchema = z.object({ peerId: z.string(), items: z.array(nationalChildAiringSchema) });

const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/, 'must be HH:mm or HH:mm:ss (local time)');
const localDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a local date YYYY-MM-DD');

/** A bulletin sent down to chosen children: one of ours by id, or a title with an audio link. */
export const nationalSendBodySchema = z
  .object({
    bulletinId: idSchema.optional(),
    title: z.string().trim().min(1).max(500).optional(),
    audioUrl: httpUrl.optional(),
    summary: z.string().max(2000).default(''),
    peerIds: z.array(z.string().min(1).max(64)).min(1).max(100),
    priority: prioritySchema,
    /** `now` airs at once (an emergency always does), `scheduled` on the schedule, `commune-decides` to the inboxes. */
    playMode: z.enum(['scheduled', 'now', 'commune-decides']).default('now'),
    schedule: z
      .object({
        kind: z.enum(['daily', 'weekly', 'monthly', 'dates']),
        starts: z.array(timeOfDay).min(1).max(48),
        ends: z.array(timeOfDay).max(48).default([]),
        days: z.array(z.number().int().nonnegative()).max(366).default([]),
        from: localDate,
        until: localDate,
      })
      .optional(),
    /**
     * The areas that receive it (provinces or communes); each child gets those inside its own areas, and a child
     * with none of them is not sent to. Absent: each child's own areas, all of them.
     */
    areaCodes: z.array(areaCodeSchema).min(1).max(5000).optional(),
  })
  .refine((b) => b.bulletinId !== undefined || (b.title !== undefined && b.audioUrl !== undefined), { message: 'give bulletinId, or title and audioUrl', path: ['bulletinId'] })
  .refine((b) => b.playMode !== 'scheduled' || b.schedule !== undefined, { message: 'a scheduled bulletin needs schedule', path: ['schedule'] });

export const nationalSentSchema = z.object({
  id: z.string(),
  peerId: z.string(),
  peerName: z.string(),
  /** The BanTinId sent down. */
  upstreamId: z.string(),
  title: z.string(),
  priority: z.string(),
  sentAt: z.string(),
  ok: z.boolean(),
  /** The child's answer (MoTa), or why it could not be reached. */
  detail: z.string(),
  httpStatus: z.number().nullable(),
  /** The child's schedule-ack, when it came: what it did with the bulletin (inbox, aired, scheduled) or why it refused. */
  ack: z.object({ at: z.string(), accepted: z.boolean(), detail: z.string() }).nullable(),
});
export const nationalSendResultSchema = z.object({ bulletinId: z.string(), items: z.array(nationalSentSchema) });
export const nationalSentListSchema = z.object({ items: z.array(nationalSentSchema) });

export type NationalPeer = z.infer<typeof nationalPeerSchema>;
export type NationalPeerCreateBody = z.input<typeof nationalPeerCreateBodySchema>;
export type NationalPeerUpdateBody = z.input<typeof nationalPeerUpdateBodySchema>;
export type NationalChildSummary = z.infer<typeof nationalChildSummarySchema>;
export type NationalChildAiring = z.infer<typeof nationalChildAiringSchema>;
export type NationalSendBody = z.input<typeof nationalSendBodySchema>;
export type NationalSent = z.infer<typeof nationalSentSchema>;
export type NationalReceived = z.infer<typeof nationalReceivedSchema>;
