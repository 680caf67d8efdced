/**
 * A box's page (issue 20, "a box page"): its state, kept current while the page is open (an installer watches
 * a new box come online here), remote test tone, volume and restart for the roles the server lets send them,
 * its health readings over time, its faults and what it was given to play.
 */
import { errorMessage } from '../../app/errors.js';
import { useSession } from '../../app/session.js';
import { useFlatAreas } from '../../components/AreaSelect.js';
import { Alert, Link, Loading } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { areaNames } from '../../logic/area-tree.js';
import { fmtDateTime } from '../../logic/format.js';
import { can } from '../../logic/roles.js';
import { deviceLabelPath, PATHS } from '../../logic/routes.js';
import { BoxControls } from './BoxControls.js';
import { AsRunCard, FaultsCard } from './BoxHistory.js';
import { HealthCard } from './HealthCard.js';
import { StateLine, useLiveDevice } from './live-device.js';
import { s } from './strings.js';

export default function DeviceView({ id }: { id: string }) {
  const { me } = useSession();
  const flat = useFlatAreas();
  const { device, error, cameOnline } = useLiveDevice(id);
  if (!device) return error ? <Alert>{errorMessage(error)}</Alert> : <Loading />;
  const commune = flat ? (areaNames(flat).get(device.areaCode)?.name ?? '') : '';
  return (
    <div class="box-page">
      <style>{BOX_CSS}</style>
      <p>
        <Link href={PATHS.devices}>{s.back}</Link>
      </p>
      <h1>{device.name}</h1>
      <StateLine device={device} />
      {cameOnline && <Alert kind="success">{s.cameOnline(fmtDateTime(cameOnline))}</Alert>}
      {device.state !== 'online' && !device.lastSeenAt && <Alert kind="info">{s.waitingOnline}</Alert>}
      <dl class="box-facts">
        <div>
          <dt>{s.commune}</dt>
          <dd>{commune || '—'}</dd>
        </div>
        <div>
          <dt>{s.lastSeen}</dt>
          <dd>{fmtDateTime(device.lastSeenAt)}</dd>
        </div>
        <div>
          <dt>{s.volume}</dt>
          <dd data-testid="box-volume">{device.volume ?? '—'}</dd>
        </div>
        <div>
          <dt>{s.version}</dt>
          <dd>{device.agentVersion ?? '—'}</dd>
        </div>
        <div>
          <dt>{s.position}</dt>
          <dd>{device.lat !== null && device.lon !== null ? `${device.lat.toFixed(5)}, ${device.lon.toFixed(5)}` : s.noPosition}</dd>
        </div>
        {device.faults.length > 0 && (
          <div>
            <dt>{t.devices.faults}</dt>
            <dd>{device.faults.map((f) => t.devices.faultNames[f] ?? f).join(', ')}</dd>
          </div>
        )}
      </dl>
      {can(me.role, 'register-box') && (
        <p>
          <Link class="btn btn-small" href={deviceLabelPath(device.id)}>
            {s.printLabel}
          </Link>
        </p>
      )}
      {can(me.role, 'box-command') && <BoxControls device={device} mayRestart={can(me.role, 'box-restart')} />}
      <HealthCard device={device} />
      <FaultsCard id={device.id} />
      <AsRunCard id={device.id} />
    </div>
  );
}

/** Only this page's layout; in its chunk, not the first-load stylesheet. */
const BOX_CSS = `
.box-facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: .5rem 1rem; margin: .5rem 0 1rem; }
.box-facts dt { font-size: .85rem; color: #555; }
.box-facts dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
.box-state { font-size: 1.1rem; margin: .25rem 0 .75rem; }
.box-controls .row { gap: .5rem; align-items: end; }
.box-controls input[type=range] { width: 100%; max-width: 260px; }
.box-chart { width: 100%; min-height: 240px; overflow: hidden; }
.box-list { list-style: none; padding: 0; margin: 0; }
.box-list li { padding: .4rem 0; border-bottom: 1px solid #e5e5e5; }
`;
