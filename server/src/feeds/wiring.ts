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
  // `playing` is when a bulletin first airs somewhere; the other transitions change nothing on these pages.
  ctx.events.on('delivery', (e) => {
    if (e.state === 'playing') pages.invalidate();
  });
  await app.register(feedRoutes, { config, pages, bulletins: ctx.bulletins, objects: ctx.objects, media: ctx.media });
  return { repository, pages };
}
