/**
 * `GET /metrics`: the server's figures in the Prometheus text format 0.0.4 (issue 21), for a Prometheus
 * and the Grafana dashboard and alert rules in `deploy/`. Declared like `GET /api/v1/metrics` (the same
 * `METRICS_ACCESS`): province admins, or a scraper with LOAXA_METRICS_TOKEN as its bearer.
 *
 * Every label is bounded: provinces (~34), fault kinds and delivery states (enums of the message catalog),
 * ingest kinds, synthesis outcomes, and HTTP route patterns (http-metrics.ts). No box id, user or URL.
 */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { readdirSync } from 'node:fs';
import { errorBodySchema } from '../http/errors.js';
import type { AppContext } from '../services/context.js';
import { INGEST_KINDS, type IngestKind } from '../services/ingest-metrics.js';
import { renderExposition, type Family } from '../metrics/exposition.js';
import type { HttpMetrics } from '../metrics/http-metrics.js';
import { METRICS_ACCESS } from './metrics.js';
import type { BackupService } from '../backup/backup-service.js';

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Deliveries counted by `loaxa_deliveries_recent`: a day covers every broadcast still being delivered or just reported. */
export const RECENT_DELIVERIES_MS = 24 * 3600_000;

/** What this route uses, and all it is given (wiring/http.ts). */
export type PrometheusRouteDeps = Pick<AppContext, 'devices' | 'deliveryService' | 'bulletinService' | 'live' | 'opsCounts' | 'brokerHealth'> & {
  /** Nightly backups (LOAXA_BACKUP_DIR), or null/absent: their families are then declared without samples. */
  backups?: Pick<BackupService, 'stats'> | null;
  httpMetrics: HttpMetrics;
  serverVersion: string;
};

/** The label value each ingest kind has (snake case, as Prometheus labels are usually spelled). */
const KIND_LABEL: Record<IngestKind, string> = { heartbeats: 'heartbeat', statuses: 'status', deliveryReports: 'delivery_report' };

export const prometheusRoutes: FastifyPluginAsyncZod<PrometheusRouteDeps> = async (app, deps) => {
  app.get(
    '/metrics',
    {
      config: { access: METRICS_ACCESS },
      schema: {
        tags: ['metrics'],
        summary: 'The server\'s metrics in the Prometheus text format 0.0.4 (province admins, or the scrape token)',
        // A string with a text/plain type is sent as it is: fastify serializes only JSON replies.
        response: { 200: z.string().describe('text/plain; version=0.0.4'), 401: errorBodySchema, 403: errorBodySchema },
      },
    },
    async (_request, reply) => {
      reply.type(EXPOSITION_CONTENT_TYPE);
      return renderExposition(families(deps));
    },
  );
};

function families(deps: PrometheusRouteDeps): Family[] {
  // Statuses wait in memory for their batch; written now, so that "online" is what boxes said, not the last batch.
  deps.devices.flushPending();
  const boxes = deps.opsCounts.boxesByProvince();
  const faults = deps.opsCounts.openFaultsByKind();
  const deliveries = deps.opsCounts.deliveriesByState(Date.now() - RECENT_DELIVERIES_MS);
  const outbox = deps.opsCounts.outboxPending();
  const ingest = deps.deliveryService.metrics;
  const totals = INGEST_KINDS.map((k) => ({ labels: { kind: KIND_LABEL[k] }, t: ingest.totals(k) }));
  const broker = deps.brokerHealth();
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  const out: Family[] = [
    { name: 'loaxa_build_info', type: 'gauge', help: 'Always 1; the server version as a label.', samples: [{ labels: { version: deps.serverVersion }, value: 1 }] },
    { name: 'loaxa_boxes_registered', type: 'gauge', help: 'Boxes registered and not revoked, by province (area code).', samples: boxes.map((b) => ({ labels: { province: b.province }, value: b.registered })) },
    { name: 'loaxa_boxes_online', type: 'gauge', help: 'Boxes online now (by their status and the broker\'s word), by province (area code).', samples: boxes.map((b) => ({ labels: { province: b.province }, value: b.online })) },
    { name: 'loaxa_faults_open', type: 'gauge', help: 'Faults boxes reported and have not cleared, by kind.', samples: Object.entries(faults).map(([kind, value]) => ({ labels: { kind }, value })) },
    {
      name: 'loaxa_deliveries_recent',
      type: 'gauge',
      help: `Deliveries of broadcast occurrences in the last ${RECENT_DELIVERIES_MS / 3600_000} h, by their current state.`,
      samples: Object.entries(deliveries).map(([state, value]) => ({ labels: { state }, value })),
    },
    { name: 'loaxa_ingest_messages_received_total', type: 'counter', help: 'Messages from boxes that reached the ingest, by kind.', samples: totals.map(({ labels, t }) => ({ labels, value: t.received })) },
    { name: 'loaxa_ingest_messages_stored_total', type: 'counter', help: 'Of those, committed to the database, by kind.', samples: totals.map(({ labels, t }) => ({ labels, value: t.stored })) },
    { name: 'loaxa_ingest_messages_lost_total', type: 'counter', help: 'Of those, in a batch the database refused, by kind.', samples: totals.map(({ labels, t }) => ({ labels, value: t.lost })) },
    { name: 'loaxa_ingest_messages_pending', type: 'gauge', help: 'Messages waiting in memory for their batch, by kind.', samples: totals.map(({ labels, t }) => ({ labels, value: t.pending })) },
    {
      name: 'loaxa_ingest_write_latency_seconds',
      type: 'histogram',
      help: 'Arrival of a box\'s message in the handler to the commit of the batch that stored it, by kind.',
      histograms: totals.map(({ labels, t }) => ({ labels, histogram: t.latency })),
    },
    { name: 'loaxa_ingest_reports_ignored_total', type: 'counter', help: 'Delivery reports processed without a change: repeated, stale or for no known delivery.', samples: [{ value: ingest.reportsIgnored }] },
    { name: 'loaxa_tts_queue_length', type: 'gauge', help: 'Bulletins being synthesized or waiting for an engine.', samples: [{ value: deps.bulletinService.queueLength }] },
    {
      name: 'loaxa_tts_synthesis_seconds',
      type: 'histogram',
      help: 'Wall time of each bulletin synthesis (speech or recording, mastering and storage included), by outcome.',
      histograms: (['ready', 'failed'] as const).map((outcome) => ({ labels: { outcome }, histogram: deps.bulletinService.synthesisSeconds[outcome].snapshot() })),
    },
    { name: 'loaxa_broker_up', type: 'gauge', help: '1 while the server has its MQTT broker (embedded: listening; external: connected).', samples: [{ value: broker.up ? 1 : 0 }] },
  ];
  // An external broker counts its own connections (and exports them itself); a 0 here would be a lie.
  if (broker.deviceConnections !== null) {
    out.push({ name: 'loaxa_broker_connections', type: 'gauge', help: 'Authenticated box connections open on the embedded broker.', samples: [{ value: broker.deviceConnections }] });
  }
  out.push(
    { name: 'loaxa_live_airings_on_air', type: 'gauge', help: 'Live voice airings on air now.', samples: [{ value: deps.live.onAir }] },
    { name: 'loaxa_national_outbox_pending', type: 'gauge', help: 'Events for the national link not yet accepted upstream.', samples: [{ value: outbox.pending }] },
    {
      name: 'loaxa_national_outbox_oldest_age_seconds',
      type: 'gauge',
      help: 'Age of the oldest event waiting for the national link (0 when none waits).',
      samples: [{ value: outbox.oldestAt === null ? 0 : Math.max(0, (Date.now() - outbox.oldestAt) / 1000) }],
    },
    { name: 'loaxa_http_request_duration_seconds', type: 'histogram', help: 'Time to answer an HTTP request, by route pattern, method and status class.', histograms: deps.httpMetrics.snapshot() },
    // The names every Prometheus client library uses, so the usual dashboards and recording rules apply.
    { name: 'process_cpu_user_seconds_total', type: 'counter', help: 'User CPU time spent, in seconds.', samples: [{ value: cpu.user / 1e6 }] },
    { name: 'process_cpu_system_seconds_total', type: 'counter', help: 'System CPU time spent, in seconds.', samples: [{ value: cpu.system / 1e6 }] },
    { name: 'process_cpu_seconds_total', type: 'counter', help: 'User and system CPU time spent, in seconds.', samples: [{ value: (cpu.user + cpu.system) / 1e6 }] },
    { name: 'process_resident_memory_bytes', type: 'gauge', help: 'Resident memory size in bytes.', samples: [{ value: mem.rss }] },
    { name: 'process_start_time_seconds', type: 'gauge', help: 'Start time of the process since the Unix epoch, in seconds.', samples: [{ value: START_TIME_SECONDS }] },
    { name: 'nodejs_heap_size_total_bytes', type: 'gauge', help: 'V8 heap size, in bytes.', samples: [{ value: mem.heapTotal }] },
    { name: 'nodejs_heap_size_used_bytes', type: 'gauge', help: 'V8 heap used, in bytes.', samples: [{ value: mem.heapUsed }] },
  );
  out.push(...backupFamilies(deps.backups ?? null));
  const fds = openFds();
  if (fds !== null) out.push({ name: 'process_open_fds', type: 'gauge', help: 'Number of open file descriptors.', samples: [{ value: fds }] });
  return out;
}

/**
 * The nightly backups (issue 21). Without LOAXA_BACKUP_DIR the families are there with no sample, so a
 * dashboard panel shows "no data" instead of a made-up 0, and LoaxaBackupMissing has nothing to fire on.
 * A figure not known yet (no backup on disk, none since the start) is left out, not written as 0.
 */
function backupFamilies(backups: Pick<BackupService, 'stats'> | null): Family[] {
  const s = backups?.stats();
  const one = (v: number | null | undefined) => (v === null || v === undefined ? [] : [{ value: v }]);
  return [
    { name: 'loaxa_backup_enabled', type: 'gauge', help: '1 when nightly backups are on (LOAXA_BACKUP_DIR), else 0.', samples: [{ value: backups ? 1 : 0 }] },
    { name: 'loaxa_backup_last_success_timestamp_seconds', type: 'gauge', help: 'When the last complete backup was written (the newest on disk at start), in seconds since the Unix epoch.', samples: one(s?.lastSuccessAt == null ? null : s.lastSuccessAt / 1000) },
    { name: 'loaxa_backup_last_duration_seconds', type: 'gauge', help: 'Wall time of the last successful backup run, pruning included.', samples: one(s?.lastDurationMs == null ? null : s.lastDurationMs / 1000) },
    { name: 'loaxa_backup_last_size_bytes', type: 'gauge', help: 'What the last complete backup holds: its database file and its media files.', samples: one(s?.lastSizeBytes) },
    { name: 'loaxa_backup_failures_total', type: 'counter', help: 'Backup runs that failed since the server started.', samples: one(s?.failures) },
    { name: 'loaxa_backup_last_failure_timestamp_seconds', type: 'gauge', help: 'When the last backup run failed, in seconds since the Unix epoch.', samples: one(s?.lastFailureAt == null ? null : s.lastFailureAt / 1000) },
  ];
}

const START_TIME_SECONDS = Math.round(Date.now() / 1000 - process.uptime());

/** Linux only (/proc); elsewhere the family is left out rather than reported as 0. */
function openFds(): number | null {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return null;
  }
}
