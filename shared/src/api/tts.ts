/** `/api/v1/tts`: how a text is read aloud, and the readings each area adds to the dictionary. */
import { z } from 'zod';
import { SPEECH_STYLES, VOICES } from './enums.js';
import { VOICE_SPEED_MAX, VOICE_SPEED_MIN } from './limits.js';

/** A stretch of the NFC text (code point offsets, end exclusive) that was rewritten, guessed or left unread. */
export const reportSpanSchema = z.object({
  start: z.number(),
  end: z.number(),
  text: z.string(),
  rule: z.string(),
  label: z.string().optional().describe('the rule’s name in Vietnamese, for the operator'),
  reading: z.string().optional(),
});

export const ttsPreviewBodySchema = z.object({
  text: z.string().trim().min(1).max(5000),
  voice: z.enum(VOICES).optional(),
  speed: z.number().min(0.5).max(2).optional(),
  style: z.enum(SPEECH_STYLES).optional(),
  /**
   * Read as this area's bulletins are (its dictionary entries, its voice and rate; issue 20: the province hears
   * a commune's entry before it airs there); yours or one inside it. Default: your own area.
   */
  areaCode: z.string().regex(/^\d{2,10}$/, 'an area code (digits)').optional(),
});
export const ttsPreviewSchema = z.object({
  words: z.string(),
  sentences: z.array(z.string()),
  report: z.object({
    rewritten: z.array(reportSpanSchema),
    guessed: z.array(reportSpanSchema).describe('readings that are guesses (a foreign word by letter-to-sound, a name without its tones)'),
    unread: z.array(reportSpanSchema),
  }),
  audio: z.object({
    sha256: z.string(),
    durationMs: z.number(),
    url: z.string(),
    engine: z.string(),
    signedUrl: z.string().describe('a link for browsers to `url`, signed for the caller, valid until `signedUrlExpiresAt` (`<audio src>`)'),
    signedUrlExpiresAt: z.string(),
  }),
});

/** A term as written in bulletins: one token, no spaces ("UBND", "TP.", "CNTT-VT", "zalo"). */
export const termSchema = z.string().min(1).max(64).regex(/^\S+$/u, 'a term is one written token without spaces');
export const readingSchema = z
  .string()
  .trim()
  .min(1)
  .max(300)
  .regex(/^[\p{L}\p{M} ]+$/u, 'a reading is words (letters and spaces only), e.g. "ủy ban nhân dân"')
  .transform((v) => v.normalize('NFC').toLowerCase().replace(/\s+/g, ' '));
/** The area of a dictionary entry (any level, digits). */
export const dictionaryAreaCodeSchema = z.string().regex(/^\d{2,10}$/, 'an area code (digits)');
export const dictionaryEntrySchema = z.object({
  term: z.string(),
  reading: z.string(),
  areaCode: z.string().nullable().describe('The area whose bulletins (and its subtree’s) use it; null: the whole installation'),
  updatedAt: z.string(),
});
export const dictionaryQuerySchema = z.object({ areaCode: dictionaryAreaCodeSchema.optional().describe('Only the entries of this area') });
export const dictionaryTermParamsSchema = z.object({ term: termSchema });
export const dictionaryPutBodySchema = z.object({
  reading: readingSchema,
  areaCode: dictionaryAreaCodeSchema
    .nullable()
    .optional()
    .describe('The area whose bulletins use this reading, yours or one inside it (default: yours); null: the whole installation, for installation-wide province admins only'),
});
export const dictionaryPutSchema = z.object({ term: z.string(), reading: z.string(), areaCode: z.string().nullable() });
export const dictionaryDeleteQuerySchema = z.object({ areaCode: dictionaryAreaCodeSchema.optional().describe('The area whose entry to remove (default: yours)') });

export type TtsReportSpan = z.infer<typeof reportSpanSchema>;
export type TtsPreviewRequest = z.input<typeof ttsPreviewBodySchema>;
export type TtsPreview = z.infer<typeof ttsPreviewSchema>;
export type DictionaryEntry = z.infer<typeof dictionaryEntrySchema>;

/**
 * Issue 20 ("set reading speed and voice"): the voice and speaking rate an area's bulletins are read with when
 * the bulletin does not choose. The most local setting of a bulletin's area wins; without any, the server's
 * LOAXA_TTS_VOICE at speed 1. The rate's bounds are in limits.ts (the web app checks them without zod).
 */
export const voiceSettingQuerySchema = z.object({ areaCode: dictionaryAreaCodeSchema.optional().describe('The area (default: yours)') });
export const voiceSettingPutBodySchema = z.object({
  areaCode: dictionaryAreaCodeSchema.describe('The province or commune (yours or one inside it)'),
  voice: z.enum(VOICES),
  speed: z.number().min(VOICE_SPEED_MIN, `at least ${VOICE_SPEED_MIN}`).max(VOICE_SPEED_MAX, `at most ${VOICE_SPEED_MAX}`).multipleOf(0.05, 'in steps of 0.05'),
});
export const voiceSettingDeleteQuerySchema = z.object({ areaCode: dictionaryAreaCodeSchema });
export const voiceSettingSchema = z.object({
  areaCode: z.string().nullable().describe('the area asked about; null: an installation-wide caller without one'),
  own: z.object({ voice: z.string(), speed: z.number(), updatedAt: z.string() }).nullable().describe('the area’s own setting, if it has one'),
  effective: z.object({ voice: z.string(), speed: z.number(), from: z.string().nullable().describe('the area whose setting applies; null: the server’s default') }),
});
export type VoiceSetting = z.infer<typeof voiceSettingSchema>;
export type VoiceSettingPutBody = z.input<typeof voiceSettingPutBodySchema>;
