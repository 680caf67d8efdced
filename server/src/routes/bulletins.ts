import multipart from '@fastify/multipart';
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  bulletinCreateBodySchema,
  bulletinListQuerySchema,
  bulletinReadySchema,
  bulletinSchema,
  bulletinSynthesizingSchema,
  bulletinUploadFieldsSchema,
  dayRangeMs,
  ErrorCode,
  idParamsSchema,
  maxBulletinChars,
  relayBulletinCreateBodySchema,
  relayBulletinCreatedSchema,
  searchWords,
} from '@loaxa/shared';
import { decodeRecording, NotAudioError } from '../services/recording.js';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { principalOf } from '../http/auth.js';
import { ApiError, badRequest, errorBodySchema, notFound } from '../http/errors.js';
import { decodeCursor, encodeCursor, listSchema } from '../http/pagination.js';
import { newId } from '../ids.js';
import type { Bulletin } from '../repos/bulletins.js';
import type { AppContext } from '../services/context.js';
import type { MediaLinks } from '../http/media-links.js';
import { access, ANY_ROLE, WRITERS } from '../http/access.js';
import { defaultVoiceFor } from '../services/voice-defaults.js';

/** The six national topic categories and the voices are the HTTP contract's (`@loaxa/shared`). */
export { BULLETIN_CATEGORIES, VOICES } from '@loaxa/shared';

/** A programme's current version in brief (issue 15); its items are at `/api/v1/programmes/{id}`. */
type ProgrammeBrief = { version: number; itemCount: number; durationMs: number; openEnded: boolean };

const toApi = (b: Bulletin, links: MediaLinks, userId: string, programme?: ProgrammeBrief) => ({
  id: b.id,
  title: b.title,
  text: b.text,
  category: b.category,
  voice: b.voice,
  speed: b.speed,
  status: b.status,
  source: b.source,
  progress: b.progress,
  stage: b.stage,
  error: b.error,
  audio:
    b.audioSha256 && b.durationMs
      ? {
          sha256: b.audioSha256,
          durationMs: b.durationMs,
          bytes: b.audioBytes,
          url: `/media/${b.audioSha256}`,
          engine: b.engine,
          lufs: b.lufs,
          truePeakDb: b.truePeakDb,
          mp3Url: b.mp3Sha256 ? `/media/${b.mp3Sha256}` : null,
          ...signedAudio(links, userId, b.audioSha256, b.mp3Sha256),
        }
      : null,
  ...(b.source === 'relay' && b.relaySourceId ? { relay: { sourceId: b.relaySourceId, durationMs: b.durationMs ?? 0 } } : {}),
  ...(programme ? { programme } : {}),
  public: b.public,
  createdAt: new Date(b.createdAt).toISOString(),
});

/** Browser links to a bulletin's audio (and MP3), signed for one user (`http/media-links.ts`). */
function signedAudio(links: MediaLinks, userId: string, sha256: string, mp3Sha256: string | null) {
  const ogg = links.sign(sha256, userId);
  return { signedUrl: ogg.url, mp3SignedUrl: mp3Sha256 ? links.sign(mp3Sha256, userId).url : null, signedUrlExpiresAt: new Date(ogg.expiresAt).toISOString() };
}

const readyAudio = (links: MediaLinks, userId: string, sha256: string, durationMs: number) => {
  const { signedUrl, signedUrlExpiresAt } = signedAudio(links, userId, sha256, null);
  return { sha256, durationMs, signedUrl, signedUrlExpiresAt };
};

/** What these routes use, and all they are given (wiring/http.ts). */
export type BulletinRouteDeps = Pick<AppContext, 'config' | 'areas' | 'voiceSettings' | 'bulletins' | 'bulletinService' | 'sources' | 'objects' | 'programmes'>;

export const bulletinRoutes: FastifyPluginAsyncZod<BulletinRouteDeps> = async (app, deps) => {
  app.post(
    '/api/v1/bulletins',
    {
      config: { access: access.roles(WRITERS, { scope: 'the new bulletin belongs to the caller’s area' }, { why: 'create bulletins' }) },
      schema: {
        tags: ['bulletins'],
        summary: 'Create a text bulletin and synthesize it: 201 when ready within the request, else 202 with progress',
        body: bulletinCreateBodySchema,
        response: {
          201: bulletinReadySchema,
          202: bulletinSynthesizingSchema,
          400: errorBodySchema,
          403: errorBodySchema,
          422: errorBodySchema,
        },
      },
    },
    async (request, reply) => {
      const user = principalOf(request);
      const { title, text, category } = request.body;
      // Issue 20: what the bulletin does not choose, its area's setting does (routes/tts.ts, migration 28).
      const byArea = defaultVoiceFor(deps, user.areaCode);
      const voice = request.body.voice ?? byArea.voice;
      const speed = request.body.speed ?? byArea.speed;
      const limit = maxBulletinChars(speed);
      if (text.length > limit) {
        const message = `at most ${limit} characters at speed ${speed} (slower speech takes longer to air): shorten it, raise the speed or split it`;
        throw badRequest(`invalid body: text: ${message}`, [{ path: 'text', message }]);
      }
      const id = newId('bt');
      deps.bulletins.insert({ id, title, text: text.normalize('NFC'), category: category ?? null, voice, speed, createdBy: user.id, areaCode: user.areaCode });
      if (request.body.public) deps.bulletins.setPublic(id, true); // issue 22: the commune's web page, once aired
      const job = deps.bulletinService.synthesize(id);
      const waited = await Promise.race([job, new Promise<null>((r) => setTimeout(() => r(null), deps.config.ttsSyncWaitMs).unref())]);
      if (waited?.status === 'ready' && waited.audioSha256 && waited.durationMs) {
        return reply.status(201).send({ id, status: 'ready' as const, audio: readyAudio(app.mediaLinks, user.id, waited.audioSha256, waited.durationMs) });
      }
      if (waited?.status === 'failed') {
        return reply.status(422).send({ error: { code: 'LOAXA_TTS_FAILED', message: waited.error ?? 'synthesis failed' } });
      }
      const now = deps.bulletins.get(id)!;
      return reply.status(202).send({ id, status: 'synthesizing' as const, progress: now.progress });
    },
  );

  app.post(
    '/api/v1/bulletins/relay',
    {
      config: { access: access.roles(WRITERS, { scope: 'the source must be usable in the caller’s area (ObjectScope.sourceUsable); the new bulletin belongs to the caller’s area' }, { why: 'create bulletins' }) },
      schema: {
        tags: ['bulletins'],
        summary: 'Create a relay bulletin: a live source aired for a duration, ready at once, broadcast like any other bulletin',
        body: relayBulletinCreateBodySchema,
        response: { 201: relayBulletinCreatedSchema, 400: errorBodySchema, 403: errorBodySchema },
      },
    },
    async (request, reply) => {
      const user = principalOf(request);
      const { title, sourceId, durationMs, category } = request.body;
      const source = deps.sources.get(sourceId);
      // A source of another area is answered as unknown, like a bulletin of another commune (issue 13, finding 9).
      if (!source || source.deletedAt !== null || !deps.objects.sourceUsable(user, source)) throw badRequest(`unknown source ${sourceId}`, [{ path: 'sourceId', message: 'unknown source' }]);
      const id = newId('bt');
      deps.bulletins.insertRelay({ id, title, category: category ?? null, sourceId, durationMs, createdBy: user.id, areaCode: user.areaCode });
      request.log.info({ bulletinId: id, sourceId, durationMs, userId: user.id }, 'relay bulletin created');
      return reply.status(201).send({ id, status: 'ready' as const, relay: { sourceId, durationMs } });
    },
  );

  /** A programme's current version in brief, for its bulletin's answer. */
  const brief = (b: Bulletin): ProgrammeBrief | undefined => {
    const v = b.source === 'programme' && b.programmeVersion ? deps.programmes.version(b.id, b.programmeVersion) : null;
    return v ? { version: v.version, itemCount: v.rendered.length, durationMs: v.durationMs, openEnded: v.openEnded } : undefined;
  };

  app.get(
    '/api/v1/bulletins',
    {
      config: { access: access.roles(ANY_ROLE, { scope: 'bulletins of the caller’s area and the areas inside it, and the caller’s own (ObjectScope.holdsArea); offered ones are in the inbox' }) },
      schema: {
        tags: ['bulletins'],
        summary: 'Bulletins of your area and your own, newest first: what a programme, a fallback or a broadcast may name, and the library',
        description:
          'Filter with `status` (`ready` for what can air), `source` (`text,recording` for audio that is not a relay or a programme), `q` (words of the title or the text, all of them, any case), `category`, `author` (a user id, or `me`), `from`/`to` (Vietnam days, YYYY-MM-DD, both included); `airings=true` adds how many times each aired and when last. `total` counts every match. Bulletins offered to your commune are in `/api/v1/inbox`.',
        querystring: bulletinListQuerySchema,
        response: { 200: listSchema(bulletinSchema), 400: errorBodySchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const { limit, cursor, status, source, q, category, author, from, to, airings } = request.query;
      const at = decodeCursor(cursor);
      const dash = at?.indexOf('-') ?? -1;
      const before = at && dash > 0 && /^\d+$/.test(at.slice(0, dash)) ? { createdAt: Number(at.slice(0, dash)), id: at.slice(dash + 1) } : undefined;
      if (at && !before) throw badRequest('invalid cursor; use the `next` value of the previous page', [{ path: 'cursor', message: 'invalid cursor' }]);
      // Every filter is SQL (repos/bulletin-search.ts), the area scope too: the page and `total` agree (issue 20).
      const filter = {
        viewer: { id: user.id, areaCode: user.areaCode },
        status,
        sources: source,
        category,
        authorId: author === 'me' ? user.id : author,
        ...dayRangeMs({ from, to }),
        words: searchWords(q),
      };
      const rows = deps.bulletins.search.page(filter, limit + 1, before);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      const next = rows.length > limit && last ? encodeCursor(`${last.createdAt}-${last.id}`, true) : null;
      const aired = airings === 'true' ? deps.bulletins.search.airings(page.map((b) => b.id)) : null;
      const items = page.map((b) => {
        const a = aired?.get(b.id);
        return {
          ...toApi(b, app.mediaLinks, user.id, brief(b)),
          author: b.createdBy && b.authorName ? { id: b.createdBy, username: b.authorName } : null,
          ...(aired ? { airings: { count: a?.count ?? 0, lastAt: a?.lastAt ? new Date(a.lastAt).toISOString() : null } } : {}),
        };
      });
      return { items, total: deps.bulletins.search.count(filter), next };
    },
  );

  app.get(
    '/api/v1/bulletins/:id',
    {
      config: { access: access.roles(ANY_ROLE, { object: 'bulletin', param: 'id' }) },
      schema: {
        tags: ['bulletins'],
        summary: 'A bulletin with its synthesis status, progress and audio',
        params: idParamsSchema,
        response: { 200: bulletinSchema, 404: errorBodySchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const b = deps.bulletins.get(request.params.id);
      if (!b) throw notFound(`bulletin ${request.params.id}`);
      return toApi(b, app.mediaLinks, user.id, brief(b));
    },
  );

  await app.register(multipart, { limits: { fileSize: deps.config.uploadLimitBytes, files: 1, fields: 10, fieldSize: 10_000, parts: 12 } });
  const uploadFields = bulletinUploadFieldsSchema;

  app.post(
    '/api/v1/bulletins/upload',
    {
      config: { access: access.roles(WRITERS, { scope: 'the new bulletin belongs to the caller’s area' }, { why: 'create bulletins' }) },
      schema: {
        tags: ['bulletins'],
        summary: 'Create a bulletin from a recording (multipart/form-data: title, category?, file); checked by decoding it, not by its name',
        consumes: ['multipart/form-data'],
        response: {
          201: bulletinReadySchema,
          202: bulletinSynthesizingSchema,
          400: errorBodySchema,
          403: errorBodySchema,
          413: errorBodySchema,
          415: errorBodySchema,
        },
      },
    },
    async (request, reply) => {
      const user = principalOf(request);
      const dir = join(deps.config.dataDir, 'uploads');
      await mkdir(dir, { recursive: true });
      const fields: Record<string, string> = {};
      let file: { path: string; name: string } | null = null;
      try {
        for await (const part of request.parts()) {
          if (part.type === 'file') {
            // The stored name is ours; the caller's file name is kept only as a label.
            if (file) throw badRequest('send one recording per request', [{ path: 'file', message: 'more than one file' }]);
            file = { path: join(dir, `${randomUUID()}.upload`), name: basename(part.filename || 'recording').slice(0, 200) };
            await pipeline(part.file, createWriteStream(file.path, { mode: 0o600 }));
          } else {
            fields[part.fieldname] = String(part.value);
          }
        }
        if (!file) throw badRequest('attach the recording as the `file` field', [{ path: 'file', message: 'missing' }]);
        const parsed = uploadFields.safeParse(fields);
        if (!parsed.success) throw badRequest(`invalid form: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
        try {
          await decodeRecording(file.path);
        } catch (err) {
          if (err instanceof NotAudioError) throw new ApiError(415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, `${err.message}; upload MP3, WAV, M4A or another audio file`);
          throw err;
        }
        const id = newId('bt');
        deps.bulletins.insert({ id, title: parsed.data.title, text: '', category: parsed.data.category ?? null, voice: 'vi', speed: 1, createdBy: user.id, areaCode: user.areaCode, source: 'recording', uploadPath: file.path, originalName: file.name });
        file = null; // the bulletin owns it now
        const job = deps.bulletinService.synthesize(id);
        const waited = await Promise.race([job, new Promise<null>((r) => setTimeout(() => r(null), deps.config.ttsSyncWaitMs).unref())]);
        if (waited?.status === 'ready' && waited.audioSha256 && waited.durationMs) {
          return reply.status(201).send({ id, status: 'ready' as const, audio: readyAudio(app.mediaLinks, user.id, waited.audioSha256, waited.durationMs) });
        }
        if (waited?.status === 'failed') throw new ApiError(415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, waited.error ?? 'the recording could not be processed');
        return reply.status(202).send({ id, status: 'synthesizing' as const, progress: deps.bulletins.get(id)!.progress });
      } finally {
        if (file) await rm(file.path, { force: true });
      }
    },
  );
};
