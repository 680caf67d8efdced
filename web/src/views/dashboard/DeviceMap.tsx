/**
 * Every speaker box of the area as a dot on a canvas, coloured by state, fitted to the devices' bounding box.
 * Works with no internet; a tile layer is drawn underneath only when the server is configured with a tile
 * URL (`<meta name="loaxa-map-tiles">`, a `{z}/{x}/{y}` template).
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Device } from '../../api/types.js';
import { t } from '../../i18n/vi.js';
import { deviceLook, LOOK_COLORS, type DeviceLook } from '../../logic/device-state.js';
import { fmtDateTime, fmtNumber } from '../../logic/format.js';
import { bboxOf, fitViewport, project, tilesFor, tileUrl, type Viewport } from '../../logic/geo.js';

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
  const counts = useMemo(() => {
    const c: Record<DeviceLook, number> = { online: 0, offline: 0, faulty: 0, playing: 0 };
    for (const d of devices) c[deviceLook(d)]++;
    return c;
  }, [devices]);
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
    let cancelled = false;
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
    const template = tileTemplate();
    if (template) {
      const tiles = tilesFor(view);
      let left = tiles.length;
      const done = () => {
        if (--left === 0 && !cancelled) drawPoints();
      };
      for (const tile of tiles) {
        const img = new Image();
        img.onload = () => {
          if (!cancelled) g.drawImage(img, tile.px, tile.py, tile.size, tile.size);
          done();
        };
        img.onerror = done;
        img.src = tileUrl(template, tile);
      }
      if (!tiles.length) drawPoints();
    } else {
      drawPoints();
    }
    return () => {
      cancelled = true;
    };
  }, [placed, view, width, height]);

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
      {view ? (
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
