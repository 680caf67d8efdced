/**
 * A small slippy map (issue 20: "a real map when a tile server is configured"), loaded as its own chunk only
 * when the server names a tile server (LOAXA_MAP_TILES_URL): 256 px tiles placed by Web Mercator arithmetic,
 * dragged with a mouse or a finger, zoomed with buttons and the wheel, first fitted to the area's boxes. Each box
 * is a dot in its state's colour; each commune's name sits at the middle of its boxes. No map library: Leaflet
 * alone would cost more than this whole page (the phone's 120 KB budget). The browser fetches the tiles itself;
 * the server's Content-Security-Policy allows images from that one host (server/src/routes/web.ts).
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Device } from '../../api/types.js';
import { deviceLook, LOOK_COLORS, type DeviceLook } from '../../logic/device-state.js';
import { bboxOf, mercator, tileUrl } from '../../logic/geo.js';

const TILE = 256;
const MIN_Z = 2;
const MAX_Z = 19;
const DRAW_ORDER: DeviceLook[] = ['offline', 'online', 'playing', 'faulty'];

export interface TileMapProps {
  devices: Array<Device & { lat: number; lon: number }>;
  template: string;
  /** The commune a device's area belongs to (code and name), for the labels. */
  communeOf: (areaCode: string) => { code: string; name: string } | null;
  height: number;
  onPick: (d: Device | null) => void;
  words: { zoomIn: string; zoomOut: string; fit: string; aria: string; tiles: (host: string) => string };
}

interface View {
  z: number;
  /** The centre in world coordinates ([0, 1] both ways). */
  cx: number;
  cy: number;
}

/** The largest whole zoom at which the boxes fit, centred on them. */
export function fitView(points: ReadonlyArray<{ lat: number; lon: number }>, width: number, height: number): View {
  const box = bboxOf(points);
  if (!box) return { z: 5, cx: mercator({ lat: 16, lon: 106 }).x, cy: mercator({ lat: 16, lon: 106 }).y };
  const a = mercator({ lat: box.maxLat, lon: box.minLon });
  const b = mercator({ lat: box.minLat, lon: box.maxLon });
  const fit = Math.log2(Math.min(width / Math.max(b.x - a.x, 1e-9), height / Math.max(b.y - a.y, 1e-9)) / TILE);
  return { z: Math.max(MIN_Z, Math.min(MAX_Z - 3, Math.floor(fit))), cx: (a.x + b.x) / 2, cy: (a.y + b.y) / 2 };
}

export default function TileMap({ devices, template, communeOf, height, onPick, words }: TileMapProps) {
  const wrap = useRef<HTMLDivElement>(null);
  const layer = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  const [view, setView] = useState<View | null>(null);
  const drag = useRef<{ id: number; x: number; y: number; dx: number; dy: number } | null>(null);
  const lastWheel = useRef(0);

  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(Math.max(240, Math.floor(el.clientWidth))));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const fitted = useMemo(() => (width ? fitView(devices, width, height) : null), [devices, width, height]);
  useEffect(() => setView(fitted), [fitted]);

  const labels = useMemo(() => {
    const by = new Map<string, { name: string; x: number; y: number; n: number }>();
    for (const d of devices) {
      const c = communeOf(d.areaCode);
      if (!c) continue;
      const m = mercator(d);
      const l = by.get(c.code);
      if (l) {
        l.x += m.x;
        l.y += m.y;
        l.n++;
      } else by.set(c.code, { name: c.name, x: m.x, y: m.y, n: 1 });
    }
    return [...by.entries()].map(([code, l]) => ({ code, name: l.name, x: l.x / l.n, y: l.y / l.n }));
  }, [devices, communeOf]);
  const world = useMemo(() => devices.map((d) => ({ d, look: deviceLook(d), ...mercator(d) })).sort((a, b) => DRAW_ORDER.indexOf(a.look) - DRAW_ORDER.indexOf(b.look)), [devices]);

  if (!view || !width) return <div ref={wrap} style={{ height: `${height}px` }} />;
  const scale = TILE * 2 ** view.z;
  const x0 = view.cx * scale - width / 2;
  const y0 = view.cy * scale - height / 2;
  const n = 2 ** view.z;
  const tiles: Array<{ key: string; src: string; left: number; top: number }> = [];
  for (let ty = Math.max(0, Math.floor(y0 / TILE)); ty <= Math.min(n - 1, Math.floor((y0 + height) / TILE)); ty++) {
    for (let tx = Math.floor(x0 / TILE); tx <= Math.floor((x0 + width) / TILE); tx++) {
      const wx = ((tx % n) + n) % n;
      tiles.push({ key: `${view.z}/${tx}/${ty}`, src: tileUrl(template, { z: view.z, x: wx, y: ty }), left: tx * TILE - x0, top: ty * TILE - y0 });
    }
  }
  const r = world.length > 2000 ? 3 : world.length > 300 ? 4 : 6;
  const host = (() => {
    try {
      return new URL(template.replace(/[{}]/g, '')).host;
    } catch {
      return '';
    }
  })();

  /** Zooms by `dz` keeping the world point under (px, py) where it is. */
  const zoomAt = (dz: number, px = width / 2, py = height / 2) => {
    const z = Math.max(MIN_Z, Math.min(MAX_Z, view.z + dz));
    if (z === view.z) return;
    const wx = (x0 + px) / scale;
    const wy = (y0 + py) / scale;
    const s2 = TILE * 2 ** z;
    setView({ z, cx: wx - (px - width / 2) / s2, cy: wy - (py - height / 2) / s2 });
  };
  const onPointerDown = (e: PointerEvent) => {
    if ((e.target as HTMLElement).closest('button')) return;
    drag.current = { id: e.pointerId, x: e.clientX, y: e.clientY, dx: 0, dy: 0 };
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
  };
  const onPointerMove = (e: PointerEvent) => {
    const g = drag.current;
    if (!g || g.id !== e.pointerId) return;
    g.dx = e.clientX - g.x;
    g.dy = e.clientY - g.y;
    // Moved as one layer while dragging; the view (and which tiles) is settled when the finger lifts.
    if (layer.current) layer.current.style.transform = `translate(${g.dx}px, ${g.dy}px)`;
  };
  const onPointerUp = (e: PointerEvent) => {
    const g = drag.current;
    if (!g || g.id !== e.pointerId) return;
    drag.current = null;
    if (layer.current) layer.current.style.transform = '';
    if (Math.abs(g.dx) + Math.abs(g.dy) < 4) {
      // A tap, not a drag: the nearest box within 14 px.
      const rect = (e.currentTarget as HTMLElement).getBoundingClientRect();
      const px = e.clientX - rect.left + x0;
      const py = e.clientY - rect.top + y0;
      let best: Device | null = null;
      let bestD = 14 * 14;
      for (const p of world) {
        const d2 = (p.x * scale - px) ** 2 + (p.y * scale - py) ** 2;
        if (d2 <= bestD) {
          best = p.d;
          bestD = d2;
        }
      }
      onPick(best);
      return;
    }
    setView({ z: view.z, cx: view.cx - g.dx / scale, cy: Math.max(0, Math.min(1, view.cy - g.dy / scale)) });
  };
  const onWheel = (e: WheelEvent) => {
    e.preventDefault();
    // A touchpad sends dozens of wheel events for one gesture: one zoom level per gesture, not twenty.
    if (e.timeStamp - lastWheel.current < 250) return;
    lastWheel.current = e.timeStamp;
    const rect = (e.currentTarget as HTMLElement).getBoundingClientRect();
    zoomAt(e.deltaY < 0 ? 1 : -1, e.clientX - rect.left, e.clientY - rect.top);
  };

  /** Arrow keys pan by a third of the map, + and − zoom (the map is focusable: no mouse needed). */
  const onKeyDown = (e: KeyboardEvent) => {
    const step = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[e.key];
    if (step) {
      e.preventDefault();
      setView({ z: view.z, cx: view.cx + (step[0]! * width) / 3 / scale, cy: Math.max(0, Math.min(1, view.cy + (step[1]! * height) / 3 / scale)) });
    } else if (e.key === '+' || e.key === '=') zoomAt(1);
    else if (e.key === '-') zoomAt(-1);
  };

  const btn = { width: '36px', height: '36px', fontSize: '20px', lineHeight: '1', padding: '0', background: '#fff', border: '1px solid #8c959f', borderRadius: '6px', cursor: 'pointer' };
  return (
    <div
      ref={wrap}
      class="tile-map"
      role="application"
      aria-label={words.aria}
      data-testid="tile-map"
      data-zoom={view.z}
      style={{ position: 'relative', height: `${height}px`, overflow: 'hidden', background: '#eef3f7', touchAction: 'none', userSelect: 'none', cursor: 'grab', borderRadius: '6px' }}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      onPointerCancel={onPointerUp}
      onWheel={onWheel}
      onKeyDown={onKeyDown}
      tabIndex={0}
    >
      <div ref={layer} style={{ position: 'absolute', inset: '0' }}>
        {tiles.map((tl) => (
          <img key={tl.key} src={tl.src} alt="" draggable={false} width={TILE} height={TILE} data-tile={tl.key} style={{ position: 'absolute', left: `${tl.left}px`, top: `${tl.top}px`, width: `${TILE}px`, height: `${TILE}px`, pointerEvents: 'none' }} />
        ))}
        {/* Names under the dots: a dot is never hidden by a commune's name. */}
        {labels.length <= 300 &&
          labels.map((l) => (
            <span
              key={l.code}
              class="map-commune"
              data-commune={l.code}
              style={{ position: 'absolute', left: `${l.x * scale - x0}px`, top: `${l.y * scale - y0 + r + 3}px`, transform: 'translateX(-50%)', font: '600 12px/1.2 system-ui, sans-serif', color: '#1f2328', whiteSpace: 'nowrap', textShadow: '0 0 3px #fff, 0 0 3px #fff, 0 0 3px #fff', pointerEvents: 'none' }}
            >
              {l.name}
            </span>
          ))}
        {world.map((p) => {
          const x = p.x * scale - x0;
          const y = p.y * scale - y0;
          if (x < -20 || y < -20 || x > width + 20 || y > height + 20) return null;
          const size = p.look === 'faulty' ? 2 * r + 2 : 2 * r;
          return (
            <span
              key={p.d.id}
              class="map-marker"
              data-device={p.d.id}
              data-look={p.look}
              title={p.d.name}
              style={{ position: 'absolute', left: `${x - size / 2}px`, top: `${y - size / 2}px`, width: `${size}px`, height: `${size}px`, borderRadius: '50%', background: LOOK_COLORS[p.look], border: world.length > 2000 ? 'none' : '1px solid #fff', boxSizing: 'border-box', pointerEvents: 'none' }}
            />
          );
        })}
      </div>
      <div style={{ position: 'absolute', top: '8px', right: '8px', display: 'flex', flexDirection: 'column', gap: '4px' }}>
        <button type="button" style={btn} aria-label={words.zoomIn} onClick={() => zoomAt(1)} disabled={view.z >= MAX_Z}>
          +
        </button>
        <button type="button" style={btn} aria-label={words.zoomOut} onClick={() => zoomAt(-1)} disabled={view.z <= MIN_Z}>
          −
        </button>
        <button type="button" style={{ ...btn, fontSize: '15px' }} aria-label={words.fit} onClick={() => setView(fitted)}>
          ⤢
        </button>
      </div>
      {host && <span style={{ position: 'absolute', right: '4px', bottom: '2px', font: '11px system-ui, sans-serif', background: 'rgba(255,255,255,.75)', padding: '0 4px' }}>{words.tiles(host)}</span>}
    </div>
  );
}
