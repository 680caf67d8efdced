/**
 * Live voice (issue 16): an operator speaks from a phone or a browser and every targeted box plays it within
 * two seconds. `POST /api/v1/live` checks the user, the target and the priority once and makes the airing (a
 * broadcast of a bulletin of kind `live`, approved at once for the roles LOAXA_LIVE_ROLES allows at that
 * priority); the browser then opens the WebSocket `GET /api/v1/live/{id}/audio` and sends its MediaRecorder's
 * chunks (WebM/Opus, Ogg/Opus or MP4/AAC, as binary frames after one `start` text frame); the server brings the
 * audio to broadcast loudness and serves it to the boxes as one stream (`GET /live/{id}`, their own
 * credentials), which they play like a relay and report with the seconds aired. Closing the socket ends the
 * airing; the recording becomes the bulletin's audio, listed with its as-run and airable again.
 */
import { z } from 'zod';
import { prioritySchema } from '../messages.js';
import { broadcastTargetSchema } from './broadcasts.js';

/** A live airing's life: the server waits for the voice, airs it, and ends (stopped by the operator, or the link dropped). */
export const LIVE_STATES = ['waiting', 'on-air', 'ended'] as const;
export type LiveState = (typeof LIVE_STATES)[number];
/** Why a live airing ended. */
export const LIVE_END_REASONS = ['stopped', 'link-dropped', 'no-audio', 'too-long', 'server-stopping', 'encoder-failed'] as const;
export type LiveEndReason = (typeof LIVE_END_REASONS)[number];
/** The containers a browser's MediaRecorder makes, by MIME type (parameters such as `;codecs=opus` allowed). */
export const LIVE_INPUT_TYPES = ['audio/webm', 'audio/ogg', 'audio/mp4'] as const;
/** The longest live airing (a window for the boxes; the server ends it there). */
export const LIVE_MAX_MS = 2 * 3600_000;

export const liveStartBodySchema = z.object({
  target: broadcastTargetSchema,
  priority: prioritySchema.default('normal'),
  title: z.string().trim().min(1).max(200).optional(),
});

export const liveSessionSchema = z.object({
  /** The airing's id: also its bulletin's (`/api/v1/bulletins/{id}` has the recording once it ended). */
  id: z.string(),
  broadcastId: z.string(),
  title: z.string(),
  priority: prioritySchema,
  state: z.enum(LIVE_STATES),
  endReason: z.enum(LIVE_END_REASONS).nullable(),
  /** The WebSocket path the browser sends the audio to (same origin). */
  audioPath: z.string(),
  /** Boxes targeted. */
  devices: z.number(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  /** Milliseconds of voice received and aired so far. */
  airedMs: z.number(),
});

/** The browser's first text frame on the socket: what its recorder makes. */
export const liveClientStartSchema = z.object({ type: z.literal('start'), mimeType: z.string().max(100) });
/** The browser's text frame to end the airing cleanly (closing the socket does too). */
export const liveClientStopSchema = z.object({ type: z.literal('stop') });
export const liveClientMessageSchema = z.discriminatedUnion('type', [liveClientStartSchema, liveClientStopSchema]);

/** What the server sends the operator: the level meter (every 100 ms), the boxes' states (every second), the end. */
export const liveServerMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('level'), peakDb: z.number().nullable(), rmsDb: z.number().nullable(), elapsedMs: z.number() }),
  z.object({ type: z.literal('boxes'), playing: z.number(), listening: z.number(), total: z.number() }),
  z.object({ type: z.literal('ended'), reason: z.enum(LIVE_END_REASONS), airedMs: z.number() }),
  z.object({ type: z.literal('error'), message: z.string() }),
]);

export type LiveStart = z.input<typeof liveStartBodySchema>;
export type LiveSession = z.infer<typeof liveSessionSchema>;
export type LiveClientMessage = z.infer<typeof liveClientMessageSchema>;
export type LiveServerMessage = z.infer<typeof liveServerMessageSchema>;
