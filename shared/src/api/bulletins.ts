/** `/api/v1/bulletins`: text bulletins synthesized to speech, and uploaded recordings. */
import { z } from 'zod';
import { BULLETIN_CATEGORIES, BULLETIN_SOURCES, BULLETIN_STATUSES, VOICES } from './enums.js';
import { pageQuerySchema } from './common.js';
import { idSchema } from '../ids.js';
import { BULLETIN_MAX_CHARS, RELAY_MAX_DURATION_MS, RELAY_MIN_DURATION_MS } from './limits.js';
import { DAY_RANGE_MESSAGE, dayRangeOrdered, dayRangeShape, searchTextSchema } from './search.js';

export const bulletinAudioSchema = z.object({
  sha256: z.string(),
  durationMs: z.number(),
  bytes: z.number().nullable(),
  url: z.string(),
  engine: z.string().nullable(),
  lufs: z.number().nullable(),
  truePeakDb: z.number().nullable(),
  /** The MP3 48 kbps rendition, for download (null for older bulletins and recordings). */
  mp3Url: z.string().nullable(),
  signedUrl: z.string().describe('a link for browsers to `url`, signed for the caller, valid until `signedUrlExpiresAt` (`<audio src>`)'),
  mp3SignedUrl: z.string().nullable().describe('the same for `mp3Url` (download)'),
  signedUrlExpiresAt: z.string().describe('when the signed links stop working; get the bulletin again for fresh ones'),
});
/** What a create answers when the audio is ready within the request. */
export const readyAudioSchema = z.object({
  sha256: z.string(),
  durationMs: z.number(),
  signedUrl: z.string().describe('a link for browsers to the audio, signed for the caller, valid until `signedUrlExpiresAt`'),
  signedUrlExpiresAt: z.string(),
});
export const bulletinSchema = z.object({
  id: z.string(),
  title: z.string(),
  text: z.string(),
  category: z.string().nullable(),
  voice: z.string(),
  speed: z.number(),
  status: z.enum(BULLETIN_STATUSES),
  /** Synthesized text, an uploaded recording, a relay, or a programme. */
  source: z.enum(BULLETIN_SOURCES),
  progress: z.number(),
  stage: z.string().nullable(),
  error: z.string().nullable(),
  audio: bulletinAudioSchema.nullable(),
  /** A relay bulletin (issue 15): it airs this source for this long instead of audio (`audio` is null). */
  relay: z.object({ sourceId: z.string(), durationMs: z.number() }).optional(),
  /** A programme (issue 15; `/api/v1/programmes/{id}` has its items): its current version and nominal length. */
  programme: z.object({ version: z.number(), itemCount: z.number(), durationMs: z.number(), openEnded: z.boolean() }).optional(),
  /** Issue 22: published on the commune's web page (podcast, notices, player) once it has aired there. Always sent by this server. */
  public: z.boolean().optional(),
  createdAt: z.string(),
  /** Who wrote it (a username), in the list: the library shows it and filters by it (issue 20). */
  author: z.object({ id: z.string(), username: z.string() }).nullable().optional(),
  /** In the list: how many times it aired so far (airings where at least one box played it) and the last one. */
  airings: z.object({ count: z.number().int(), lastAt: z.string().nullable() }).optional(),
});

export const bulletinCreateBodySchema = z.object({
  title: z.string().trim().min(1).max(200),
  text: z.string().trim().min(1).max(BULLETIN_MAX_CHARS, `at most ${BULLETIN_MAX_CHARS} characters (~23 minutes of speech): split a longer bulletin into several`),
  category: z.enum(BULLETIN_CATEGORIES).optional(),
  voice: z.enum(VOICES).optional(),
  speed: z.number().min(0.5).max(2).optional(),
  /** Issue 22: publish it on the commune's web page once it airs (default: not public). */
  public: z.boolean().optional(),
});
/** 201: the audio is ready; 202: still synthesizing (poll `GET /api/v1/bulletins/{id}`). */
export const bulletinReadySchema = z.object({ id: z.string(), status: z.literal('ready'), audio: readyAudioSchema });
export const bulletinSynthesizingSchema = z.object({ id: z.string(), status: z.literal('synthesizing'), progress: z.number() });
/** The text fields of `POST /api/v1/bulletins/upload` (multipart/form-data, with `file`). */
export const bulletinUploadFieldsSchema = z.object({ title: z.string().trim().min(1).max(200), category: z.enum(BULLETIN_CATEGORIES).optional() });

/**
 * `POST /api/v1/bulletins/relay`: a bulletin that relays a source for a while (issue 15: VOV news 18:00–18:30),
 * ready at once and broadcast like any other: schedules, targets, priorities and approval unchanged.
 */
export const relayBulletinCreateBodySchema = z.object({
  title: z.string().trim().min(1).max(200),
  sourceId: idSchema,
  durationMs: z
    .number()
    .int()
    .min(RELAY_MIN_DURATION_MS, 'a relay lasts at least 1 minute (60000 ms)')
    .max(RELAY_MAX_DURATION_MS, 'a relay lasts at most 12 hours (43200000 ms)'),
  category: z.enum(BULLETIN_CATEGORIES).optional(),
});
export const relayBulletinCreatedSchema = z.object({ id: z.string(), status: z.literal('ready'), relay: z.object({ sourceId: z.string(), durationMs: z.number() }) });

/**
 * `GET /api/v1/bulletins`: the bulletins of the caller's area (and of the areas inside it) and the caller's own,
 * newest first — what a programme, a source's fallback or a broadcast may name, and the library (issue 20):
 * words of the title or the text, kind, status, category, author, a day range. `total` counts every match.
 * Bulletins offered to a commune are in its inbox (`/api/v1/inbox`), not here.
 */
export const bulletinListQuerySchema = pageQuerySchema
  .extend({
    status: z.enum(BULLETIN_STATUSES, { message: `trạng thái là một trong ${BULLETIN_STATUSES.join(', ')}` }).optional(),
    /** One kind, or several comma-separated (`text,recording`). */
    source: z
      .string()
      .max(60)
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return undefined;
        const kinds = v.split(',').map((k) => k.trim()).filter(Boolean);
        const bad = kinds.find((k) => !(BULLETIN_SOURCES as readonly string[]).includes(k));
        if (bad !== undefined) ctx.addIssue({ code: 'custom', message: `không có loại bản tin “${bad}”: chọn ${BULLETIN_SOURCES.join(', ')}` });
        return kinds as (typeof BULLETIN_SOURCES)[number][];
      }),
    /** Words of the title or the text, all of them, any case. */
    q: searchTextSchema.optional(),
    category: z.enum(BULLETIN_CATEGORIES, { message: `chuyên mục là một trong ${BULLETIN_CATEGORIES.join(', ')}` }).optional(),
    /** The author's user id (`me`: the caller). */
    author: z.string().max(64, 'người soạn không hợp lệ').optional(),
    /** Written on or after / on or before these Vietnam days (`YYYY-MM-DD`). */
    ...dayRangeShape,
    /** Answer each bulletin's airings so far (`airings`); the library asks, the pickers do not. */
    airings: z.enum(['true', 'false'], { message: 'airings là true hoặc false' }).optional(),
  })
  .refine(dayRangeOrdered, DAY_RANGE_MESSAGE);

/**
 * `PATCH /api/v1/bulletins/{id}/public` (issue 22): writers of the bulletin's area publish it on the commune's
 * web page, or take it off. It appears there only once it has aired on the commune's boxes.
 */
export const bulletinPublicBodySchema = z.object({ public: z.boolean() });
export const bulletinPublicSchema = z.object({ id: z.string(), public: z.boolean() });

export type Bulletin = z.infer<typeof bulletinSchema>;
export type BulletinListQuery = z.input<typeof bulletinListQuerySchema>;
export type BulletinCreate = z.input<typeof bulletinCreateBodySchema>;
export type BulletinCreated = z.infer<typeof bulletinReadySchema> | z.infer<typeof bulletinSynthesizingSchema>;
export type BulletinUploadFields = z.input<typeof bulletinUploadFieldsSchema>;
export type RelayBulletinCreate = z.input<typeof relayBulletinCreateBodySchema>;
export type RelayBulletinCreated = z.infer<typeof relayBulletinCreatedSchema>;
