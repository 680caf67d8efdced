import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { canWrite } from '../auth/scope.js';
import { principalOf } from '../http/auth.js';
import { ApiError, errorBodySchema, forbidden, notFound } from '../http/errors.js';
import { listSchema } from '../http/pagination.js';
import { styleForVoice } from '../services/speech.js';
import type { AppContext } from '../services/context.js';
import { VOICES } from './bulletins.js';

const spanSchema = z.object({ start: z.number(), end: z.number(), text: z.string(), rule: z.string(), reading: z.string().optional() });
/** A term as written in bulletins: one token, no spaces ("UBND", "TP.", "CNTT-VT", "zalo"). */
const termSchema = z.string().min(1).max(64).regex(/^\S+$/u, 'a term is one written token without spaces');
const readingSchema = z
  .string()
  .trim()
  .min(1)
  .max(300)
  .regex(/^[\p{L}\p{M} ]+$/u, 'a reading is words (letters and spaces only), e.g. "ủy ban nhân dân"')
  .transform((v) => v.normalize('NFC').toLowerCase().replace(/\s+/g, ' '));

export const ttsRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.post(
    '/api/v1/tts/preview',
    {
      schema: {
        tags: ['tts'],
        summary: 'How a text will be read aloud: the words, what was rewritten or left unread, and the audio',
        body: z.object({
          text: z.string().trim().min(1).max(5000),
          voice: z.enum(VOICES).optional(),
          speed: z.number().min(0.5).max(2).optional(),
          style: z.enum(['north', 'south']).optional(),
        }),
        response: {
          200: z.object({
            words: z.string(),
            sentences: z.array(z.string()),
            report: z.object({ rewritten: z.array(spanSchema), unread: z.array(spanSchema) }),
            audio: z.object({
              sha256: z.string(),
              durationMs: z.number(),
              url: z.string(),
              engine: z.string(),
              signedUrl: z.string().describe('a link for browsers to `url`, signed for the caller, valid until `signedUrlExpiresAt` (`<audio src>`)'),
              signedUrlExpiresAt: z.string(),
            }),
          }),
          400: errorBodySchema,
          422: errorBodySchema,
        },
      },
    },
    async (request) => {
      const user = principalOf(request);
      if (!canWrite(user)) throw forbidden('viewers cannot synthesize audio');
      const { text, speed } = request.body;
      const voice = request.body.voice ?? ctx.config.ttsVoice;
      const style = request.body.style ?? styleForVoice(voice);
      const reading = ctx.speech.normalize(text.normalize('NFC'), style);
      let out;
      try {
        out = await ctx.render({ text, voice, speed: speed ?? 1, style, onProgress: () => undefined });
      } catch (err) {
        throw new ApiError(422, 'LOAXA_TTS_FAILED', `synthesis failed: ${(err as Error).message}`);
      }
      const stored = await ctx.media.put(out.ogg, 'ogg');
      const link = app.mediaLinks.sign(stored.sha256, user.id);
      return {
        words: reading.text,
        sentences: reading.sentences,
        report: { rewritten: reading.rewritten, unread: reading.unread },
        audio: { sha256: stored.sha256, durationMs: out.durationMs, url: `/media/${stored.sha256}`, engine: out.engine, signedUrl: link.url, signedUrlExpiresAt: new Date(link.expiresAt).toISOString() },
      };
    },
  );

  app.get(
    '/api/v1/tts/dictionary',
    {
      schema: {
        tags: ['tts'],
        summary: 'Readings operators added for this installation, applied over the shipped dictionary',
        response: { 200: listSchema(z.object({ term: z.string(), reading: z.string(), updatedAt: z.string() })) },
      },
    },
    async (request) => {
      principalOf(request);
      // A dictionary holds tens to a few hundred entries: one page, with the list shape of CONTRACTS.md.
      const items = ctx.dictionary.list().map((e) => ({ term: e.term, reading: e.reading, updatedAt: new Date(e.updatedAt).toISOString() }));
      return { items, total: items.length, next: null };
    },
  );

  app.put(
    '/api/v1/tts/dictionary/:term',
    {
      schema: {
        tags: ['tts'],
        summary: 'Add or change how a term is read aloud',
        params: z.object({ term: termSchema }),
        body: z.object({ reading: readingSchema }),
        response: { 200: z.object({ term: z.string(), reading: z.string() }), 400: errorBodySchema, 403: errorBodySchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      if (!canWrite(user)) throw forbidden('viewers cannot change the dictionary');
      ctx.dictionary.upsert(request.params.term, request.body.reading, user.id);
      request.log.info({ term: request.params.term }, 'dictionary entry set');
      return { term: request.params.term, reading: request.body.reading };
    },
  );

  app.delete(
    '/api/v1/tts/dictionary/:term',
    {
      schema: {
        tags: ['tts'],
        summary: 'Remove an added reading (the shipped one, if any, applies again)',
        params: z.object({ term: termSchema }),
        response: { 204: z.null(), 403: errorBodySchema, 404: errorBodySchema },
      },
    },
    async (request, reply) => {
      const user = principalOf(request);
      if (!canWrite(user)) throw forbidden('viewers cannot change the dictionary');
      if (!ctx.dictionary.delete(request.params.term)) throw notFound(`dictionary entry ${request.params.term}`);
      return reply.status(204).send(null);
    },
  );
};
