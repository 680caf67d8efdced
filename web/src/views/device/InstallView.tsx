/**
 * The installer's page (issue 20): register a box where it stands — its name, its commune and its position,
 * typed or taken from the phone's GPS — then go on to print its claim label and watch it come online.
 */
import { useState } from 'preact/hooks';
import { ApiFailure } from '../../api/client.js';
import { errorMessage } from '../../app/errors.js';
import { navigate } from '../../app/router.js';
import { useSession } from '../../app/session.js';
import { AreaSelect, defaultArea, useFlatAreas } from '../../components/AreaSelect.js';
import { Alert, Card, Loading } from '../../components/ui.js';
import { deviceLabelPath } from '../../logic/routes.js';
import { useBoxApi } from './api.js';
import { s } from './strings.js';

/** "21,02781" or "21.02781" → 21.02781; empty → undefined; anything else or out of range → NaN. */
export function parseCoordinate(text: string, limit: number): number | undefined {
  const v = text.trim().replace(',', '.');
  if (!v) return undefined;
  const n = /^-?\d{1,3}(\.\d+)?$/.test(v) ? Number(v) : NaN;
  return Math.abs(n) <= limit ? n : NaN;
}

type Gps = { state: 'idle' } | { state: 'waiting' } | { state: 'got'; accuracy: number } | { state: 'failed' };

export default function InstallView() {
  const { me } = useSession();
  const box = useBoxApi();
  const flat = useFlatAreas();
  const [name, setName] = useState('');
  const [area, setArea] = useState<string | null>(null);
  const [lat, setLat] = useState('');
  const [lon, setLon] = useState('');
  const [gps, setGps] = useState<Gps>({ state: 'idle' });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (!flat) return <Loading />;
  // A box stands in a commune: a commune user's own; a province user starts on the first commune of the tree.
  const mine = flat.find((a) => a.code === me.areaCode);
  const current = area ?? (mine && !/^(tỉnh|thành phố)/i.test(mine.type) ? mine.code : (flat.find((a) => a.depth === 1)?.code ?? defaultArea(flat, me.areaCode)));

  const useGps = () => {
    if (!('geolocation' in navigator)) return setGps({ state: 'failed' });
    setGps({ state: 'waiting' });
    navigator.geolocation.getCurrentPosition(
      (p) => {
        setLat(p.coords.latitude.toFixed(6));
        setLon(p.coords.longitude.toFixed(6));
        setGps({ state: 'got', accuracy: Math.round(p.coords.accuracy) });
      },
      () => setGps({ state: 'failed' }),
      { enableHighAccuracy: true, timeout: 20_000 },
    );
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    const la = parseCoordinate(lat, 90);
    const lo = parseCoordinate(lon, 180);
    if (!name.trim()) return setError(s.nameMissing);
    if (Number.isNaN(la) || Number.isNaN(lo) || (la === undefined) !== (lo === undefined)) return setError(s.coordsBad);
    if (!current) return;
    setError(null);
    setBusy(true);
    try {
      const created = await box.register({ name: name.trim(), areaCode: current, ...(la !== undefined && lo !== undefined ? { lat: la, lon: lo } : {}) });
      navigate(deviceLabelPath(created.id));
    } catch (err) {
      setError(err instanceof ApiFailure && err.status === 403 ? s.notAllowed : errorMessage(err));
      setBusy(false);
    }
  };

  return (
    <div>
      <h1>{s.installTitle}</h1>
      <p class="muted">{s.installIntro}</p>
      <Card>
        <form onSubmit={(e) => void submit(e)} noValidate>
          <label class="field" for="box-name">
            <span>{s.name}</span>
            <input id="box-name" value={name} maxLength={100} placeholder={s.nameHint} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <AreaSelect id="box-area" label={s.commune} value={current} onChange={setArea} flat={flat} maxDepth={2} />
          <div class="row wrap">
            <label class="field" for="box-lat">
              <span>{s.lat}</span>
              <input id="box-lat" inputMode="decimal" value={lat} onInput={(e) => setLat(e.currentTarget.value)} placeholder="21.02781" />
            </label>
            <label class="field" for="box-lon">
              <span>{s.lon}</span>
              <input id="box-lon" inputMode="decimal" value={lon} onInput={(e) => setLon(e.currentTarget.value)} placeholder="105.83416" />
            </label>
          </div>
          <p>
            <button type="button" class="btn" onClick={useGps} disabled={gps.state === 'waiting'}>
              {s.useGps}
            </button>{' '}
            <span role="status" class="muted">
              {gps.state === 'waiting' ? s.gpsWaiting : gps.state === 'got' ? s.gpsGot(gps.accuracy) : gps.state === 'failed' ? s.gpsFailed : ''}
            </span>
          </p>
          {error && <Alert>{error}</Alert>}
          <button type="submit" class="btn btn-primary" disabled={busy}>
            {busy ? s.registering : s.register}
          </button>
        </form>
      </Card>
    </div>
  );
}
