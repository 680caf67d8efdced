/**
 * The monthly as-run compliance report per commune, on screen and as CSV / XLSX / JSON downloads; and, for the
 * same area and period, the relays (issue 15 § As-run): per box the minutes relayed, the gaps and their
 * causes, which URL served how long; and the programmes aired (issue 15), each opened to its items.
 */
import { useState } from 'preact/hooks';
import { asRunUrl } from '../api/client.js';
import type { AsRunCounts, AsRunReport, RelayReport } from '../api/types.js';
import { useSession } from '../app/session.js';
import { errorMessage } from '../app/errors.js';
import { usePaged } from '../app/hooks.js';
import { AreaSelect, defaultArea, useFlatAreas } from '../components/AreaSelect.js';
import { DateField } from '../components/DateTimeField.js';
import { Alert, Card, Empty, Loading, Pager } from '../components/ui.js';
import { t } from '../i18n/vi.js';
import { fmtDuration, fmtNumber, fmtPct } from '../logic/format.js';
import { localToday } from '../logic/schedule.js';
import { fmtLength, fmtMinutes, groupRelays } from '../logic/relays.js';
import { RelayGroupHeading, RelayReportTable } from './relays/RelayReportTable.js';
import { programmeAirings } from '../logic/programme-runs.js';
import { ProgrammeRuns } from './programmes/ProgrammeRuns.js';

const PAGE = 50;

/** The monthly report's words (issue 20), kept with the page so the first-load bundle does not carry them. */
const MONTHLY = {
  title: 'Báo cáo tháng',
  hint: 'Báo cáo theo mẫu văn bản hành chính (quốc hiệu, kỳ báo cáo, số liệu, chữ ký) để in hoặc lưu PDF.',
  month: 'Tháng báo cáo',
  print: 'In báo cáo tháng',
  monthLabel: (m: string) => `Tháng ${m.slice(5)}/${m.slice(0, 4)}`,
};

/** The current month and the 11 before it, newest first ("2026-12", "2026-11", …), from Vietnam's today. */
export function recentMonths(today: string, n = 12): string[] {
  let y = Number(today.slice(0, 4));
  let m = Number(today.slice(5, 7));
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(`${y}-${String(m).padStart(2, '0')}`);
    if (--m === 0) {
      m = 12;
      y--;
    }
  }
  return out;
}

/**
 * "In báo cáo tháng" (issue 20): the area's month as the printable PDF the server draws, opened in a new tab to
 * print or save. A list of months rather than a native month input, whose format follows the phone's language.
 */
function MonthlyReportSection({ area, today }: { area: string | null; today: string }) {
  const months = recentMonths(today);
  const [month, setMonth] = useState(months[0]!);
  const href = area ? `/api/v1/reports/monthly?${new URLSearchParams({ area, month, format: 'pdf' }).toString()}` : '#';
  return (
    <Card title={MONTHLY.title} id="monthly-report">
      <p class="small muted">{MONTHLY.hint}</p>
      <div class="row wrap filters">
        <label class="field">
          <span>{MONTHLY.month}</span>
          <select value={month} onChange={(e) => setMonth(e.currentTarget.value)} data-testid="monthly-month">
            {months.map((m) => (
              <option key={m} value={m}>
                {MONTHLY.monthLabel(m)}
              </option>
            ))}
          </select>
        </label>
        <a class="btn btn-primary" href={href} target="_blank" rel="noopener" data-testid="monthly-pdf" aria-disabled={!area}>
          {MONTHLY.print}
        </a>
      </div>
    </Card>
  );
}
const RELAY_PAGE = 10;

export function playedRate(c: Pick<AsRunCounts, 'played' | 'scheduled' | 'pending' | 'cancelled'>): number {
  const due = c.scheduled - c.pending - c.cancelled;
  return due > 0 ? (100 * c.played) / due : 0;
}

function CountCells({ c }: { c: AsRunCounts }) {
  return (
    <>
      <td class="num">{fmtNumber(c.scheduled)}</td>
      <td class="num">{fmtNumber(c.played)}</td>
      <td class="num">{fmtNumber(c.missed)}</td>
      <td class="num">{fmtNumber(c.failed)}</td>
      <td class="num">{fmtNumber(c.cancelled + c.expired)}</td>
      <td class="num">{fmtNumber(c.pending)}</td>
      <td class="num">{fmtDuration(c.airtimeMs)}</td>
      <td class="num">{fmtPct(playedRate(c))}</td>
    </>
  );
}

export default function ReportsView() {
  const { api, me } = useSession();
  const flat = useFlatAreas();
  const today = localToday();
  const [area, setArea] = useState<string | null>(null);
  const [from, setFrom] = useState(`${today.slice(0, 8)}01`);
  const [to, setTo] = useState(today);
  const [report, setReport] = useState<AsRunReport | null>(null);
  const [relays, setRelays] = useState<RelayReport | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const paged = usePaged(report?.communes ?? [], PAGE);
  const groups = relays ? groupRelays(relays) : [];
  const relayGroups = usePaged(groups, RELAY_PAGE);
  const airings = report ? programmeAirings(report) : [];
  if (!flat) return <Loading />;
  const current = area ?? defaultArea(flat, me.areaCode);

  const show = async (e: Event) => {
    e.preventDefault();
    if (!current) return;
    setBusy(true);
    setError(null);
    try {
      const [asRun, relayed] = await Promise.all([api.asRun({ area: current, from, to }), api.relayReport({ area: current, from, to }).catch(() => null)]);
      setReport(asRun);
      setRelays(relayed);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const link = (format: 'csv' | 'xlsx' | 'json') => (current ? asRunUrl({ area: current, from, to, format }) : '#');

  return (
    <div>
      <h1>{t.reports.title}</h1>
      <Card>
        <form class="row wrap filters" onSubmit={(e) => void show(e)}>
          <AreaSelect id="report-area" label={t.reports.area} value={current} onChange={setArea} flat={flat} maxDepth={1} />
          <label class="field">
            <span>{t.reports.from}</span>
            <DateField value={from} onChange={setFrom} required />
          </label>
          <label class="field">
            <span>{t.reports.to}</span>
            <DateField value={to} onChange={setTo} required />
          </label>
          <button type="submit" class="btn btn-primary" disabled={busy}>
            {t.reports.show}
          </button>
        </form>
        <div class="row wrap downloads" aria-label={t.reports.download}>
          <a class="btn btn-small" href={link('csv')} download data-testid="download-csv">
            ⬇ {t.reports.csv}
          </a>
          <a class="btn btn-small" href={link('xlsx')} download data-testid="download-xlsx">
            ⬇ {t.reports.xlsx}
          </a>
          <a class="btn btn-small btn-ghost" href={link('json')} download>
            ⬇ {t.reports.json}
          </a>
        </div>
      </Card>
      <MonthlyReportSection area={current} today={today} />
      {busy && <Loading />}
      {error && <Alert>{error}</Alert>}
      {report && (
        <Card title={`${report.area.name}`}>
          {!report.communes.length ? (
            <Empty>{t.reports.empty}</Empty>
          ) : (
            <div class="table-wrap">
              <table class="table" data-testid="as-run">
                <thead>
                  <tr>
                    <th scope="col">{t.reports.commune}</th>
                    <th scope="col">{t.reports.scheduled}</th>
                    <th scope="col">{t.reports.played}</th>
                    <th scope="col">{t.reports.missed}</th>
                    <th scope="col">{t.reports.failed}</th>
                    <th scope="col">
                      {t.reports.cancelled}/{t.reports.expired}
                    </th>
                    <th scope="col">{t.reports.pending}</th>
                    <th scope="col">{t.reports.airtime}</th>
                    <th scope="col">{t.reports.rate}</th>
                  </tr>
                </thead>
                <tbody>
                  {paged.slice.map((c) => (
                    <tr key={c.code}>
                      <th scope="row">{c.name}</th>
                      <CountCells c={c} />
                    </tr>
                  ))}
                </tbody>
                <tfoot>
                  <tr>
                    <th scope="row">{t.reports.totals}</th>
                    <CountCells c={report.totals} />
                  </tr>
                </tfoot>
              </table>
            </div>
          )}
          <Pager page={paged.page} pages={paged.pages} onPage={paged.setPage} total={report.communes.length} size={PAGE} />
        </Card>
      )}
      {report && airings.length > 0 && (
        <Card title={t.programmeRun.title} id="programme-report">
          <ProgrammeRuns airings={airings} />
        </Card>
      )}
      {relays && (
        <Card title={t.relayReport.title} id="relay-report">
          {!relays.items.length ? (
            <Empty>{t.relayReport.emptyPeriod}</Empty>
          ) : (
            <>
              <p class="small" data-testid="relay-totals">
                {t.relayReport.totals(relays.totals.boxes, t.relayReport.minutes(fmtMinutes(relays.totals.relayedMs)), fmtLength(relays.totals.gapMs))}
              </p>
              {relayGroups.slice.map((g) => (
                <div key={g.key} class="relay-group">
                  <RelayGroupHeading g={g} />
                  <RelayReportTable items={g.items} />
                </div>
              ))}
              <Pager page={relayGroups.page} pages={relayGroups.pages} onPage={relayGroups.setPage} total={groups.length} size={RELAY_PAGE} />
            </>
          )}
        </Card>
      )}
    </div>
  );
}
