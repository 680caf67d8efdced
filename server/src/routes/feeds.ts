/**
 * The commune's web page (issue 22), outside `/api` and without login: per commune, by its official code,
 * - `/xa/{code}/podcast.xml`: RSS 2.0 with the iTunes tags, one item per public bulletin that aired there;
 * - `/xa/{code}/thong-bao.xml`: the same notices as Atom 1.0 text;
 * - `/xa/{code}/nhung`: the player a commune portal embeds in an `<iframe>`;
 * - `/xa/{code}/ban-tin/{id}`: a bulletin's shareable page (Open Graph for Zalo and Facebook), its audio
 *   (`…/audio.mp3`, or `.ogg` for a bulletin without an MP3 rendition) and its transcript (`…/loi.txt`);
 * - `/xa/nhung.css`, `/xa/nhung.js`, `/xa/anh-bia.*`, `/xa/anh-podcast.*`: what those pages load.
 * Anything else under `/xa/`, an unknown commune, or a bulletin that is not public or did not air in that
 * commune: the Vietnamese "not found" page (404), the same for all, so ids cannot be probed.
 *
 * Framing (issue 22): only the player may be framed, by LOAXA_EMBED_ANCESTORS (default any site) — it shows
 * public bulletins and does nothing with a login, so a frame cannot be used to trick anyone into acting. Every
 * other page here, like the app's own (routes/web.ts), says `frame-ancestors 'none'`.
 *
 * Cheap: answers come from FeedCache (ETag, Last-Modified, 304) and carry `Cache-Control: public`, so a
 * portal's visitors and podcast apps are mostly answered by their own caches or by a proxy in front.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createReadStream } from 'node:fs';
import { z } from 'zod';
import { bulletinPublicBodySchema, bulletinPublicSchema, ErrorCode, idParamsSchema } from '@loaxa/shared';
import { access, WRITERS } from '../http/access.js';
import { principalOf } from '../http/auth.js';
import { errorBodySchema, forbidden, notFound, sendError } from '../http/errors.js';
import { publicBase } from '../http/public-base.js';
import { MediaCache, parseRange } from './media.js';
import type { FeedPages } from '../feeds/feed-pages.js';
import type { CachedAnswer } from '../feeds/feed-cache.js';
import type { AppContext } from '../services/context.js';
import type { Config } from '../config.js';
import { EMBED_CSS, EMBED_JS } from '../feeds/embed-assets.js';
import { notFoundHtml } from '../feeds/pages.js';

/** Memory for public audio (a portal's visitors play the latest few bulletins). */
const PUBLIC_AUDIO_BYTES = 16 * 1024 * 1024;
/**
 * A feed is polled; a bulletin taken off must leave podcast apps and proxies within minutes, so audio is cached
 * for an hour and not as `immutable`, although its bytes never change.
 */
const MAX_AGE = { feed: 300, page: 120, audio: 3600, asset: 86_400 } as const;

const ANSWER_CSP = "default-src 'none'; frame-ancestors 'none'";
const pageCsp = (ancestors: string) => `default-src 'none'; script-src 'self'; style-src 'self'; media-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors ${ancestors}`;

export interface FeedRouteDeps {
  config: Pick<Config, 'publicUrl' | 'embedAncestors'>;
  pages: FeedPages;
  bulletins: AppContext['bulletins'];
  objects: AppContext['objects'];
  media: AppContext['media'];
}

const codeParams = z.object({ code: z.string().max(32) });
const itemParams = z.object({ code: z.string().max(32), id: z.string().max(64), file: z.string().max(32).optional() });

/** RFC 9110 §13.1.2–3: If-None-Match wins; If-Modified-Since only without it. */
function notModified(request: FastifyRequest, etag: string, lastModified: number): boolean {
  const inm = request.headers['if-none-match'];
  if (inm !== undefined) return inm.trim() === '*' || inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
  const ims = request.headers['if-modified-since'];
  const since = ims ? Date.parse(ims) : NaN;
  return Number.isFinite(since) && lastModified <= since;
}

export const feedRoutes: FastifyPluginAsyncZod<FeedRouteDeps> = async (app, deps) => {
  const { pages } = deps;
  const audioCache = new MediaCache(deps.media, PUBLIC_AUDIO_BYTES, PUBLIC_AUDIO_BYTES);
  const embedCsp = pageCsp(deps.config.embedAncestors);
  const closedCsp = pageCsp("'none'");
  const open = access.public('the commune’s public page: public bulletins that aired there (issue 22)');
  const hidden = { hide: true } as const;

  const sendNotFound = (reply: FastifyReply) =>
    reply.status(404).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'public, max-age=60').header('content-security-policy', closedCsp).header('x-content-type-options', 'nosniff').send(notFoundHtml());

  function sendAnswer(request: FastifyRequest, reply: FastifyReply, a: CachedAnswer | null, maxAge: number, csp: string) {
    if (!a) return sendNotFound(reply);
    reply
      .header('content-type', a.type)
      .header('etag', a.etag)
      .header('last-modified', new Date(a.lastModified).toUTCString())
      .header('cache-control', `public, max-age=${maxAge}`)
      .header('content-security-policy', csp)
      .header('x-content-type-options', 'nosniff')
      // Feed readers and players on other sites may read the feeds and audio (public, no credentials).
      .header('access-control-allow-origin', '*');
    if (notModified(request, a.etag, a.lastModified)) return reply.status(304).send();
    return reply.send(a.body);
  }

  const base = (request: FastifyRequest) => publicBase(deps.config, request);

  app.get('/xa/:code/podcast.xml', { config: { access: open }, schema: { ...hidden, params: codeParams } }, async (request, reply) =>
    sendAnswer(request, reply, await pages.podcast(base(request), request.params.code), MAX_AGE.feed, ANSWER_CSP),
  );
  app.get('/xa/:code/thong-bao.xml', { config: { access: open }, schema: { ...hidden, params: codeParams } }, async (request, reply) =>
    sendAnswer(request, reply, await pages.notices(base(request), request.params.code), MAX_AGE.feed, ANSWER_CSP),
  );
  app.get('/xa/:code/nhung', { config: { access: open }, schema: { ...hidden, params: codeParams } }, async (request, reply) =>
    sendAnswer(request, reply, await pages.embed(base(request), request.params.code), MAX_AGE.page, embedCsp),
  );
  app.get('/xa/:code/ban-tin/:id', { config: { access: open }, schema: { ...hidden, params: itemParams } }, async (request, reply) =>
    sendAnswer(request, reply, await pages.share(base(request), request.params.code, request.params.id), MAX_AGE.page, closedCsp),
  );
  app.get('/xa/:code/ban-tin/:id/:file', { config: { access: open }, schema: { ...hidden, params: itemParams } }, async (request, reply) => {
    const { code, id, file } = request.params;
    if (file === 'loi.txt') return sendAnswer(request, reply, await pages.transcript(code, id), MAX_AGE.page, ANSWER_CSP);
    const item = await pages.item(code, id);
    if (!item || file !== `audio.${item.audioExt}`) return sendNotFound(reply);
    const entry = await audioCache.get(item.audioSha256);
    if (!entry) return sendNotFound(reply);
    const etag = `"${item.audioSha256}"`;
    reply
      .header('content-type', item.audioExt === 'mp3' ? 'audio/mpeg' : 'audio/ogg')
      .header('accept-ranges', 'bytes')
      .header('etag', etag)
      .header('cache-control', `public, max-age=${MAX_AGE.audio}`)
      .header('access-control-allow-origin', '*')
      .header('x-content-type-options', 'nosniff')
      .header('content-disposition', `inline; filename="ban-tin-${item.id}.${item.audioExt}"`);
    // The bytes of a hash never change: only If-None-Match counts (no Last-Modified is sent).
    if (request.headers['if-none-match'] !== undefined && notModified(request, etag, 0)) return reply.status(304).send();
    const ifRange = request.headers['if-range'] as string | undefined;
    const range = ifRange && ifRange.trim() !== etag ? null : parseRange(request.headers.range, entry.bytes);
    if (range === 'invalid') {
      reply.header('content-range', `bytes */${entry.bytes}`);
      return sendError(reply, 416, ErrorCode.BAD_REQUEST, `range not satisfiable; the file has ${entry.bytes} bytes`);
    }
    if (range) reply.status(206).header('content-range', `bytes ${range.start}-${range.end}/${entry.bytes}`);
    const start = range?.start ?? 0;
    const end = range?.end ?? entry.bytes - 1;
    reply.header('content-length', end - start + 1);
    if (entry.body) return reply.send(range ? entry.body.subarray(start, end + 1) : entry.body);
    return reply.send(createReadStream(entry.path, { start, end }));
  });

  const asset = (type: string, body: Buffer) => async (request: FastifyRequest, reply: FastifyReply) => sendAnswer(request, reply, pages.asset(type, body), MAX_AGE.asset, ANSWER_CSP);
  app.get('/xa/nhung.css', { config: { access: open }, schema: hidden }, asset('text/css; charset=utf-8', Buffer.from(EMBED_CSS)));
  app.get('/xa/nhung.js', { config: { access: open }, schema: hidden }, asset('text/javascript; charset=utf-8', Buffer.from(EMBED_JS)));
  app.get('/xa/:image', { config: { access: open }, schema: { ...hidden, params: z.object({ image: z.string().max(32) }) } }, async (request, reply) => {
    const img = pages.image(request.params.image);
    return img ? sendAnswer(request, reply, img, MAX_AGE.asset, ANSWER_CSP) : sendNotFound(reply);
  });
  app.get('/xa/*', { config: { access: open }, schema: hidden }, async (_request, reply) => sendNotFound(reply));
  app.get('/xa', { config: { access: open }, schema: hidden }, async (_request, reply) => sendNotFound(reply));

  app.patch(
    '/api/v1/bulletins/:id/public',
    {
      config: { access: access.roles(WRITERS, { object: 'bulletin', param: 'id' }, { why: 'publish bulletins on the commune’s web page' }) },
      schema: {
        tags: ['bulletins'],
        summary: 'Publish a bulletin on the commune’s web page (podcast, notices, player) once it airs there, or take it off',
        description: 'Writers of the bulletin’s area (or its author). A bulletin offered to your commune from above stays the sender’s to publish.',
        params: idParamsSchema,
        body: bulletinPublicBodySchema,
        response: { 200: bulletinPublicSchema, 403: errorBodySchema, 404: errorBodySchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const b = deps.bulletins.get(request.params.id);
      if (!b) throw notFound(`bulletin ${request.params.id}`);
      // Seeing a bulletin (an offer, a broadcast to your boxes) is not owning it: its area decides (issue 22).
      if (b.createdBy !== user.id && !deps.objects.holdsArea(user, b.areaCode)) throw forbidden('only writers of the bulletin’s own area may publish it');
      deps.bulletins.setPublic(b.id, request.body.public);
      pages.invalidate();
      request.log.info({ bulletinId: b.id, public: request.body.public, userId: user.id }, 'bulletin public flag changed');
      return { id: b.id, public: request.body.public };
    },
  );
};
