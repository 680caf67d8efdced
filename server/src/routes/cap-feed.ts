/**
 * CAP 1.2 out (issue 18): every warning version we aired or relayed (Alert, Update, Cancel; status Actual
 * only — a Test or Exercise is nobody's business outside) and every emergency broadcast that is not a warning
 * (written as a CAP alert, cap-author.ts), as an Atom 1.0 feed (RFC 4287) with each alert inline, the way
 * CAP feeds are published, and each alert alone. Only what aired is published, and only Public-scope
 * messages (CAP 1.2 §3.2.1 scope: Restricted and Private ones are for their addressees). Newest first, the
 * last 7 days, at most 200 entries. Conditional GET (ETag, Last-Modified → 304), so that aggregators
 * polling every minute cost little.
 *
 * Public: a disaster warning is public information (Decision 18/2021/QĐ-TTg passes warnings on to the
 * public; CAP 1.2 scope Public). LOAXA_CAP_FEED=off turns it off (404).
 */
import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CAP_MIME_TYPE, type CapAlert } from '@loaxa/shared';
import { access } from '../http/access.js';
import { notFound } from '../http/errors.js';
import type { Config } from '../config.js';
import type { AreaRepository } from '../repos/areas.js';
import type { BroadcastTarget } from '../repos/broadcasts.js';
import type { EmergencyRow, WarningRepository, WarningVersionRecord } from '../repos/warnings.js';
import { readCap } from '../warnings/cap-read.js';
import { writeAtomFeed, writeCap } from '../warnings/cap-write.js';
import { emergencyAlert } from '../warnings/cap-author.js';
import { CAP_MAX_BYTES } from '../warnings/warning-service.js';

const DAY_MS = 86_400_000;
export const CAP_FEED_DAYS = 7;
export const CAP_FEED_MAX_ENTRIES = 200;

export interface CapFeedRouteDeps {
  config: Pick<Config, 'publicUrl' | 'capFeed' | 'capSender' | 'capFeedTitle'>;
  areas: AreaRepository;
  warnings: WarningRepository;
  now?: () => number;
}

interface Entry {
  /** The path segment of its own URL: `v<row>` for a warning version, the broadcast's id for an emergency. */
  key: string;
  at: number;
  alert: CapAlert;
}

export const capFeedRoutes: FastifyPluginAsyncZod<CapFeedRouteDeps> = async (app, deps) => {
  const { warnings, config } = deps;
  const now = () => deps.now?.() ?? Date.now();
  const why = 'disaster warnings are public information (CAP 1.2 scope Public; Decision 18/2021/QĐ-TTg); LOAXA_CAP_FEED=off turns the feed off';

  // CAP 1.2 §3.2.1 scope: a Restricted or Private message was meant for its addressees, never for a public feed.
  const versionEntry = (v: WarningVersionRecord): Entry | null => {
    const r = readCap(v.xml, { maxBytes: CAP_MAX_BYTES });
    return r.ok && r.alert.scope === 'Public' ? { key: `v${v.id}`, at: v.receivedAt, alert: r.alert } : null;
  };
  const emergencyEntry = (e: EmergencyRow): Entry => {
    const target = JSON.parse(e.target) as BroadcastTarget;
    const areas = (target.areaCodes ?? []).map((code) => ({ code, name: deps.areas.get(code)?.name ?? code }));
    return { key: e.id, at: e.createdAt, alert: readBack(emergencyAlert({ id: e.id, sender: config.capSender, sent: e.createdAt, text: e.text, title: e.title, areas, cancelled: e.status === 'cancelled' })) };
  };

  const base = (request: FastifyRequest) => (config.publicUrl ?? `${request.protocol}://${request.host}`).replace(/\/+$/, '');

  /** 304 when the client holds this version (ETag first, then Last-Modified: RFC 9110 §13.2.2). */
  const conditional = (request: FastifyRequest, reply: FastifyReply, body: string, lastModified: number): boolean => {
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
    const modified = new Date(Math.floor(lastModified / 1000) * 1000).toUTCString();
    reply.header('etag', etag).header('last-modified', modified).header('cache-control', 'public, max-age=30');
    const inm = request.headers['if-none-match'];
    if (inm !== undefined) return inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
    const ims = request.headers['if-modified-since'];
    return ims !== undefined && Date.parse(ims) >= Date.parse(modified);
  };

  app.get(
    '/cap/alerts.atom',
    { config: { access: access.public(why) }, schema: { tags: ['warnings'], summary: 'The CAP 1.2 alerts we published, as an Atom feed (issue 18)', security: [] } },
    async (request, reply) => {
      if (config.capFeed === 'off') throw notFound('CAP feed');
      const since = now() - CAP_FEED_DAYS * DAY_MS;
      const entries = [
        ...warnings.published(since, CAP_FEED_MAX_ENTRIES).map(versionEntry).filter((e): e is Entry => e !== null),
        ...warnings.emergencies(since, CAP_FEED_MAX_ENTRIES).map(emergencyEntry),
      ]
        .sort((a, b) => b.at - a.at || (a.key < b.key ? 1 : -1))
        .slice(0, CAP_FEED_MAX_ENTRIES);
      const root = base(request);
      const body = writeAtomFeed({
        id: `${root}/cap/alerts.atom`,
        title: config.capFeedTitle,
        selfUrl: `${root}/cap/alerts.atom`,
        author: { name: config.capSender },
        // Without entries the feed still needs an updated instant; the start of the window is stable.
        ...(entries.length ? {} : { updated: new Date(Math.floor(since / DAY_MS) * DAY_MS).toISOString().replace(/\.\d{3}Z$/, 'Z') }),
        entries: entries.map((e) => ({ alert: e.alert, url: `${root}/cap/alerts/${e.key}.xml` })),
      });
      if (conditional(request, reply, body, entries[0]?.at ?? 0)) return reply.status(304).send();
      return reply.type('application/atom+xml; charset=utf-8').send(body);
    },
  );

  app.get(
    '/cap/alerts/:file',
    {
      config: { access: access.public(why) },
      schema: { tags: ['warnings'], summary: 'One CAP 1.2 alert of the feed', params: z.object({ file: z.string().regex(/^[a-z0-9-]{1,80}\.xml$/) }), security: [] },
    },
    async (request, reply) => {
      if (config.capFeed === 'off') throw notFound('CAP feed');
      const key = request.params.file.replace(/\.xml$/, '');
      let entry: Entry | null = null;
      const m = /^v(\d{1,15})$/.exec(key);
      if (m) {
        const v = warnings.published(0, 1, Number(m[1]))[0];
        if (v) entry = versionEntry(v);
      } else {
        const e = warnings.emergencies(0, 1, key)[0];
        if (e) entry = emergencyEntry(e);
      }
      if (!entry) throw notFound(`CAP alert ${key}`);
      const body = writeCap(entry.alert);
      if (conditional(request, reply, body, entry.at)) return reply.status(304).send();
      return reply.type(`${CAP_MIME_TYPE}; charset=utf-8`).send(body);
    },
  );
};

/** An authored alert as the model (defaults filled), as the feed writer takes it. */
function readBack(input: Parameters<typeof writeCap>[0]): CapAlert {
  const r = readCap(writeCap(input));
  if (!r.ok) throw new Error(`an authored CAP alert does not read back: ${r.message}`);
  return r.alert;
}
