/**
 * Every speaker box of the area as a dot, coloured by state. With a tile server configured
 * (LOAXA_MAP_TILES_URL, given to the page as `<meta name="loaxa-map-tiles">`, a `{z}/{x}/{y}` template) a real
 * map that pans and zooms, with commune names (TileMap, its own chunk); without one, the project's own plot on a
 * canvas fitted to the boxes, which works with no internet.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Device } from '../../api/types.js';
import { Lazy } from '../../app/lazy.js';
import { useFlatAreas } from '../../components/AreaSelect.js';
import { t } from '../../i18n/vi.js';
import { deviceLook, LOOK_COLORS, type DeviceLook } from '../../logic/device-state.js';
import { fmtDateTime, fmtNumber } from '../../logic/format.js';
import { bboxOf, fitViewport, project, type Viewport } from '../../logic/geo.js';
import type { TileMapProps } from './TileMap.js';

const tileMap = () => import('./TileMap.js');
const TILE_WORDS: TileMapProps['words'] = {
  zoomIn: 'Phóng to',
  zoomOut: 'Thu nhỏ',
  fit: 'Xem toàn bộ cụm loa',
  aria: 'Bản đồ cụm loa: kéo để di chuyển, dùng nút hoặc con lăn để phóng to, thu nhỏ',
  tiles: (host: string) => `Bản đồ nền: ${host}`,
};

/**
 * The legend's counts, counted as the coverage tiles count them (domain/coverage.ts on the server): online is
 * every box the server hears, faulty every box with an open fault, playing every online box that plays, offline
 * the rest. Issue 20, broken 11: "map and tiles count online boxes differently" — the legend counted each box
 * once by its colour (a faulty or playing box was not "online"), so the two disagreed whenever a box was faulty
 * or on air. The dots keep one colour each; the numbers are the tiles'.
 */
export function mapCounts(devices: readonly Pick<Device, 'state' | 'faults' | 'health'>[]): Record<DeviceLook, number> {
  const c: Record<DeviceLook, number> = { online: 0, offline: 0, faulty: 0, playing: 0 };
  for (const d of devices) {
    if (d.state === 'online') c.online++;
    else c.offline++;
    if (d.faults.length > 0) c.faulty++;
    if (d.state === 'online' && deviceLook({ ...d, faults: [] }) === 'playing') c.playing++;
  }
  return c;
}

const DRAW_ORDER: DeviceLook[] = ['offline', 'online', 'playing', 'faulty'];
const LOOK_LABEL: Record<DeviceLook, string> = { online: t.dashboard.online, offline: t.dashboard.offline, faulty: t.dashboard.faulty, playing: t.dashboard.playing };

function tileTemplate(): string | null {
  const v = document.querySelector('meta[name="loaxa-map-tiles"]')?.getAttribute('content')?.trim();
  return v ? v : null;
}

interface Placed {
  d: Device;
  look: DeviceLook;
  x: number;
  y: number;
}

export function DeviceMap({ devices, height = 360 }: { devices: Device[]; height?: number }) {
  const wrap = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(600);
  const [picked, setPicked] = useState<Placed | null>(null);
  const located = useMemo(() => devices.filter((d): d is Device & { lat: number; lon: number } => d.lat !== null && d.lon !== null), [devices]);
  const counts = useMemo(() => mapCounts(devices), [devices]);
  const template = useMemo(tileTemplate, []);
  const flat = useFlatAreas();
  /** A box's commune for the labels: its area's ancestor one level under the root (a village's commune). */
  const byCode = useMemo(() => new Map((flat ?? []).map((a) => [a.code, a])), [flat]);
  const communeOf = useCallback(
    (areaCode: string) => {
      let a = byCode.get(areaCode);
      while (a && a.depth > 1 && a.parentCode) a = byCode.get(a.parentCode);
      return a && a.depth === 1 ? { code: a.code, name: a.name } : null;
    },
    [byCode],
  );
  const view: Viewport | null = useMemo(() => {
    const box = bboxOf(located);
    return box ? fitViewport(box, width, height) : null;
  }, [located, width, height]);
  const placed: Placed[] = useMemo(() => {
    if (!view) return [];
    const out = located.map((d) => ({ d, look: deviceLook(d), ...project(view, d) }));
    return out.sort((a, b) => DRAW_ORDER.indexOf(a.look) - DRAW_ORDER.indexOf(b.look));
  }, [located, view]);

  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(Math.max(240, Math.floor(el.clientWidth))));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    const c = canvas.current;
    if (!c || !view) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(width * dpr);
    c.height = Math.round(height * dpr);
    const g = c.getContext('2d');
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    const drawPoints = () => {
      const r = placed.length > 2000 ? 2.5 : placed.length > 300 ? 3.5 : 5;
      for (const p of placed) {
        g.beginPath();
        g.arc(p.x, p.y, p.look === 'faulty' ? r + 1 : r, 0, Math.PI * 2);
        g.fillStyle = LOOK_COLORS[p.look];
        g.fill();
        if (placed.length <= 2000) {
          g.lineWidth = 1;
          g.strokeStyle = '#fff';
          g.stroke();
        }
      }
    };
    const drawBase = () => {
      g.fillStyle = '#eef3f7';
      g.fillRect(0, 0, width, height);
      g.strokeStyle = '#d5dee6';
      g.lineWidth = 1;
      for (let x = 0; x < width; x += 60) g.strokeRect(x, 0, 0, height);
      for (let y = 0; y < height; y += 60) g.strokeRect(0, y, width, 0);
    };
    drawBase();
    drawPoints();
  }, [placed, view, width, height, template]);

  const pick = (e: MouseEvent) => {
    const c = canvas.current;
    if (!c) return;
    const rect = c.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top;
    let best: Placed | null = null;
    let bestD = 14 * 14;
    for (const p of placed) {
      const d = (p.x - x) ** 2 + (p.y - y) ** 2;
      if (d <= bestD) {
        best = p;
        bestD = d;
      }
    }
    setPicked(best);
  };

  const missing = devices.length - located.length;
  return (
    <div class="map" ref={wrap}>
      {view && template ? (
        <Lazy load={tileMap} props={{ devices: located, template, communeOf, height, onPick: (d: Device | null) => setPicked(d ? { d, look: deviceLook(d), x: 0, y: 0 } : null), words: TILE_WORDS }} />
      ) : view ? (
        <canvas ref={canvas} style={{ width: `${width}px`, height: `${height}px` }} onClick={pick} role="img" aria-label={t.dashboard.mapAria(located.length)} data-testid="device-map" />
      ) : (
        <p class="muted">{t.dashboard.mapNoCoords}</p>
      )}
      {picked && (
        <div class="map-pick" role="status">
          <strong>{picked.d.name}</strong> · {LOOK_LABEL[picked.look]} · {fmtDateTime(picked.d.lastSeenAt)}
          {picked.d.faults.length ? ` · ${picked.d.faults.map((f) => t.devices.faultNames[f] ?? f).join(', ')}` : ''}
          <button type="button" class="btn btn-small btn-ghost" onClick={() => setPicked(null)} aria-label={t.close}>
            ✕
          </button>
        </div>
      )}
      <ul class="map-legend">
        {(['online', 'playing', 'faulty', 'offline'] as DeviceLook[]).map((l) => (
          <li key={l}>
            <span class={`dot dot-${l}`} aria-hidden="true" /> {LOOK_LABEL[l]}: <strong>{fmtNumber(counts[l])}</strong>
          </li>
        ))}
        {missing > 0 && <li class="muted">{t.dashboard.mapWithoutCoords(missing)}</li>}
      </ul>
    </div>
  );
}
