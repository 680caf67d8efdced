/** `GET /api/v1/coverage` and its trend: installed and working coverage of an area (ARCHITECTURE.md § Coverage). */
import { z } from 'zod';
import { areaCodeSchema } from '../ids.js';
import { areaRefSchema } from './areas.js';

const coverageSummarySchema = z.object({
  communes: z.object({ total: z.number(), installed: z.number(), working: z.number() }),
  installedPct: z.number(),
  workingPct: z.number(),
  devices: z.object({ total: z.number(), online: z.number(), faulty: z.number(), playing: z.number() }),
  notCovered: z.array(z.object({ code: z.string(), name: z.string(), reason: z.string() })),
});
export const coverageQuerySchema = z.object({ area: areaCodeSchema.optional() });
/** An area's coverage with each child area's (one level down; the children carry no children). */
export const coverageSchema = coverageSummarySchema.extend({ area: areaRefSchema, children: z.array(coverageSummarySchema.extend({ area: areaRefSchema })) });

export const coverageTrendQuerySchema = z.object({ area: areaCodeSchema.optional(), days: z.coerce.number().int().min(1).max(366).default(30) });
/** Snapshots are kept per province: `area` is the province. */
export const coverageTrendSchema = z.object({ area: z.string(), items: z.array(z.object({ at: z.string(), installedPct: z.number(), workingPct: z.number() })) });

export type Coverage = z.infer<typeof coverageSchema>;
export type ChildCoverage = Coverage['children'][number];
export type CoverageTrend = z.infer<typeof coverageTrendSchema>;
