/**
 * `GET /api/v1/reports/as-run`: what was scheduled, what played and what was missed and why, per commune and
 * device — the province's periodic compliance report (CONTRACTS.md). JSON and CSV; XLSX comes with the web app.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { asRunQuerySchema, asRunReportSchema, type AsRunItem } from '@loaxa/shared';
import { coversArea } from '../auth/scope.js';
import { principalOf } from '../http/auth.js';
import { badRequest, errorBodySchema, notFound } from '../http/errors.js';
import type { AsRunRow } from '../repos/as-run.js';
import { instantOf, dayOfCivil } from '../scheduling/local-time.js';
import type { AppContext } from '../services/context.js';
import { csvDocument } from '../http/csv.js';
import { access, ANY_ROLE } from '../http/access.js';

const DAY_MS = 86_400_000;

/** A local date means its whole day in Vietnam: `from` is its start, `to` its end (inclusive). */
function bound(value: string, edge: 'from' | 'to', path: string): number {
  if (value.length === 10) {
    const [y, m, d] = value.split('-').map(Number) as [number, number, number];
    const day = dayOfCivil(y, m, d);
    if (day === null) throw badRequest(`${value} is not a calendar date`, [{ path, message: 'not a calendar date' }]);
    return instantOf(day + (edge === 'to' ? 1 : 0), 0);
  }
  return Date.parse(value);
}

const COUNTED = ['played', 'missed', 'failed', 'cancelled', 'expired'] as const;
type Counts = { scheduled: number; pending: number; airtimeMs: number } & Record<(typeof COUNTED)[number], number>;
const emptyCounts = (): Counts => ({ scheduled: 0, played: 0, missed: 0, failed: 0, cancelled: 0, expired: 0, pending: 0, airtimeMs: 0 });
function count(c: Counts, r: AsRunRow): void {
  c.scheduled++;
  if ((COUNTED as readonly string[]).includes(r.state)) c[r.state as (typeof COUNTED)[number]]++;
  else c.pending++;
  if (r.state === 'played') c.airtimeMs += r.startedAt && r.endedAt ? r.endedAt - r.startedAt : (r.durationMs ?? 0);
}

const CSV_COLUMNS = ['commune_code', 'commune_name', 'device_id', 'device_name', 'broadcast_id', 'title', 'priority', 'occurrence_at', 'state', 'started_at', 'ended_at', 'airtime_s', 'reason'];

/** The same report as a workbook: a summary sheet per commune and a sheet with every delivery. */
async function asRunWorkbook(rows: AsRunRow[], communeOf: (areaCode: string) => { code: string; name: string }, meta: { area: string; from: string; to: string }): Promise<Buffer> {
  const { default: ExcelJS } = await import('exceljs');
  const book = new ExcelJS.Workbook();
  book.creator = 'Loa Xã';
  const summary = book.addWorksheet('Tổng hợp');
  summary.addRow([`Báo cáo phát thanh (as-run): ${meta.area}, từ ${meta.from} đến ${meta.to}`]);
  summary.addRow([]);
  summary.addRow(['Mã xã', 'Tên xã', 'Lượt lên lịch', 'Đã phát', 'Bỏ lỡ', 'Lỗi', 'Đã hủy', 'Hết hạn', 'Chưa xong', 'Thời lượng phát (phút)']).font = { bold: true };
  const perCommune = new Map<string, Counts & { name: string }>();
  for (const r of rows) {
    const c = communeOf(r.areaCode);
    let cc = perCommune.get(c.code);
    if (!cc) perCommune.set(c.code, (cc = { ...emptyCounts(), name: c.name }));
    count(cc, r);
  }
  for (const [codeKey, c] of perCommune) {
    summary.addRow([codeKey, c.name, c.scheduled, c.played, c.missed, c.failed, c.cancelled, c.expired, c.pending, Math.round(c.airtimeMs / 600) / 100]);
  }
  summary.columns.forEach((col, i) => (col.width = i === 1 ? 28 : 14));
  const detail = book.addWorksheet('Chi tiết');
  detail.addRow(CSV_COLUMNS).font = { bold: true };
  for (const r of rows) {
    const c = communeOf(r.areaCode);
    const airtime = r.state === 'played' ? Math.round((r.startedAt && r.endedAt ? r.endedAt - r.startedAt : (r.durationMs ?? 0)) / 1000) : 0;
    const at = (ms: number | null) => (ms === null ? null : new Date(ms));
    detail.addRow([c.code, c.name, r.deviceId, r.deviceName, r.broadcastId, r.bulletinTitle, r.priority, at(r.occurrenceAt), r.state, at(r.startedAt), at(r.endedAt), airtime, r.reason]);
  }
  detail.columns.forEach((col) => (col.width = 20));
  return Buffer.from(await book.xlsx.writeBuffer());
}

/** What these routes use, and all they are given (wiring/http.ts). */
export type ReportRouteDeps = Pick<AppContext, 'areas' | 'asRun'>;

export const reportRoutes: FastifyPluginAsyncZod<ReportRouteDeps> = async (app, deps) => {
  const repo = deps.asRun;
  app.get(
    '/api/v1/reports/as-run',
    {
      config: { access: access.roles(ANY_ROLE, { scope: 'the asked area must lie inside the caller’s (404 otherwise)' }) },
      schema: {
        tags: ['reports'],
        summary: 'As-run compliance per commune and device: scheduled vs played vs missed (and why), airtime',
        querystring: asRunQuerySchema,
        response: {
          200: asRunReportSchema,
          400: errorBodySchema,
          404: errorBodySchema,
        },
      },
    },
    async (request, reply) => {
      const user = principalOf(request);
      const { area: code, format } = request.query;
      const area = deps.areas.get(code);
      if (!area || !coversArea(user, deps.areas.ancestry(code))) throw notFound(`area ${code}`);
      const from = bound(request.query.from, 'from', 'from');
      const to = bound(request.query.to, 'to', 'to');
      if (to <= from) throw badRequest('`to` must be after `from`', [{ path: 'to', message: 'before from' }]);
      if (to - from > 400 * DAY_MS) throw badRequest('a report covers at most 400 days', [{ path: 'to', message: 'range too long' }]);

      const rows = repo.rows(deps.areas.subtree(code), from, to);
      // Devices installed in a village count for its commune.
      const communeOf = new Map<string, { code: string; name: string }>();
      const resolve = (areaCode: string) => {
        let hit = communeOf.get(areaCode);
        if (!hit) {
          const chain = deps.areas.ancestry(areaCode).map((c) => deps.areas.get(c)!);
          const commune = chain.find((a) => a.level === 'commune') ?? chain[0]!;
          hit = { code: commune.code, name: commune.name };
          communeOf.set(areaCode, hit);
        }
        return hit;
      };
      const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

      if (format === 'csv') {
        const lines: unknown[][] = [];
        for (const r of rows) {
          const c = resolve(r.areaCode);
          const airtime = r.state === 'played' ? Math.round((r.startedAt && r.endedAt ? r.endedAt - r.startedAt : (r.durationMs ?? 0)) / 1000) : 0;
          lines.push([c.code, c.name, r.deviceId, r.deviceName, r.broadcastId, r.bulletinTitle, r.priority, iso(r.occurrenceAt), r.state, iso(r.startedAt), iso(r.endedAt), airtime, r.reason]);
        }
        reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="as-run-${code}-${request.query.from}-${request.query.to}.csv"`);
        // Bypass the JSON serializer of the 200 schema: this answer is CSV text.
        return reply.serializer((body: unknown) => body as string).send(csvDocument(CSV_COLUMNS, lines) as never);
      }

      if (format === 'xlsx') {
        const book = await asRunWorkbook(rows, resolve, { area: `${area.name} (${area.code})`, from: request.query.from, to: request.query.to });
        reply
          .header('content-type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
          .header('content-disposition', `attachment; filename="as-run-${code}-${request.query.from}-${request.query.to}.xlsx"`);
        return reply.serializer((body: unknown) => body as string).send(book as never);
      }

      const totals = emptyCounts();
      const communes = new Map<string, Counts & { code: string; name: string; devices: Map<string, Counts & { deviceId: string; name: string; items: AsRunItem[] }> }>();
      for (const r of rows) {
        const c = resolve(r.areaCode);
        let cc = communes.get(c.code);
        if (!cc) communes.set(c.code, (cc = { ...emptyCounts(), code: c.code, name: c.name, devices: new Map() }));
        let dc = cc.devices.get(r.deviceId);
        if (!dc) cc.devices.set(r.deviceId, (dc = { ...emptyCounts(), deviceId: r.deviceId, name: r.deviceName, items: [] }));
        for (const target of [totals, cc, dc]) count(target, r);
        dc.items.push({ broadcastId: r.broadcastId, title: r.bulletinTitle, priority: r.priority, occurrenceAt: iso(r.occurrenceAt)!, state: r.state, startedAt: iso(r.startedAt), endedAt: iso(r.endedAt), reason: r.reason });
      }
      return {
        area: { code: area.code, name: area.name, type: area.type },
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        totals,
        communes: [...communes.values()].map((c) => ({ ...c, devices: [...c.devices.values()] })),
      };
    },
  );
};
