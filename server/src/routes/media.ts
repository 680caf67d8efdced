/**
 * `/media/{sha256}`: immutable audio by content hash, with Range requests so a box on a weak 4G link can
 * resume a download. Devices authenticate with their own MQTT credentials (HTTP Basic); people with
 * their login token or session cookie.
 */
import { createReadStream } from 'node:fs';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import { ErrorCode } from '@loaxa/shared';
import { secretMatches } from '../auth/passwords.js';
import { resolvePrincipal } from '../http/auth.js';
import { ApiError, notFound, sendError } from '../http/errors.js';
import type { AppContext } from '../services/context.js';

const CONTENT_TYPES = { ogg: 'audio/ogg', mp3: 'audio/mpeg' } as const;

function deviceFromBasic(request: FastifyRequest, ctx: AppContext): string | null {
  const h = request.headers.authorization;
  if (!h?.startsWith('Basic ')) return null;
  const decoded = Buffer.from(h.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return null;
  const id = decoded.slice(0, colon);
  const creds = ctx.devices.credentials(id);
  return creds && !creds.revoked && secretMatches(decoded.slice(colon + 1), creds.secretHash) ? id : null;
}

/** Parses a single `bytes=` range [RFC 9110 §14.1.2]; null means "serve whole", 'invalid' means 416. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'invalid' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'invalid';
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'invalid';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) return 'invalid';
  return { start, end };
}

export const mediaRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/media/:sha256',
    {
      config: { public: true },
      schema: {
        tags: ['media'],
        summary: 'Audio by SHA-256; devices use HTTP Basic with their MQTT credentials; supports Range',
        params: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex SHA-256') }),
      },
    },
    async (request, reply) => {
      const deviceId = deviceFromBasic(request, ctx);
      if (!deviceId && !resolvePrincipal(request, ctx.sessions, ctx.users)) {
        reply.header('www-authenticate', 'Basic realm="loaxa-media"');
        throw new ApiError(401, ErrorCode.UNAUTHORIZED, 'media needs device credentials (HTTP Basic) or a login token');
      }
      const stat = await ctx.media.stat(request.params.sha256);
      if (!stat) throw notFound(`media ${request.params.sha256}`);
      const range = parseRange(request.headers.range, stat.bytes);
      reply
        .header('content-type', CONTENT_TYPES[stat.ext])
        .header('accept-ranges', 'bytes')
        .header('etag', `"${stat.sha256}"`)
        .header('cache-control', 'private, max-age=31536000, immutable');
      if (range === 'invalid') {
        reply.header('content-range', `bytes */${stat.bytes}`);
        return sendError(reply, 416, ErrorCode.BAD_REQUEST, `range not satisfiable; the file has ${stat.bytes} bytes`);
      }
      if (range) {
        reply.status(206).header('content-range', `bytes ${range.start}-${range.end}/${stat.bytes}`).header('content-length', range.end - range.start + 1);
        return reply.send(createReadStream(stat.path, { start: range.start, end: range.end }));
      }
      reply.header('content-length', stat.bytes);
      return reply.send(createReadStream(stat.path));
    },
  );
};
