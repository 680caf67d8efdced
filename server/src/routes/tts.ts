import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  dictionaryDeleteQuerySchema,
  dictionaryEntrySchema as entrySchema,
  dictionaryPutBodySchema,
  dictionaryPutSchema,
  dictionaryQuerySchema,
  dictionaryTermParamsSchema,
  ttsPreviewBodySchema,
  ttsPreviewSchema,
  voiceSettingDeleteQuerySchema,
  voiceSettingPutBodySchema,
  voiceSettingQuerySchema,
  voiceSettingSchema,
} from '@loaxa/shared';
import { canWrite, coversArea, type Principal } from '../auth/scope.js';
import { principalOf } from '../http/auth.js';
import { ApiError, badRequest, errorBodySchema, forbidden, notFound } from '../http/errors.js';
import { listSchema } from '../http/pagination.js';
import { styleForVoice } from '../services/speech.js';
import type { AppContext } from '../services/context.js';
import { access, ANY_ROLE, APPROVERS, WRITERS } from '../http/access.js';
import { defaultVoiceFor } from '../services/voice-defaults.js';


/**
 * The area a dictionary write is for: `areaCode` of the body (PUT) or the query (DELETE) when given, else
 * the caller's own. The routes and the audit log (which names the (term, area) entry written) both use it.
 */
export function dictionaryAreaOf(request: FastifyRequest): string | null {
  // Only where each route validates it: a DELETE's unvalidated body must not name another area.
  const given = request.method === 'PUT' ? (request.body as { areaCode?: string | null } | undefined)?.areaCode : (request.query as { areaCode?: string } | undefined)?.areaCode;
  return given !== undefined ? given : (request.principal?.areaCode ?? null);
}

/**
 * Who changes the readings of an area (issue 13, finding 8: any operator rewrote the installation-wide
 * dictionary, and so every commune's bulletins, emergencies included). Installation-wide entries: only an
 * installation-wide province admin. An area's: a writer whose area holds it — an operator or approver its
 * commune and villages, a province admin its province and below.
 */
function assertMayWriteEntries(deps: Pick<AppContext, 'areas'>, user: Principal, areaCode: string | null): void {
  if (!canWrite(user)) throw forbidden('viewers cannot change the dictionary');
  if (areaCode === null) {
    if (user.role !== 'province-admin' || user.areaCode !== null) {
      throw forbidden('only an installation-wide province admin changes the installation-wide readings; give the areaCode of an area inside yours');
    }
    return;
  }
  if (!deps.areas.get(areaCode)) throw badRequest(`unknown area ${areaCode}`, [{ path: 'areaCode', message: 'unknown area' }]);
  if (!coversArea(user, deps.areas.ancestry(areaCode))) throw forbidden(`area ${areaCode} is outside your area`);
}

/** What these routes use, and all they are given (wiring/http.ts). */
export type TtsRouteDeps = Pick<AppContext, 'config' | 'areas' | 'dictionary' | 'voiceSettings' | 'media' | 'speech' | 'render'>;


export const ttsRoutes: FastifyPluginAsyncZod<TtsRouteDeps> = async (app, deps) => {
  app.post(
    '/api/v1/tts/preview',
    {
      // Nothing is stored; an areaCode given must lie inside the caller's area (403 from the hook).
      config: { access: access.roles(WRITERS, { area: { in: 'body', key: 'areaCode' } }, { why: 'synthesize audio' }) },
      schema: {
        tags: ['tts'],
        summary: 'How a text will be read aloud: the words, what was rewritten, guessed or left unread, and the audio',
        body: ttsPreviewBodySchema,
        response: {
          200: ttsPreviewSchema,
          400: errorBodySchema,
          422: errorBodySchema,
        },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const { text } = request.body;
      const areaCode = request.body.areaCode ?? user.areaCode;
      if (areaCode !== null && !deps.areas.get(areaCode)) throw badRequest(`unknown area ${areaCode}`, [{ path: 'areaCode', message: 'unknown area' }]);
      // Heard as the area's bulletins will be read: its voice and rate unless the request chooses.
      const byArea = defaultVoiceFor(deps, areaCode);
      const voice = request.body.voice ?? byArea.voice;
      const speed = request.body.speed ?? byArea.speed;
      const style = request.body.style ?? styleForVoice(voice);
      // Read as the area's bulletins would be: with the entries of its ancestry.
      const reading = deps.speech.normalize(text.normalize('NFC'), style, areaCode);
      let out;
      try {
        out = await deps.render({ text, voice, speed, style, areaCode, onProgress: () => undefined });
      } catch (err) {
        throw new ApiError(422, 'LOAXA_TTS_FAILED', `synthesis failed: ${(err as Error).message}`);
      }
      const stored = await deps.media.put(out.ogg, 'ogg');
      const link = app.mediaLinks.sign(stored.sha256, user.id);
      return {
        words: reading.text,
        sentences: reading.sentences,
        report: { rewritten: reading.rewritten, guessed: reading.guessed, unread: reading.unread },
        audio: { sha256: stored.sha256, durationMs: out.durationMs, url: `/media/${stored.sha256}`, engine: out.engine, signedUrl: link.url, signedUrlExpiresAt: new Date(link.expiresAt).toISOString() },
      };
    },
  );

  app.get(
    '/api/v1/tts/dictionary',
    {
      config: { access: access.roles(ANY_ROLE, { scope: 'entries of the caller’s ancestry and of the areas inside its area' }) },
      schema: {
        tags: ['tts'],
        summary:
          'Readings added over the shipped dictionary that you can see: those applied in your area (installation-wide, your province’s, your commune’s) and those of the areas inside it. A bulletin is read with the most local entry of its area.',
        querystring: dictionaryQuerySchema,
        response: { 200: listSchema(entrySchema) },
      },
    },
    async (request) => {
      const user = principalOf(request);
      let visible = (_area: string | null) => true;
      if (user.areaCode !== null) {
        const chain = new Set(deps.areas.ancestry(user.areaCode));
        const below = new Set(deps.areas.subtree(user.areaCode));
        // A sibling commune's entries are none of this one's business.
        visible = (area) => area === null || chain.has(area) || below.has(area);
      }
      const only = request.query.areaCode;
      // Tens to a few hundred entries per province: one page, with the list shape of CONTRACTS.md.
      const items = deps.dictionary
        .list()
        .filter((e) => visible(e.areaCode) && (only === undefined || e.areaCode === only))
        .map((e) => ({ term: e.term, reading: e.reading, areaCode: e.areaCode, updatedAt: new Date(e.updatedAt).toISOString() }));
      return { items, total: items.length, next: null };
    },
  );

  app.put(
    '/api/v1/tts/dictionary/:term',
    {
      // The hook refuses another area's code before the audit log reads that entry's state; installation-wide
      // (null) and the caller's own area are the handler's to decide (assertMayWriteEntries).
      config: { access: access.roles(WRITERS, { area: { in: 'body', key: 'areaCode' } }, { why: 'change the dictionary' }) },
      schema: {
        tags: ['tts'],
        summary: 'Add or change how a term is read aloud in an area (default: yours) and the areas inside it',
        params: dictionaryTermParamsSchema,
        body: dictionaryPutBodySchema,
        response: { 200: dictionaryPutSchema, 400: errorBodySchema, 403: errorBodySchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const areaCode = dictionaryAreaOf(request);
      assertMayWriteEntries(deps, user, areaCode);
      deps.dictionary.upsert(request.params.term, areaCode, request.body.reading, user.id);
      request.log.info({ term: request.params.term, areaCode }, 'dictionary entry set');
      return { term: request.params.term, reading: request.body.reading, areaCode };
    },
  );

  app.delete(
    '/api/v1/tts/dictionary/:term',
    {
      config: { access: access.roles(WRITERS, { area: { in: 'query', key: 'areaCode' } }, { why: 'change the dictionary' }) },
      schema: {
        tags: ['tts'],
        summary: 'Remove an area’s reading (default: your area’s); the next less local one, or the shipped one, applies again',
        params: dictionaryTermParamsSchema,
        querystring: dictionaryDeleteQuerySchema,
        response: { 204: z.null(), 400: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema },
      },
    },
    async (request, reply) => {
      const user = principalOf(request);
      const areaCode = dictionaryAreaOf(request);
      assertMayWriteEntries(deps, user, areaCode);
      if (!deps.dictionary.delete(request.params.term, areaCode)) throw notFound(`dictionary entry ${request.params.term} of ${areaCode ?? 'the installation'}`);
      return reply.status(204).send(null);
    },
  );

  /** The area asked about (default: the caller's), 400 when unknown. */
  const areaOf = (request: FastifyRequest, given: string | undefined): string | null => {
    const code = given ?? principalOf(request).areaCode;
    if (code !== null && !deps.areas.get(code)) throw badRequest(`unknown area ${code}`, [{ path: 'areaCode', message: 'unknown area' }]);
    return code;
  };
  const settingOf = (code: string | null) => {
    const own = code === null ? null : deps.voiceSettings.get(code);
    return { areaCode: code, own: own ? { voice: own.voice, speed: own.speed, updatedAt: new Date(own.updatedAt).toISOString() } : null, effective: defaultVoiceFor(deps, code) };
  };

  app.get(
    '/api/v1/tts/voice',
    {
      config: { access: access.roles(ANY_ROLE, { area: { in: 'query', key: 'areaCode' } }) },
      schema: {
        tags: ['tts'],
        summary: 'The voice and speaking rate an area’s bulletins are read with when a bulletin does not choose (default area: yours)',
        querystring: voiceSettingQuerySchema,
        response: { 200: voiceSettingSchema, 400: errorBodySchema, 403: errorBodySchema },
      },
    },
    async (request) => settingOf(areaOf(request, request.query.areaCode)),
  );

  app.put(
    '/api/v1/tts/voice',
    {
      // Issue 20: the province sets its own and its communes' reading; a commune's approver its commune's. The
      // hook refuses an area outside the caller's (403) before anything is read; every write is audited.
      config: { access: access.roles(APPROVERS, { area: { in: 'body', key: 'areaCode' } }, { why: 'set the reading voice and speed' }) },
      schema: {
        tags: ['tts'],
        summary: 'Set the default voice and speaking rate of an area (yours or one inside it); bulletins made afterwards use it',
        body: voiceSettingPutBodySchema,
        response: { 200: voiceSettingSchema, 400: errorBodySchema, 403: errorBodySchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const { areaCode, voice, speed } = request.body;
      areaOf(request, areaCode);
      deps.voiceSettings.set({ areaCode, voice, speed, updatedBy: user.id, updatedAt: Date.now() });
      request.log.info({ areaCode, voice, speed }, 'area voice set');
      return settingOf(areaCode);
    },
  );

  app.delete(
    '/api/v1/tts/voice',
    {
      config: { access: access.roles(APPROVERS, { area: { in: 'query', key: 'areaCode' } }, { why: 'set the reading voice and speed' }) },
      schema: {
        tags: ['tts'],
        summary: 'Remove an area’s own voice setting: the one of the area above it, or the server’s default, applies again',
        querystring: voiceSettingDeleteQuerySchema,
        response: { 200: voiceSettingSchema, 400: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema },
      },
    },
    async (request) => {
      const code = areaOf(request, request.query.areaCode)!;
      if (!deps.voiceSettings.delete(code)) throw notFound(`voice setting of ${code}`);
      return settingOf(code);
    },
  );
};
