/**
 * The commune's web page, wired for app.ts (issue 22): the repository, the pages with their cache, the cache
 * dropped whenever a box starts playing anything (a first airing in some commune) or a public flag changes, and
 * the routes. Returns the parts tests look at.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import type { AppContext } from '../services/context.js';
import { feedRoutes } from '../routes/feeds.js';
import { FeedRepository } from './feed-repository.js';
import { coverImage, FeedPages } from './feed-pages.js';

export interface FeedsWired {
  repository: FeedRepository;
  pages: FeedPages;
}

export async function wireFeeds(app: FastifyInstance, config: Config, ctx: AppContext, deps: { db: Db; logger: Logger }): Promise<FeedsWired> {
  const repository = new FeedRepository(deps.db);
  let file: Buffer | null = null;
  if (config.feedImageFile) {
    try {
      file = readFileSync(config.feedImageFile);
    } catch (err) {
      // A wrong path must not stop the loudspeakers: the pages use the generated picture, and the log says why.
      deps.logger.error({ err, file: config.feedImageFile }, 'LOAXA_FEED_IMAGE_FILE cannot be read; the communes’ pages use the default picture');
    }
  }
  const image = coverImage(file);
  if (file && image.cover !== file) deps.logger.error({ file: config.feedImageFile }, 'LOAXA_FEED_IMAGE_FILE is neither PNG nor JPEG; the communes’ pages use the default picture');
  const pages = new FeedPages({ repository, media: ctx.media, image });
  // `playing` of a public bulletin is when it may first air in a commune; the other transitions, and bulletins
  // that are not public, change nothing on these pages (review of issue 22: every box's `playing` of anything
  // emptied the cache, so every broadcast made every portal and podcast poller rebuild its page). Two indexed
  // reads per event, remembered per broadcast for the burst of a province-wide airing.
  // Remembered for a minute only: a bulletin published while it airs counts from then on.
  const publicOf = new Map<string, { isPublic: boolean; at: number }>();
  ctx.events.on('delivery', (e) => {
    if (e.state !== 'playing') return;
    const now = Date.now();
    let known = publicOf.get(e.broadcastId);
    if (!known || now - known.at > 60_000) {
      const b = ctx.broadcasts.get(e.broadcastId);
      known = { isPublic: b ? ctx.bulletins.get(b.bulletinId)?.public === true : false, at: now };
      if (publicOf.size > 1000) publicOf.clear();
      publicOf.set(e.broadcastId, known);
    }
    if (known.isPublic) pages.invalidate();
  });
  await app.register(feedRoutes, { config, pages, bulletins: ctx.bulletins, objects: ctx.objects, media: ctx.media });
  return { repository, pages };
}
