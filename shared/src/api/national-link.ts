/**
 * The upstream national link as the province admin sees it (issue 17): `GET /api/v1/national/link` (is it
 * configured, logged in, when did it last succeed, what failed last, how much waits) and
 * `GET /api/v1/national/outbox` (what went up, what waits, what the province refused, with its answer).
 * Browser-safe: zod and the event model only.
 */
import { z } from 'zod';
import { upstreamEventSchema, UPSTREAM_EVENT_KINDS } from '../national/model.js';

export const NATIONAL_OUTBOX_STATES = ['pending', 'sent', 'refused'] as const;

export const nationalLinkStatusSchema = z.object({
  /** False when LOAXA_NATIONAL_URL is unset: the rest is then empty. */
  configured: z.boolean(),
  upstreamUrl: z.string().nullable(),
  mapping: z.string().nullable(),
  sourceId: z.string().nullable(),
  loggedIn: z.boolean(),
  /** The last request the province accepted (or answered at all, for a refusal). */
  lastSuccessAt: z.string().nullable(),
  /** The last failure (network, timeout, a garbage or oversized answer, a refused login), in Vietnamese. */
  lastError: z.string().nullable(),
  lastErrorAt: z.string().nullable(),
  /** When the next attempt is due while the province is unreachable (backoff). */
  nextAttemptAt: z.string().nullable(),
  pending: z.number().int(),
  oldestPendingAt: z.string().nullable(),
  oldestPendingAgeS: z.number().int().nullable(),
  sent: z.number().int(),
  refused: z.number().int(),
});
export type NationalLinkStatus = z.infer<typeof nationalLinkStatusSchema>;

export const nationalOutboxQuerySchema = z.object({
  state: z.enum(NATIONAL_OUTBOX_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** Items with a smaller sequence number (the next page: the last item's `seq`). */
  before: z.coerce.number().int().min(1).optional(),
});

export const nationalOutboxItemSchema = z.object({
  seq: z.number().int(),
  kind: z.enum(UPSTREAM_EVENT_KINDS),
  state: z.enum(NATIONAL_OUTBOX_STATES),
  event: upstreamEventSchema,
  createdAt: z.string(),
  attempts: z.number().int(),
  nextAttemptAt: z.string().nullable(),
  lastError: z.string().nullable(),
  /** The province's answer as received (its TrangThaiGui/MoTa), bounded. */
  answer: z.string().nullable(),
  sentAt: z.string().nullable(),
});
export type NationalOutboxItem = z.infer<typeof nationalOutboxItemSchema>;
export const nationalOutboxListSchema = z.object({ items: z.array(nationalOutboxItemSchema) });
