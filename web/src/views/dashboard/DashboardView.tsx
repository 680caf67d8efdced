/** The province at a glance: coverage, communes not covered, 30-day trend, the device map, devices by state. */
import { useState } from 'preact/hooks';
import type { Coverage, CoverageTrend, DeviceStateFilter } from '../../api/types.js';
import { useAsync } from '../../app/hooks.js';
import { Lazy } from '../../app/lazy.js';
import { useSession } from '../../app/session.js';
import { errorMessage, isMissingRoute } from '../../app/errors.js';
import { AreaSelect, defaultArea, useFlatAreas } from '../../components/AreaSelect.js';
import { Alert, Card, Empty, Loading } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { DeviceTable } from '../DevicesView.js';
import { ChildrenTable } from './ChildrenTable.js';
import { CoverageTiles } from './CoverageTiles.js';
import { DeviceMap } from './DeviceMap.js';
import { NotCovered } from './NotCovered.js';
import { useAreaDevices } from './useAreaDevices.js';

const trendChart = () => import('./TrendChart.js');
const communePage = () => import('../feeds/CommunePageCard.js');
const STATES: DeviceStateFilter[] = ['offline', 'faulty', 'online'];
const STATE_LABEL: Record<DeviceStateFilter, string> = { online: t.dashboard.online, offline: t.dashboard.offline, faulty: t.dashboard.faulty };

function Trend({ area }: { area: string }) {
  const { api } = useSession();
  const [trend] = useAsync<CoverageTrend>((signal) => api.coverageTrend(area, 30, signal), [area]);
  if (trend.status === 'loading') return <Loading />;
  if (trend.status === 'error') return <Alert kind={isMissingRoute(trend.error) ? 'info' : 'error'}>{isMissingRoute(trend.error) ? t.notYetAvailable : errorMessage(trend.error)}</Alert>;
  if (!trend.value.items.length) return <Empty>{t.dashboard.trendEmpty}</Empty>;
  return <Lazy load={trendChart} props={{ items: trend.value.items }} />;
}

export default function DashboardView() {
  const { api, me } = useSession();
  const flat = useFlatAreas();
  const [chosen, setChosen] = useState<string | null>(null);
  const [deviceState, setDeviceState] = useState<DeviceStateFilter>('offline');
  const area = chosen ?? (flat ? defaultArea(flat, me.areaCode) : null);
  const [coverage] = useAsync<Coverage | null>((signal) => (area ? api.coverage(area, signal) : Promise.resolve(null)), [area]);
  const mapDevices = useAreaDevices(api, area, coverage.status !== 'loading');
  if (!flat) return <Loading />;
  if (!area) return <Empty>{t.devices.empty}</Empty>;
  const here = flat.find((a) => a.code === area);
  const parent = here?.parentCode && flat.some((a) => a.code === here.parentCode) ? here.parentCode : null;
  const cov = coverage.status === 'ok' ? coverage.value : null;

  return (
    <div class="dashboard">
      <div class="row wrap dash-head">
        <h1>
          {t.dashboard.title}: {cov?.area.name ?? here?.name ?? area}
        </h1>
        <div class="row wrap">
          {parent && (
            <button type="button" class="btn btn-small" onClick={() => setChosen(parent)}>
              ↑ {flat.find((a) => a.code === parent)?.name}
            </button>
          )}
          <AreaSelect id="dash-area" label={t.dashboard.area} value={area} onChange={setChosen} flat={flat} maxDepth={1} />
        </div>
      </div>
      {coverage.status === 'loading' && <Loading />}
      {coverage.status === 'error' && <Alert kind="warning">{isMissingRoute(coverage.error) ? t.dashboard.unavailable : errorMessage(coverage.error)}</Alert>}
      {cov && <CoverageTiles c={cov} />}
      <div class="dash-grid">
        <Card title={t.dashboard.trend} class="span-6" id="trend">
          <Trend area={area} />
        </Card>
        <Card title={t.dashboard.map} class="span-6" id="map">
          {mapDevices.error ? <Alert>{errorMessage(mapDevices.error)}</Alert> : null}
          {mapDevices.loading && <Loading label={t.dashboard.mapLoading(mapDevices.devices.length, mapDevices.total)} />}
          {(!mapDevices.loading || mapDevices.devices.length > 0) && <DeviceMap devices={mapDevices.devices} />}
        </Card>
        {cov && cov.children.length > 0 && (
          <Card title={t.dashboard.children} class="span-7" id="children">
            <ChildrenTable items={cov.children} onOpen={setChosen} />
          </Card>
        )}
        {cov && (
          <Card title={`${t.dashboard.notCovered} (${cov.notCovered.length})`} class="span-5" id="not-covered">
            <NotCovered items={cov.notCovered} />
          </Card>
        )}
        <Card
          title={t.devices.title}
          class="span-12"
          id="dash-devices"
          actions={
            <fieldset class="segmented">
              <legend class="sr-only">{t.devices.state}</legend>
              {STATES.map((s) => (
                <label key={s} class={deviceState === s ? 'active' : ''}>
                  <input type="radio" name="dash-device-state" checked={deviceState === s} onChange={() => setDeviceState(s)} />
                  {STATE_LABEL[s]}
                </label>
              ))}
            </fieldset>
          }
        >
          <DeviceTable key={`${area}|${deviceState}`} area={area} state={deviceState} />
        </Card>
        <Lazy key={`feeds-${area}`} load={communePage} props={{ code: area, name: cov?.area.name ?? here?.name ?? area }} />
      </div>
    </div>
  );
}
