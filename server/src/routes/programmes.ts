/**
 * `/api/v1/programmes` (issue 15): a commune programme — bulletins, chimes, music under speech, relay segments,
 * pauses in order — saved with a version and broadcast like any bulletin (`POST /api/v1/broadcasts
 * {bulletinId: <programme id>}`). The rules (what an item may be, the edit rule, the files made) are
 * ProgrammeService's; these routes declare who may call them and shape the answers.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  idParamsSchema,
  programmeDraftSchema,
  programmeListQuerySchema,
  programmePreviewBodySchema,
  programmeSchema,
  programmeSummarySchema,
  programmeVersionParamsSchema,
  programmeVersionsSchema,
  type Programme,
} from '@loaxa/shared';
import { principalOf } from '../http/auth.js';
import { errorBodySchema, notFound } from '../http/errors.js';
import { access, ANY_ROLE, WRITERS } from '../http/access.js';
import { decodeCursor, encodeCursor, listSchema } from '../http/pagination.js';
import type { Bulletin } from '../repos/bulletins.js';
import type { ProgrammeVersionRecord } from '../repos/programmes.js';
import type { AppContext } from '../services/context.js';

/** What these routes use, and all they are given (wiring/http.ts). */
export type ProgrammeRouteDeps = Pick<AppContext, 'bulletins' | 'programmes' | 'programmeService' | 'objects'>;

/** A programme as the API shows it: its bulletin row and one of its versions (the current one by default). */
export function programmeToApi(b: Bulletin, v: ProgrammeVersionRecord): Programme {
  return {
    id: b.id,
    title: b.title,
    category: b.category,
    version: v.version,
    durationMs: v.durationMs,
    openEnded: v.openEnded,
    items: v.rendered.map((r, i) => ({ index: r.index, kind: r.kind, title: r.title, durationMs: r.durationMs, input: v.items[i]! })),
    createdAt: new Date(b.createdAt).toISOString(),
    updatedAt: new Date(v.createdAt).toISOString(),
    updatedBy: v.createdBy,
  };
}

const summaryOf = (b: Bulletin, v: ProgrammeVersionRecord) => {
  const { items, ...rest } = programmeToApi(b, v);
  return { ...rest, itemCount: items.length };
};

export const programmeRoutes: FastifyPluginAsyncZod<ProgrammeRouteDeps> = async (app, deps) => {
  /** The programme and its current version, or 404 (a plain bulletin's id is no programme). */
  const current = (id: string): { b: Bulletin; v: ProgrammeVersionRecord } => {
    const b = deps.programmes.get(id);
    const v = b?.programmeVersion ? deps.programmes.version(id, b.programmeVersion) : null;
    if (!b || !v) throw notFound(`programme ${id}`);
    return { b, v };
  };

  app.post(
    '/api/v1/programmes',
    {
      config: { access: access.roles(WRITERS, { scope: 'items must be bulletins and sources visible to the caller; the programme belongs to the caller’s area' }, { why: 'create programmes' }) },
      schema: {
        tags: ['programmes'],
        summary: 'Create a programme (version 1): its items checked and their files made; broadcast it with POST /api/v1/broadcasts {bulletinId: id}',
        body: programmeDraftSchema,
        response: { 201: programmeSchema, 400: errorBodySchema, 403: errorBodySchema },
      },
    },
    async (request, reply) => {
      const id = await deps.programmeService.create(principalOf(request), request.body);
      const { b, v } = current(id);
      return reply.status(201).send(programmeToApi(b, v));
    },
  );

  app.get(
    '/api/v1/programmes',
    {
      config: { access: access.roles(ANY_ROLE, { scope: 'only programmes visible to the caller (ObjectScope.bulletinVisible)' }) },
      schema: {
        tags: ['programmes'],
        summary: 'Programmes visible to the caller, by id, without their items',
        querystring: programmeListQuerySchema,
        response: { 200: listSchema(programmeSummarySchema), 400: errorBodySchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const { limit, cursor } = request.query;
      const after = decodeCursor(cursor);
      // Programmes are few (a commune makes a handful): read all, keep those the caller may see.
      const visible = deps.programmes.all().filter((b) => (after === undefined || b.id > after) && deps.objects.bulletinVisible(user, b));
      const page = visible.slice(0, limit);
      const items = page.flatMap((b) => {
        const v = b.programmeVersion ? deps.programmes.version(b.id, b.programmeVersion) : null;
        return v ? [summaryOf(b, v)] : [];
      });
      return { items, total: items.length, next: encodeCursor(page.at(-1)?.id, visible.length > limit) };
    },
  );

  app.get(
    '/api/v1/programmes/:id',
    {
      config: { access: access.roles(ANY_ROLE, { object: 'bulletin', param: 'id' }) },
      schema: { tags: ['programmes'], summary: 'A programme with the items of its current version', params: idParamsSchema, response: { 200: programmeSchema, 404: errorBodySchema } },
    },
    async (request) => {
      const { b, v } = current(request.params.id);
      return programmeToApi(b, v);
    },
  );

  app.put(
    '/api/v1/programmes/:id',
    {
      config: { access: access.roles(WRITERS, { object: 'bulletin', param: 'id' }, { why: 'edit programmes' }) },
      schema: {
        tags: ['programmes'],
        summary: 'Save a new version of a programme; boxes holding an airing of it get the new version with their agenda',
        description: 'A programme with approved broadcasts still to air is edited only by users who could broadcast without approval (409 otherwise: ask an approver, or save a copy under a new title).',
        params: idParamsSchema,
        body: programmeDraftSchema,
        response: { 200: programmeSchema, 400: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema, 409: errorBodySchema },
      },
    },
    async (request) => {
      const { b } = current(request.params.id);
      await deps.programmeService.update(principalOf(request), b, request.body);
      const now = current(b.id);
      return programmeToApi(now.b, now.v);
    },
  );

  app.get(
    '/api/v1/programmes/:id/versions',
    {
      config: { access: access.roles(ANY_ROLE, { object: 'bulletin', param: 'id' }) },
      schema: { tags: ['programmes'], summary: 'Every saved version of a programme, newest first', params: idParamsSchema, response: { 200: programmeVersionsSchema, 404: errorBodySchema } },
    },
    async (request) => {
      current(request.params.id);
      return {
        items: deps.programmes.versions(request.params.id).map((v) => ({ version: v.version, durationMs: v.durationMs, itemCount: v.rendered.length, createdAt: new Date(v.createdAt).toISOString(), createdBy: v.createdBy })),
      };
    },
  );

  app.get(
    '/api/v1/programmes/:id/versions/:version',
    {
      config: { access: access.roles(ANY_ROLE, { object: 'bulletin', param: 'id' }) },
      schema: { tags: ['programmes'], summary: 'One saved version of a programme, with its items', params: programmeVersionParamsSchema, response: { 200: programmeSchema, 400: errorBodySchema, 404: errorBodySchema } },
    },
    async (request) => {
      const { b } = current(request.params.id);
      const v = deps.programmes.version(b.id, request.params.version);
      if (!v) throw notFound(`version ${request.params.version} of programme ${b.id}`);
      return programmeToApi(b, v);
    },
  );

  app.post(
    '/api/v1/programmes/preview',
    {
      config: { access: access.roles(WRITERS, { scope: 'items must be bulletins and sources visible to the caller; no programme is stored' }, { why: 'preview programmes' }) },
      schema: {
        tags: ['programmes'],
        summary: 'The whole programme as one MP3 (audio/mpeg) to listen to before saving: relay segments as a 1.5 s two-beep marker, pauses as silence (at most 10 s each)',
        body: programmePreviewBodySchema,
        produces: ['audio/mpeg'],
        response: { 400: errorBodySchema, 403: errorBodySchema },
      },
    },
    async (request, reply) => {
      const mp3 = await deps.programmeService.preview(principalOf(request), request.body.items);
      return reply.header('content-type', 'audio/mpeg').header('cache-control', 'no-store').send(mp3 as never);
    },
  );
};
