/**
 * `/api/v1/programmes` (issue 15): a commune programme is an ordered list of items — bulletins, chimes or
 * jingles, music under speech, relay segments, pauses — stored with a version and broadcast like any bulletin
 * (a programme *is* a bulletin of kind `programme`: `POST /api/v1/broadcasts {bulletinId: <programme id>}`
 * schedules, targets and approves it). An edit makes a new version; the boxes get it with their agenda.
 */
import { z } from 'zod';
import { idSchema } from '../ids.js';
import { bulletinCategorySchema, pageQuerySchema } from './common.js';
import { PROGRAMME_ITEM_KINDS, PROGRAMME_ITEM_STATES } from './enums.js';
import {
  MUSIC_DUCK_DEFAULT_DB,
  MUSIC_DUCK_MAX_DB,
  MUSIC_DUCK_MIN_DB,
  MUSIC_LEAD_DEFAULT_MS,
  MUSIC_LEAD_MAX_MS,
  PROGRAMME_MAX_ITEMS,
  PROGRAMME_PAUSE_MAX_MS,
  PROGRAMME_PAUSE_MIN_MS,
  RELAY_MAX_DURATION_MS,
  RELAY_MIN_DURATION_MS,
} from './limits.js';

/** A time of day in Vietnam, `HH:MM` (24 h): a relay segment "until 18:30". */
export const timeOfDaySchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day as HH:MM (24 h), e.g. 18:30');

/** A ready bulletin, synthesized or recorded (not a relay, not another programme). */
const bulletinItem = z.object({ kind: z.literal('bulletin'), bulletinId: idSchema });
/** A chime or jingle: an uploaded recording (`bulletinId`), or the built-in bell (`bell`: the rising intro or the falling outro). */
const chimeItem = z
  .object({ kind: z.literal('chime'), bulletinId: idSchema.optional(), bell: z.enum(['intro', 'outro']).optional() })
  .refine((i) => (i.bulletinId === undefined) !== (i.bell === undefined), { message: 'a chime is a recording (bulletinId) or the built-in bell (bell), one of the two', path: ['bulletinId'] });
/**
 * Music under speech: `musicBulletinId` (an uploaded recording) plays alone for `leadInMs`, is lowered by `duckDb`
 * while `speechBulletinId` plays over it, and comes back up for `tailMs`. The server mixes the two into one file
 * at broadcast loudness when the version is saved.
 */
const musicItem = z.object({
  kind: z.literal('music'),
  musicBulletinId: idSchema,
  speechBulletinId: idSchema,
  duckDb: z.number().min(MUSIC_DUCK_MIN_DB).max(MUSIC_DUCK_MAX_DB).default(MUSIC_DUCK_DEFAULT_DB),
  leadInMs: z.number().int().min(0).max(MUSIC_LEAD_MAX_MS).default(MUSIC_LEAD_DEFAULT_MS),
  tailMs: z.number().int().min(0).max(MUSIC_LEAD_MAX_MS).default(MUSIC_LEAD_DEFAULT_MS),
});
/** A relay segment: the source for `durationMs` from when the segment begins, or until a time of day (`until`). */
const relayItem = z
  .object({
    kind: z.literal('relay'),
    sourceId: idSchema,
    durationMs: z.number().int().min(RELAY_MIN_DURATION_MS, 'a relay segment lasts at least 1 minute (60000 ms)').max(RELAY_MAX_DURATION_MS, 'a relay segment lasts at most 12 hours').optional(),
    until: timeOfDaySchema.optional(),
  })
  .refine((i) => (i.durationMs === undefined) !== (i.until === undefined), { message: 'a relay segment lasts durationMs or runs until a time of day (until), one of the two', path: ['durationMs'] });
const pauseItem = z.object({
  kind: z.literal('pause'),
  durationMs: z.number().int().min(PROGRAMME_PAUSE_MIN_MS, 'a pause lasts at least 0.5 s').max(PROGRAMME_PAUSE_MAX_MS, 'a pause lasts at most 10 minutes'),
});

export const programmeItemInputSchema = z.discriminatedUnion('kind', [bulletinItem, chimeItem, musicItem, relayItem, pauseItem]);

export const programmeDraftSchema = z.object({
  title: z.string().trim().min(1).max(200),
  category: bulletinCategorySchema.optional(),
  items: z.array(programmeItemInputSchema).min(1, 'a programme has at least one item').max(PROGRAMME_MAX_ITEMS, `a programme has at most ${PROGRAMME_MAX_ITEMS} items`),
});

/** One item as stored in a version: what was asked, its title, and how long it lasts (null: a relay `until` a time of day). */
export const programmeItemSchema = z.object({
  index: z.number(),
  kind: z.enum(PROGRAMME_ITEM_KINDS),
  title: z.string(),
  durationMs: z.number().nullable(),
  input: programmeItemInputSchema,
});

export const programmeSchema = z.object({
  /** The programme's id, which is also its bulletin id (broadcast it with `POST /api/v1/broadcasts`). */
  id: z.string(),
  title: z.string(),
  category: z.string().nullable(),
  version: z.number(),
  /** The sum of the items that have a length (relay segments `until` a time of day count 0: `openEnded`). */
  durationMs: z.number(),
  openEnded: z.boolean(),
  items: z.array(programmeItemSchema),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** Who saved the current version. */
  updatedBy: z.string().nullable(),
});
export const programmeSummarySchema = programmeSchema.omit({ items: true }).extend({ itemCount: z.number() });
export const programmeVersionSchema = z.object({ version: z.number(), durationMs: z.number(), itemCount: z.number(), createdAt: z.string(), createdBy: z.string().nullable() });
export const programmeVersionsSchema = z.object({ items: z.array(programmeVersionSchema) });
export const programmeListQuerySchema = pageQuerySchema;
export const programmeVersionParamsSchema = z.object({ id: z.string().max(64), version: z.coerce.number().int().positive() });

/**
 * `POST /api/v1/programmes/preview`: the whole programme as one MP3 to listen to before saving (audio/mpeg).
 * Relay segments are heard as a short spoken-free marker (two beeps) instead of the live source, pauses as
 * silence (at most 10 s each in a preview).
 */
export const programmePreviewBodySchema = programmeDraftSchema.pick({ items: true });

/** One item of a programme on one box, in the as-run report. */
export const asRunProgrammeItemSchema = z.object({
  index: z.number(),
  kind: z.enum(PROGRAMME_ITEM_KINDS),
  title: z.string(),
  state: z.enum(PROGRAMME_ITEM_STATES).nullable(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  airedMs: z.number().nullable(),
  reason: z.string().nullable(),
});
export const asRunProgrammeSchema = z.object({ version: z.number(), items: z.array(asRunProgrammeItemSchema) });

export type ProgrammeItemInput = z.input<typeof programmeItemInputSchema>;
export type ProgrammeItemParsed = z.infer<typeof programmeItemInputSchema>;
export type ProgrammeDraft = z.input<typeof programmeDraftSchema>;
export type ProgrammeItem = z.infer<typeof programmeItemSchema>;
export type Programme = z.infer<typeof programmeSchema>;
export type ProgrammeSummary = z.infer<typeof programmeSummarySchema>;
export type ProgrammeVersion = z.infer<typeof programmeVersionSchema>;
export type AsRunProgrammeItem = z.infer<typeof asRunProgrammeItemSchema>;
export type AsRunProgramme = z.infer<typeof asRunProgrammeSchema>;
