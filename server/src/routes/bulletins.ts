import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { canWrite } from '../auth/scope.js';
import { principalOf } from '../http/auth.js';
import { errorBodySchema, forbidden, notFound } from '../http/errors.js';
import { newId } from '../ids.js';
import type { Bulletin } from '../repos/bulletins.js';
import type { AppContext } from '../services/context.js';

/** The six national topic categories of grassroots information bulletins. */
export const BULLETIN_CATEGORIES = ['general', 'unscheduled-news', 'policy-law', 'local-direction', 'knowledge', 'good-deeds'] as const;
export const VOICES = ['vi', 'vi-vn-x-central', 'vi-vn-x-south'] as const;

const audioSchema = z.object({
  sha256: z.string(),
  durationMs: z.number(),
  bytes: z.number().nullable(),
  url: z.string(),
  engine: z.string().nullable(),
  lufs: z.number().nullable(),
  truePeakDb: z.number().nullable(),
});
const bulletinSchema = z.object({
  id: z.string(),
  title: z.string(),
  text: z.string(),
  category: z.string().nullable(),
  voice: z.string(),
  speed: z.number(),
  status: z.enum(['synthesizing', 'ready', 'failed']),
  progress: z.number(),
  stage: z.string().nullable(),
  error: z.string().nullable(),
  audio: audioSchema.nullable(),
  createdAt: z.string(),
});

const toApi = (b: Bulletin) => ({
  id: b.id,
  title: b.title,
  text: b.text,
  category: b.category,
  voice: b.voice,
  speed: b.speed,
  status: b.status,
  progress: b.progress,
  stage: b.stage,
  error: b.error,
  audio:
    b.audioSha256 && b.durationMs
      ? { sha256: b.audioSha256, durationMs: b.durationMs, bytes: b.audioBytes, url: `/media/${b.audioSha256}`, engine: b.engine, lufs: b.lufs, truePeakDb: b.truePeakDb }
      : null,
  createdAt: new Date(b.createdAt).toISOString(),
});

export const bulletinRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.post(
    '/api/v1/bulletins',
    {
      schema: {
        tags: ['bulletins'],
        summary: 'Create a text bulletin and synthesize it: 201 when ready within the request, else 202 with progress',
        body: z.object({
          title: z.string().trim().min(1).max(200),
          text: z.string().trim().min(1).max(50_000),
          category: z.enum(BULLETIN_CATEGORIES).optional(),
          voice: z.enum(VOICES).optional(),
          speed: z.number().min(0.5).max(2).optional(),
        }),
        response: {
          201: z.object({ id: z.string(), status: z.literal('ready'), audio: z.object({ sha256: z.string(), durationMs: z.number() }) }),
          202: z.object({ id: z.string(), status: z.literal('synthesizing'), progress: z.number() }),
          400: errorBodySchema,
          403: errorBodySchema,
          422: errorBodySchema,
        },
      },
    },
    async (request, reply) => {
      const user = principalOf(request);
      if (!canWrite(user)) throw forbidden('viewers cannot create bulletins');
      const { title, text, category, voice, speed } = request.body;
      const id = newId('bt');
      ctx.bulletins.insert({ id, title, text: text.normalize('NFC'), category: category ?? null, voice: voice ?? ctx.config.ttsVoice, speed: speed ?? 1, createdBy: user.id });
      const job = ctx.bulletinService.synthesize(id);
      const waited = await Promise.race([job, new Promise<null>((r) => setTimeout(() => r(null), ctx.config.ttsSyncWaitMs).unref())]);
      if (waited?.status === 'ready' && waited.audioSha256 && waited.durationMs) {
        return reply.status(201).send({ id, status: 'ready' as const, audio: { sha256: waited.audioSha256, durationMs: waited.durationMs } });
      }
      if (waited?.status === 'failed') {
        return reply.status(422).send({ error: { code: 'LOAXA_TTS_FAILED', message: waited.error ?? 'synthesis failed' } });
      }
      const now = ctx.bulletins.get(id)!;
      return reply.status(202).send({ id, status: 'synthesizing' as const, progress: now.progress });
    },
  );

  app.get(
    '/api/v1/bulletins/:id',
    {
      schema: {
        tags: ['bulletins'],
        summary: 'A bulletin with its synthesis status, progress and audio',
        params: z.object({ id: z.string().max(64) }),
        response: { 200: bulletinSchema, 404: errorBodySchema },
      },
    },
    async (request) => {
      principalOf(request);
      const b = ctx.bulletins.get(request.params.id);
      if (!b) throw notFound(`bulletin ${request.params.id}`);
      return toApi(b);
    },
  );
};
