/**
 * `/api/v1/sources`: live sources a box relays (issue 15; ARCHITECTURE.md § Streams) — Icecast/Shoutcast HTTP
 * streams (MP3, AAC, Ogg/Opus) and HLS playlists, in order of preference, who may use them, the bulletin
 * played when every URL fails, and the server's latest check of each URL.
 */
import { z } from 'zod';
import { areaCodeSchema, idSchema } from '../ids.js';
import { pageQuerySchema } from './common.js';
import { SOURCE_MAX_URLS } from './limits.js';

/** What a check found on one URL: it plays, it fails (with why), or it plays only silence. */
export const SOURCE_CHECK_STATUSES = ['up', 'down', 'silent'] as const;
/** A source as a whole: its best URL's status, or `unchecked` before the first check. */
export const SOURCE_STATUSES = [...SOURCE_CHECK_STATUSES, 'unchecked'] as const;

/** A stream URL: http or https only (a box must not be sent to file:, rtmp: or anything ffmpeg would open). */
export const streamUrlSchema = z
  .string()
  .trim()
  .max(2_000)
  .url('must be a URL such as https://stream.example.vn/vov1.mp3 or an HLS playlist (.m3u8)')
  .refine((v) => /^https?:\/\//i.test(v), 'only http:// and https:// streams can be relayed');

const urlsSchema = z
  .array(streamUrlSchema)
  .min(1, 'give at least one stream URL')
  .max(SOURCE_MAX_URLS, `at most ${SOURCE_MAX_URLS} stream URLs`)
  .refine((urls) => new Set(urls).size === urls.length, 'a URL is listed twice');

const sourceFields = {
  name: z.string().trim().min(1).max(200),
  /** In order of preference: the box plays the first that works and moves down the list when one fails. */
  urls: urlsSchema,
  /** Who may use it: this area and everything inside it (default: the caller's); null: the whole installation (installation-wide admins only). */
  areaCode: areaCodeSchema.nullable(),
  /** A ready bulletin played when every URL fails; null: the relay stops cleanly instead. */
  fallbackBulletinId: idSchema.nullable(),
  /** Through the server's own restream (few listeners allowed, credentials). Boxes then pull `/streams/{id}` from the server (one pull of the source for all of them) instead of the URLs. */
  restream: z.boolean(),
};

export const sourceCreateBodySchema = z.object({
  name: sourceFields.name,
  urls: sourceFields.urls,
  areaCode: sourceFields.areaCode.optional(),
  fallbackBulletinId: sourceFields.fallbackBulletinId.optional(),
  restream: sourceFields.restream.optional(),
});
export const sourceUpdateBodySchema = z
  .object(sourceFields)
  .partial()
  .refine((b) => Object.keys(b).length > 0, { message: 'change at least one field' });

export const sourceCheckSchema = z.object({
  url: z.string(),
  status: z.enum(SOURCE_CHECK_STATUSES),
  reason: z.string().nullable().describe('why the URL is down or silent'),
  levelDb: z.number().nullable().describe('mean level of the decoded audio (dBFS)'),
  checkedAt: z.string(),
});

export const sourceSchema = z.object({
  id: z.string(),
  name: z.string(),
  urls: z.array(z.string()),
  areaCode: z.string().nullable(),
  fallbackBulletinId: z.string().nullable(),
  restream: z.boolean(),
  status: z.enum(SOURCE_STATUSES).describe('up when a URL plays audio, silent when the best only plays silence, down when every URL fails'),
  checkedAt: z.string().nullable(),
  /** The latest check of each URL, in the order of `urls` (URLs not checked yet are missing). */
  checks: z.array(sourceCheckSchema),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const sourceListQuerySchema = pageQuerySchema;

export type SourceCreateBody = z.input<typeof sourceCreateBodySchema>;
export type SourceUpdateBody = z.input<typeof sourceUpdateBodySchema>;
export type SourceCheck = z.infer<typeof sourceCheckSchema>;
export type Source = z.infer<typeof sourceSchema>;
