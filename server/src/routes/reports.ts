/**
 * `GET /api/v1/reports/as-run`: what was scheduled, what played and what was missed and why, per commune and
 * device — the province's periodic compliance report (CONTRACTS.md). JSON and CSV; XLSX comes with the web app.
 * `GET /api/v1/reports/relays`: the as-run of relays (issue 15): minutes actually relayed per box, gaps with
 * their causes, which URL served.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { asRunQuerySchema, asRunReportSchema, monthlyReportQuerySchema, monthlyReportSchema, BULLETIN_CATEGORY_LABELS_VI, DELIVERY_STATE_LABELS_VI, PRIORITY_LABELS_VI, PROGRAMME_ITEM_STATE_LABELS_VI, relayReportQuerySchema, relayReportSchema, type AsRunItem, type AsRunProgramme } from '@loaxa/shared';
import { coversArea } from '../auth/scope.js';
import { principalOf } from '../http/auth.js';
import { badRequest, errorBodySchema, notFound } from '../http/errors.js';
import type { AsRunRow } from '../repos/as-run.js';
import type { RelayDeliveryRow, RelayLogEntry } from '../repos/relay-log.js';
import { playedVersion, programmeAsRun } from '../domain/programme-as-run.js';
import type { ProgrammeVersionRecord } from '../repos/programmes.js';
import { instantOf, dayOfCivil } from '../scheduling/local-time.js';
import type { AppContext } from '../services/context.js';
import { count, emptyCounts, airtimeOf, relayItem, type Counts } from '../reports/as-run-figures.js';
import { csvDocument, vietnamDateTime } from '../http/csv.js';
import { access, ANY_ROLE } from '../http/access.js';
import { monthlyFigures } from '../reports/monthly.js';
import { monthlyPdf } from '../reports/monthly-pdf.js';

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

/**
 * A programme's airing (issue 15) is its delivery's line followed by one line per item, marked by
 * "Mục chương trình" (1-based, as the web app numbers them) and the version; other lines leave both empty,
 * so readers that ignore the two trailing columns still see one line per delivery plus the items.
 * Headers, states, priorities and categories are the web app's Vietnamese words, times Vietnam's wall clock
 * (issue 20, broken 8: the export said `played`, `emergency` and UTC, 7 hours off, to people who read Vietnamese).
 */
const CSV_COLUMNS = [
  'Mã xã', 'Tên xã', 'Mã cụm loa', 'Tên cụm loa', 'Mã lượt phát', 'Tiêu đề', 'Chuyên mục', 'Mức ưu tiên', 'Giờ phát theo lịch',
  'Trạng thái', 'Bắt đầu phát', 'Kết thúc phát', 'Thời lượng phát (giây)', 'Lý do', 'Phiên bản chương trình', 'Mục chương trình',
];

/** A programme item the box never reported on. */
const ITEM_NOT_REPORTED = 'Không có báo cáo';

/** The lines of a delivery in the CSV and the workbook: its own, then its programme's items. */
function deliveryLines(r: AsRunRow, c: { code: string; name: string }, programme: AsRunProgramme | undefined): unknown[][] {
  const at = vietnamDateTime;
  const airtime = r.state === 'played' ? Math.round(airtimeOf(r) / 1000) : 0;
  const category = r.category ? BULLETIN_CATEGORY_LABELS_VI[r.category] : null;
  const priority = PRIORITY_LABELS_VI[r.priority];
  const head = [c.code, c.name, r.deviceId, r.deviceName, r.broadcastId, r.bulletinTitle, category, priority, at(r.occurrenceAt), DELIVERY_STATE_LABELS_VI[r.state], at(r.startedAt), at(r.endedAt), airtime, r.reason, programme?.version ?? null, null];
  const items = (programme?.items ?? []).map((i) => [
    c.code, c.name, r.deviceId, r.deviceName, r.broadcastId, i.title, category, priority, at(r.occurrenceAt), i.state ? (PROGRAMME_ITEM_STATE_LABELS_VI[i.state] ?? i.state) : ITEM_NOT_REPORTED,
    at(i.startedAt === null ? null : Date.parse(i.startedAt)), at(i.endedAt === null ? null : Date.parse(i.endedAt)), i.airedMs === null ? null : Math.round(i.airedMs / 1000), i.reason, programme!.version, i.index + 1,
  ]);
  return [head, ...items];
}

/** The same report as a workbook: a summary sheet per commune and a sheet with every delivery. */
async function asRunWorkbook(rows: AsRunRow[], communeOf: (areaCode: string) => { code: string; name: string }, programmeOf: (r: AsRunRow) => AsRunProgramme | undefined, meta: { area: string; from: string; to: string; communes: readonly { code: string; name: string }[] }): Promise<Buffer> {
  const { default: ExcelJS } = await import('exceljs');
  const book = new ExcelJS.Workbook();
  book.creator = 'Loa Xã';
  const summary = book.addWorksheet('Tổng hợp');
  summary.addRow([`Báo cáo phát thanh (as-run): ${meta.area}, từ ${meta.from} đến ${meta.to}`]);
  summary.addRow([]);
  summary.addRow(['Mã xã', 'Tên xã', 'Lượt lên lịch', 'Đã phát', 'Bỏ lỡ', 'Lỗi', 'Đã hủy', 'Hết hạn', 'Chưa xong', 'Thời lượng phát (phút)']).font = { bold: true };
  // Every commune of the area, those with nothing scheduled too (issue 20, broken 9), then any a row names.
  const perCommune = new Map<string, Counts & { name: string }>(meta.communes.map((c) => [c.code, { ...emptyCounts(), name: c.name }]));
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
    for (const line of deliveryLines(r, communeOf(r.areaCode), programmeOf(r))) detail.addRow(line);
  }
  detail.columns.forEach((col) => (col.width = 20));
  return Buffer.from(await book.xlsx.writeBuffer());
}

/** What these routes use, and all they are given (wiring/http.ts). */
export type ReportRouteDeps = Pick<AppContext, 'areas' | 'asRun' | 'broadcasts' | 'bulletins' | 'relayLog' | 'objects' | 'programmes' | 'coverage' | 'monthlyReport' | 'devices' | 'faults'>;

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
      /**
       * Issue 20, broken 9: "communes with nothing scheduled left out" — the report lists every current commune
       * of the area, with zeros where nothing was scheduled, so the province sees who aired nothing.
       */
      const allCommunes = deps.areas
        .subtree(code)
        .map((c) => deps.areas.get(c))
        .filter((a): a is NonNullable<typeof a> => !!a && a.level === 'commune' && !a.validUntil)
        .map((a) => ({ code: a.code, name: a.name }))
        .sort((a, b) => a.name.localeCompare(b.name, 'vi'));
      const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
      // Issue 15: a programme's airing lists its items as the box reported them (never reported: state null).
      const versions = new Map<string, ProgrammeVersionRecord | null>();
      const programmeOf = (r: AsRunRow): AsRunProgramme | undefined => {
        if (r.programmeVersion === null) return undefined;
        const programmeId = deps.broadcasts.get(r.broadcastId)?.bulletinId;
        if (!programmeId) return undefined;
        const reports = deps.programmes.itemLog(r.broadcastId, r.occurrenceAt, r.deviceId);
        const version = playedVersion(reports, r.programmeVersion);
        const key = `${programmeId}@${version}`;
        if (!versions.has(key)) versions.set(key, deps.programmes.version(programmeId, version));
        const v = versions.get(key);
        return v ? programmeAsRun(version, v.rendered, reports) : undefined;
      };

      if (format === 'csv') {
        const lines: unknown[][] = [];
        for (const r of rows) lines.push(...deliveryLines(r, resolve(r.areaCode), programmeOf(r)));
        reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="as-run-${code}-${request.query.from}-${request.query.to}.csv"`);
        // Bypass the JSON serializer of the 200 schema: this answer is CSV text.
        return reply.serializer((body: unknown) => body as string).send(csvDocument(CSV_COLUMNS, lines) as never);
      }

      if (format === 'xlsx') {
        const book = await asRunWorkbook(rows, resolve, programmeOf, { area: `${area.name} (${area.code})`, from: request.query.from, to: request.query.to, communes: allCommunes });
        reply
          .header('content-type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
          .header('content-disposition', `attachment; filename="as-run-${code}-${request.query.from}-${request.query.to}.xlsx"`);
        return reply.serializer((body: unknown) => body as string).send(book as never);
      }

      const totals = emptyCounts();
      const communes = new Map<string, Counts & { code: string; name: string; devices: Map<string, Counts & { deviceId: string; name: string; items: AsRunItem[] }> }>(
        allCommunes.map((c) => [c.code, { ...emptyCounts(), code: c.code, name: c.name, devices: new Map() }]),
      );
      for (const r of rows) {
        const c = resolve(r.areaCode);
        let cc = communes.get(c.code);
        if (!cc) communes.set(c.code, (cc = { ...emptyCounts(), code: c.code, name: c.name, devices: new Map() }));
        let dc = cc.devices.get(r.deviceId);
        if (!dc) cc.devices.set(r.deviceId, (dc = { ...emptyCounts(), deviceId: r.deviceId, name: r.deviceName, items: [] }));
        for (const target of [totals, cc, dc]) count(target, r);
        const relay = r.relaySourceId ? { relay: { sourceId: r.relaySourceId, sourceName: r.relaySourceName, airedMs: r.airedMs } } : {};
        const programme = programmeOf(r);
        dc.items.push({ broadcastId: r.broadcastId, title: r.bulletinTitle, priority: r.priority, occurrenceAt: iso(r.occurrenceAt)!, state: r.state, startedAt: iso(r.startedAt), endedAt: iso(r.endedAt), reason: r.reason, ...relay, ...(programme ? { programme } : {}) });
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

  app.get(
    '/api/v1/reports/relays',
    {
      config: { access: access.roles(ANY_ROLE, { scope: 'the broadcast must be visible and only the caller’s boxes are shown; or the asked area must lie inside the caller’s (404 otherwise)' }) },
      schema: {
        tags: ['reports'],
        summary: 'As-run of relays per box: minutes actually relayed, gaps with their causes, which URL served how long',
        description: 'One broadcast (`broadcastId`, and `occurrenceAt`, default its current or last occurrence), or every relay on the boxes of `area` with an occurrence between `from` and `to`.',
        querystring: relayReportQuerySchema,
        response: { 200: relayReportSchema, 400: errorBodySchema, 404: errorBodySchema },
      },
    },
    async (request) => {
      const user = principalOf(request);
      const q = request.query;
      const now = Date.now();
      let rows: RelayDeliveryRow[];
      let period: { from: number; to: number } | null = null;
      if (q.broadcastId) {
        const b = deps.broadcasts.get(q.broadcastId);
        if (!b || !deps.objects.broadcastVisible(user, b)) throw notFound(`broadcast ${q.broadcastId}`);
        const durationMs = deps.bulletins.get(b.bulletinId)?.durationMs ?? 0;
        // Without occurrenceAt: the relay airing now, else the next, else the last.
        const occ = q.occurrenceAt ? Date.parse(q.occurrenceAt) : deps.broadcasts.currentOccurrence(b.id, now - b.windowMs - durationMs);
        const seen = deps.objects.deviceIdFilter(user);
        rows = occ === null ? [] : deps.relayLog.deliveriesOf(b.id, occ).filter((r) => seen(r.deviceId));
      } else {
        const code = q.area!;
        if (!deps.areas.get(code) || !coversArea(user, deps.areas.ancestry(code))) throw notFound(`area ${code}`);
        period = { from: bound(q.from!, 'from', 'from'), to: bound(q.to!, 'to', 'to') };
        if (period.to <= period.from) throw badRequest('`to` must be after `from`', [{ path: 'to', message: 'before from' }]);
        if (period.to - period.from > 400 * DAY_MS) throw badRequest('a report covers at most 400 days', [{ path: 'to', message: 'range too long' }]);
        rows = deps.relayLog.deliveriesIn(deps.areas.subtree(code), period.from, period.to);
      }
      // The events of each occurrence once, then each box's own.
      const events = new Map<string, RelayLogEntry[]>();
      for (const key of new Set(rows.map((r) => `${r.broadcastId}@${r.occurrenceAt}`))) {
        const [broadcastId, at] = key.split('@') as [string, string];
        for (const e of deps.relayLog.entries(broadcastId, Number(at))) {
          const k = `${key}@${e.deviceId}`;
          const list = events.get(k);
          if (list) list.push(e);
          else events.set(k, [e]);
        }
      }
      const items = rows.map((r) => relayItem(r, events.get(`${r.broadcastId}@${r.occurrenceAt}@${r.deviceId}`) ?? [], now));
      return {
        from: period ? new Date(period.from).toISOString() : null,
        to: period ? new Date(period.to).toISOString() : null,
        totals: { boxes: new Set(items.map((i) => i.deviceId)).size, relayedMs: items.reduce((a, i) => a + i.relayedMs, 0), gapMs: items.reduce((a, i) => a + i.gaps.reduce((g, x) => g + x.ms, 0), 0) },
        items,
      };
    },
  );

  app.get(
    '/api/v1/reports/monthly',
    {
      config: { access: access.roles(ANY_ROLE, { scope: 'the asked area must lie inside the caller’s (404 otherwise)' }) },
      schema: {
        tags: ['reports'],
        summary: 'A commune’s or the province’s month (issue 20): boxes, coverage, broadcasts and airings by priority and state, airtime, faults, relays, warnings, per commune',
        description: '`format=pdf` answers the printable administrative report (A4: issuing body, national motto, period, figures, signature block), drawn from the same figures `json` answers.',
        querystring: monthlyReportQuerySchema,
        response: { 200: monthlyReportSchema, 400: errorBodySchema, 404: errorBodySchema },
      },
    },
    async (request, reply) => {
      const user = principalOf(request);
      const { area: code, month, format } = request.query;
      if (!deps.areas.get(code) || !coversArea(user, deps.areas.ancestry(code))) throw notFound(`area ${code}`);
      const report = monthlyFigures(deps, code, month, Date.now());
      if (format === 'pdf') {
        const pdf = await monthlyPdf(report);
        reply.header('content-type', 'application/pdf').header('content-disposition', `inline; filename="bao-cao-thang-${month}-${code}.pdf"`);
        // Bypass the JSON serializer of the 200 schema: this answer is the PDF's bytes.
        return reply.serializer((body: unknown) => body as string).send(pdf as never);
      }
      return report;
    },
  );
};
