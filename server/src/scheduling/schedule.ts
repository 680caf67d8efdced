/**
 * The `schedule` of a broadcast, exactly as CONTRACTS.md § Schedules writes it (defined with the HTTP
 * contract in `@loaxa/shared` api/schedule.ts, re-exported here for the domain), plus the per-occurrence
 * overrides (cancel or move one occurrence of a recurring broadcast without touching the others, issue 4).
 */
import { z } from 'zod';

export { instantSchema, scheduleSchema, type Schedule } from '@loaxa/shared';

const epochMs = z.number().int().nonnegative();
export const occurrenceExceptionSchema = z.discriminatedUnion('action', [
  z.object({ occurrenceAt: epochMs, action: z.literal('cancel') }),
  z.object({ occurrenceAt: epochMs, action: z.literal('move'), to: epochMs }),
]);
export type OccurrenceException = z.infer<typeof occurrenceExceptionSchema>;
