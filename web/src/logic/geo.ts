/**
 * Map geometry without any map service: Web Mercator, a bounding box around the devices, and the fit of that
 * box into a canvas (the same projection a slippy-map tile layer uses, so tiles line up when configured).
 */
export interface LatLon {
  lat: number;
  lon: number;
}
export interface BBox {
  minLat: number;
  maxLat: number;
  minLon: number;
  maxLon: number;
}

/** Lon/lat → Web Mercator world coordinates in [0, 1]. */
export function mercator(p: LatLon): { x: number; y: number } {
  const lat = Math.max(-85.05112878, Math.min(85.05112878, p.lat));
  const s = Math.sin((lat * Math.PI) / 180);
  return { x: (p.lon + 180) / 360, y: 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI) };
}

/** The box around the points, padded by `pad` of its size (and at least ~1 km), or null with no points. */
export function bboxOf(points: readonly LatLon[], pad = 0.08): BBox | null {
  if (!points.length) return null;
  let minLat = Infinity, maxLat = -Infinity, minLon = Infinity, maxLon = -Infinity;
  for (const p of points) {
    if (p.lat < minLat) minLat = p.lat;
    if (p.lat > maxLat) maxLat = p.lat;
    if (p.lon < minLon) minLon = p.lon;
    if (p.lon > maxLon) maxLon = p.lon;
  }
  const dLat = Math.max(maxLat - minLat, 0.01) * pad + (maxLat - minLat < 0.01 ? 0.005 : 0);
  const dLon = Math.max(maxLon - minLon, 0.01) * pad + (maxLon - minLon < 0.01 ? 0.005 : 0);
  return { minLat: minLat - dLat, maxLat: maxLat + dLat, minLon: minLon - dLon, maxLon: maxLon + dLon };
}

export interface Viewport {
  /** World units → pixels. */
  scale: number;
  /** World coordinates of the canvas's top-left corner. */
  x0: number;
  y0: number;
  width: number;
  height: number;
}

/** The largest scale at which the box fits the canvas, centred. */
export function fitViewport(box: BBox, width: number, height: number): Viewport {
  const a = mercator({ lat: box.maxLat, lon: box.minLon });
  const b = mercator({ lat: box.minLat, lon: box.maxLon });
  const w = Math.max(b.x - a.x, 1e-9);
  const h = Math.max(b.y - a.y, 1e-9);
  const scale = Math.min(width / w, height / h);
  const cx = (a.x + b.x) / 2;
  const cy = (a.y + b.y) / 2;
  return { scale, x0: cx - width / 2 / scale, y0: cy - height / 2 / scale, width, height };
}

export function project(v: Viewport, p: LatLon): { x: number; y: number } {
  const m = mercator(p);
  return { x: (m.x - v.x0) * v.scale, y: (m.y - v.y0) * v.scale };
}

/** Slippy-map tiles ({z}/{x}/{y}, 256 px) covering the viewport at the zoom nearest its scale. */
export function tilesFor(v: Viewport, tileSize = 256): { z: number; x: number; y: number; px: number; py: number; size: number }[] {
  const z = Math.max(0, Math.min(19, Math.round(Math.log2(v.scale / tileSize))));
  const n = 2 ** z;
  const size = (v.scale / n);
  const out: { z: number; x: number; y: number; px: number; py: number; size: number }[] = [];
  const x1 = Math.floor(v.x0 * n), x2 = Math.floor((v.x0 + v.width / v.scale) * n);
  const y1 = Math.floor(v.y0 * n), y2 = Math.floor((v.y0 + v.height / v.scale) * n);
  for (let x = Math.max(0, x1); x <= Math.min(n - 1, x2); x++) {
    for (let y = Math.max(0, y1); y <= Math.min(n - 1, y2); y++) {
      out.push({ z, x, y, px: (x / n - v.x0) * v.scale, py: (y / n - v.y0) * v.scale, size });
    }
  }
  return out;
}

export function tileUrl(template: string, t: { z: number; x: number; y: number }): string {
  return template.replace('{z}', String(t.z)).replace('{x}', String(t.x)).replace('{y}', String(t.y));
}
