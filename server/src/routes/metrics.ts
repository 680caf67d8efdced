/**
 * `GET /api/v1/metrics`: what the benchmarks of issue 8 read from the server itself — device messages
 * received and stored, their write latency (arrival in the handler → commit of the batch that stored
 * them) over the last minute, the batches' own duration, and the process's memory and CPU time.
 * Province admins only: it describes the whole installation.
 */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { errorBodySchema } from '../http/errors.js';
import type { AppContext } from '../services/context.js';
import { access, ADMINS } from '../http/access.js';

const latency = z.object({
  windowSeconds: z.number(),
  count: z.number().int(),
  p50Ms: z.number().nullable(),
  p99Ms: z.number().nullable(),
  maxMs: z.number().nullable(),
});
const kind = z.object({
  received: z.number().int().describe('messages that reached the handler since start'),
  stored: z.number().int().describe('of those, committed (delivery reports: processed, `ignored` ones included)'),
  pending: z.number().int().describe('waiting in memory for their batch'),
  lost: z.number().int().describe('in a batch the database refused'),
  writeLatency: latency.describe('arrival in the handler → commit of the batch, over the window'),
});

/**
 * Who may read the server's figures, here and in the Prometheus format (routes/prometheus.ts): province admins,
 * or a monitoring system with LOAXA_METRICS_TOKEN as its bearer, which it can send without logging in.
 */
export const METRICS_ACCESS = access.roles(ADMINS, { scope: 'server-wide counters, no area data' }, { why: 'read the metrics', scrapeToken: true });

/** What these routes use, and all they are given (wiring/http.ts). */
export type MetricsRouteDeps = Pick<AppContext, 'devices' | 'deliveryService'>;

export const metricsRoutes: FastifyPluginAsyncZod<MetricsRouteDeps> = async (app, deps) => {
  app.get(
    '/api/v1/metrics',
    {
      config: { access: METRICS_ACCESS },
      schema: {
        tags: ['metrics'],
        summary: 'Ingest counts and write latency of device messages, and process memory and CPU (province admins only)',
        response: {
          200: z.object({
            at: z.string(),
            ingest: z.object({
              heartbeats: kind.extend({ inDatabase: z.number().int().describe('every heartbeat in the database: the counts of every device, summed, plus those in the log not yet folded into them') }),
              statuses: kind,
              deliveryReports: kind.extend({ ignored: z.number().int().describe('repeated, stale or for no known delivery') }),
              batches: z.object({ presence: latency, deliveryReports: latency }).describe('duration of each batch transaction'),
            }),
            process: z.object({ uptimeSeconds: z.number(), rssBytes: z.number(), heapUsedBytes: z.number(), cpuUserMs: z.number(), cpuSystemMs: z.number() }),
          }),
          403: errorBodySchema,
        },
      },
    },
    async () => {
      const mem = process.memoryUsage();
      const cpu = process.cpuUsage();
      return {
        at: new Date().toISOString(),
        ingest: (() => {
          const m = deps.deliveryService.metrics.snapshot();
          return { ...m, heartbeats: { ...m.heartbeats, inDatabase: deps.devices.heartbeatTotal() } };
        })(),
        process: { uptimeSeconds: Math.round(process.uptime()), rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, cpuUserMs: Math.round(cpu.user / 1000), cpuSystemMs: Math.round(cpu.system / 1000) },
      };
    },
  );
};
