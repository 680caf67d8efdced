/**
 * How long the HTTP API takes to answer, by route pattern, method and status class, for `GET /metrics`.
 * Labels come from the route that matched (`/api/v1/devices/:id`), never from the raw URL: every box id,
 * query string or scanner's probe would otherwise be a new series, and Prometheus keeps each one for
 * weeks. A request no route matched is `route="unmatched"`; methods outside the usual ones are `OTHER`.
 * So the series are at most routes × 8 methods × 5 classes, whatever clients send.
 */
import type { FastifyInstance } from 'fastify';
import { Histogram, LATENCY_BUCKETS_SECONDS, type HistogramSnapshot, type Labels } from './exposition.js';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export class HttpMetrics {
  private readonly series = new Map<string, { labels: Labels; histogram: Histogram }>();

  observe(route: string | undefined, method: string, statusCode: number, seconds: number): void {
    const labels = {
      route: route ?? 'unmatched',
      method: METHODS.has(method) ? method : 'OTHER',
      status: statusCode >= 100 && statusCode < 600 ? `${Math.floor(statusCode / 100)}xx` : 'other',
    };
    const key = `${labels.method} ${labels.status} ${labels.route}`;
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels, histogram: new Histogram(LATENCY_BUCKETS_SECONDS) }));
    s.histogram.observe(seconds);
  }

  snapshot(): Array<{ labels: Labels; histogram: HistogramSnapshot }> {
    return [...this.series.values()].map((s) => ({ labels: s.labels, histogram: s.histogram.snapshot() }));
  }

  /** One hook on the root instance, before any route: it sees every route's answers, the 404s too. */
  install(app: FastifyInstance): void {
    app.addHook('onResponse', async (request, reply) => {
      // `is404`: the not-found handler's routeOptions carry no pattern worth keeping.
      this.observe(request.is404 ? undefined : request.routeOptions.url, request.method, reply.statusCode, reply.elapsedTime / 1000);
    });
  }
}
