/**
 * Which communes and boxes a CAP alert's areas reach (issue 18), each with the reasons it matched, for the
 * province to preview before anything airs. Pure: the area tree and the boxes are passed in.
 *
 * A CAP `<area>` (§3.2.4) may say where in four ways; we read them all:
 * - `geocode`: our official codes (statistics office: province 2 digits, commune 5, village more), under
 *   one of the value names in `geocodeValueNames` (a setting; see DEFAULT_GEOCODE_VALUE_NAMES).
 * - `polygon` and `circle`: tested against each box's coordinates. We have no commune boundaries, so a
 *   commune is reached by geometry through the boxes inside it; a box without coordinates never matches by
 *   geometry and is listed apart so the preview can show it.
 * - `areaDesc`: §3.2.4 calls it "a text description". It is read for commune and province names only when
 *   the area has nothing machine-readable that we understood (no geocode we know, no polygon, no circle),
 *   or always with `namesAlways`; a name reaches the communes of that name in the tree we were given
 *   (one province's tree: a name is unique there once its prefix "xã"/"phường"/"đặc khu" is kept). A
 *   province's name reaches all its communes, except in an areaDesc that also names communes or villages
 *   ("Tỉnh Mẫu: xã Tân Lập"), where it only says where they are.
 *
 * Geometry rules (documented here because the preview and the tests depend on them):
 * - Coordinates are WGS 84 degrees, tested on the plane (longitude as x, latitude as y): at the size of a
 *   province the error is far below a box's own position error. Polygons crossing the antimeridian (±180°)
 *   are out of scope: Vietnam is nowhere near it.
 * - A point exactly on an edge or a vertex of a polygon is inside (a box on the line gets the warning:
 *   leaving it out is the worse mistake). "Exactly" means within EDGE_TOLERANCE_DEG (~1 cm).
 * - Otherwise the even-odd rule (ray casting). For a simple polygon this is the plain inside; for a
 *   self-intersecting one (a bow tie) the parts covered twice are outside.
 * - CAP 1.2 polygons have no holes: one ring each. Several polygons (and circles) in an area are a union,
 *   and they may overlap or touch. A sender cannot cut a hole out; the nearest it can do is one ring that
 *   runs into the hole and back along a cut ("keyhole"), and then the hole is outside by the even-odd rule
 *   while the cut, an edge, is inside. Each polygon is taken as one simple ring.
 * - A circle reaches a point whose great-circle (haversine) distance from its centre is at most its radius.
 */
import type { CapArea, CapPoint } from '@loaxa/shared';
import { foldVietnamese } from '@loaxa/shared';

/** ~1 cm of latitude; points closer than this to an edge are on it. */
export const EDGE_TOLERANCE_DEG = 1e-7;
/** Mean Earth radius (IUGG), km. */
export const EARTH_RADIUS_KM = 6371.0088;

/**
 * Geocode value names under which a sender gives our official area codes. CAP leaves the names to the
 * originator (§3.2.4, "user-assigned"); these are the ones we have seen proposed for Vietnamese codes:
 * "MaDVHC" (mã đơn vị hành chính), "VN-ADMIN", "VN-DVHC", the statistics office's "GSO". Compared without
 * case. A source whose names differ adds them in its settings.
 */
export const DEFAULT_GEOCODE_VALUE_NAMES: readonly string[] = ['MaDVHC', 'Ma_DVHC', 'VN-ADMIN', 'VN-DVHC', 'GSO', 'VN-GSO'];

/**
 * Words a unit's name may start with that say what kind of unit it is (since 1 July 2025: tỉnh, thành phố
 * at the province level; xã, phường, đặc khu at the commune level; thôn, tổ dân phố below; the rest for
 * legacy units). Recognised in the written form with its diacritics, longest first: folded, "phường" and
 * the name "Phương Sơn" would look alike.
 */
const UNIT_PREFIXES: readonly string[] = ['thành phố', 'tổ dân phố', 'đặc khu', 'thị trấn', 'thị xã', 'phường', 'huyện', 'tỉnh', 'thôn', 'xã'];
const FOLDED_PREFIXES: readonly string[] = UNIT_PREFIXES.map(foldVietnamese);

export interface GeoPoint {
  lat: number;
  lon: number;
}

/** An area of our tree (statistics office codes). */
export interface AreaEntry {
  code: string;
  parentCode: string | null;
  name: string;
  type: string;
  level: 'province' | 'commune' | 'village' | 'district';
}

export interface BoxEntry {
  id: string;
  /** The area the box is installed in (a commune or a village). */
  areaCode: string;
  lat?: number | null;
  lon?: number | null;
}

export type MatchReason =
  | { kind: 'geocode'; areaIndex: number; valueName: string; value: string }
  | { kind: 'name'; areaIndex: number; text: string; exact: boolean }
  | { kind: 'polygon'; areaIndex: number; polygonIndex: number; onEdge: boolean }
  | { kind: 'circle'; areaIndex: number; circleIndex: number; distanceKm: number }
  /** A commune reached because boxes inside it matched by geometry. */
  | { kind: 'box'; boxId: string };

export interface AreaMatchOptions {
  geocodeValueNames?: readonly string[];
  /** Read areaDesc names even when an area has geocodes or geometry. */
  namesAlways?: boolean;
}

export interface AreaMatch {
  communes: { code: string; name: string; reasons: MatchReason[] }[];
  boxes: { id: string; areaCode: string; reasons: MatchReason[] }[];
  /** Boxes with no coordinates, when some area had a polygon or a circle (they could not be placed). */
  boxesWithoutCoordinates: string[];
  /** What an area said that reached nothing we know, so the preview can show it. */
  unmatched: { areaIndex: number; what: 'geocode' | 'name'; value: string }[];
}

/** Distance between two points on the sphere, km (haversine). */
export function haversineKm(a: GeoPoint, b: GeoPoint): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Distance from p to segment ab on the plane, degrees. */
function segmentDistance(p: GeoPoint, a: CapPoint, b: CapPoint): number {
  const [ay, ax] = a;
  const [by, bx] = b;
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p.lon - ax) * dx + (p.lat - ay) * dy) / len2));
  return Math.hypot(p.lon - (ax + t * dx), p.lat - (ay + t * dy));
}

function boundsOf(ring: readonly CapPoint[]): { minLat: number; maxLat: number; minLon: number; maxLon: number } {
  let [minLat, maxLat, minLon, maxLon] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const [lat, lon] of ring) {
    minLat = Math.min(minLat, lat);
    maxLat = Math.max(maxLat, lat);
    minLon = Math.min(minLon, lon);
    maxLon = Math.max(maxLon, lon);
  }
  const e = EDGE_TOLERANCE_DEG;
  return { minLat: minLat - e, maxLat: maxLat + e, minLon: minLon - e, maxLon: maxLon + e };
}

/** 'edge' when on an edge or vertex, 'inside' by the even-odd rule, else 'outside'. Points are [lat, lon]. */
export function pointInPolygon(p: GeoPoint, ring: readonly CapPoint[]): 'inside' | 'edge' | 'outside' {
  const n = ring.length;
  const e = EDGE_TOLERANCE_DEG;
  let inside = false;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const a = ring[j]!;
    const b = ring[i]!;
    const [yj, xj, yi, xi] = [a[0], a[1], b[0], b[1]];
    // On this edge? Measured only near the edge's own bounding box, which rules out nearly every edge.
    if (p.lat >= Math.min(yi, yj) - e && p.lat <= Math.max(yi, yj) + e && p.lon >= Math.min(xi, xj) - e && p.lon <= Math.max(xi, xj) + e && segmentDistance(p, a, b) <= e) {
      return 'edge';
    }
    // Crossing number with half-open edges (an edge counts when one end is strictly above the ray and the
    // other not), so a ray through a vertex is counted once.
    if (yi > p.lat !== yj > p.lat && p.lon < ((xj - xi) * (p.lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside ? 'inside' : 'outside';
}

interface NameKey {
  prefix: string | null;
  /** Lowercase NFC, single spaces, prefix removed. */
  exact: string;
  folded: string;
}

/** "Xã Tân Lập" → { prefix: 'xa', exact: 'tân lập', folded: 'tan lap' }. "TP." and "TP " read as "thành phố". */
function nameKey(s: string): NameKey {
  const written = s.normalize('NFC').toLowerCase().replace(/\s+/g, ' ').trim().replace(/^tp(?:\.\s*|\s+)/u, 'thành phố ');
  for (const p of UNIT_PREFIXES) {
    if (written.startsWith(`${p} `)) {
      const exact = written.slice(p.length + 1);
      return { prefix: foldVietnamese(p), exact, folded: foldVietnamese(exact) };
    }
  }
  return { prefix: null, exact: written, folded: foldVietnamese(written) };
}

/**
 * How a name typed without diacritics may be read: "Xa Tan Lap" is "xã Tân Lập"; "Phuong Son" may be
 * "phường Sơn" or "Phương Sơn", so both readings are tried.
 */
function foldedReadings(key: NameKey): { prefix: string | null; folded: string }[] {
  const out = [{ prefix: key.prefix, folded: key.folded }];
  if (key.prefix !== null) return out;
  for (const p of FOLDED_PREFIXES) if (key.folded.startsWith(`${p} `)) out.push({ prefix: p, folded: key.folded.slice(p.length + 1) });
  return out;
}

/** Splits an areaDesc into the names it lists: "Tỉnh X: xã A, xã B và phường C" → ['Tỉnh X', 'xã A', 'xã B', 'phường C']. */
export function areaDescNames(desc: string): string[] {
  return desc
    .split(/[,;:\n()]|\s+-\s+|\s+và\s+|\s+and\s+/iu)
    .map((s) => s.trim())
    .filter((s) => s.length > 0 && s.length <= 200);
}

export function matchAreas(areas: readonly CapArea[], tree: readonly AreaEntry[], boxes: readonly BoxEntry[], options: AreaMatchOptions = {}): AreaMatch {
  const valueNames = new Set((options.geocodeValueNames ?? DEFAULT_GEOCODE_VALUE_NAMES).map((n) => n.toLowerCase()));
  const byCode = new Map(tree.map((a) => [a.code, a]));
  /** The commune an area code lies in (itself for a commune, its parent commune for a village). */
  const communeOf = (code: string): AreaEntry | undefined => {
    for (let a = byCode.get(code); a; a = a.parentCode ? byCode.get(a.parentCode) : undefined) if (a.level === 'commune') return a;
    return undefined;
  };
  const isUnder = (code: string, ancestor: string): boolean => {
    for (let a = byCode.get(code); a; a = a.parentCode ? byCode.get(a.parentCode) : undefined) if (a.code === ancestor) return true;
    return false;
  };

  const communes = new Map<string, { code: string; name: string; reasons: MatchReason[] }>();
  const boxHits = new Map<string, { id: string; areaCode: string; reasons: MatchReason[] }>();
  const unmatched: AreaMatch['unmatched'] = [];
  const addCommune = (a: AreaEntry, r: MatchReason) => {
    const c = communes.get(a.code) ?? { code: a.code, name: a.name, reasons: [] };
    c.reasons.push(r);
    communes.set(a.code, c);
  };
  const addBox = (b: BoxEntry, r: MatchReason) => {
    const h = boxHits.get(b.id) ?? { id: b.id, areaCode: b.areaCode, reasons: [] };
    h.reasons.push(r);
    boxHits.set(b.id, h);
  };
  /** Everything at or under an area of the tree: its communes, and its boxes. */
  const reachArea = (target: AreaEntry, r: MatchReason) => {
    if (target.level === 'village') {
      const c = communeOf(target.code);
      if (c) addCommune(c, r);
    } else {
      for (const a of tree) if (a.level === 'commune' && isUnder(a.code, target.code)) addCommune(a, r);
    }
    for (const b of boxes) if (isUnder(b.areaCode, target.code)) addBox(b, r);
  };

  const names = tree.map((a) => {
    const key = nameKey(a.name);
    // A tree entry whose name carries no prefix takes its type as one ("Tân Lập", type "xã").
    return { area: a, key: key.prefix === null ? { ...key, prefix: nameKey(`${a.type} x`).prefix } : key };
  });
  let geometry = false;
  areas.forEach((area, areaIndex) => {
    let understood = false;
    for (const g of area.geocode) {
      if (!valueNames.has(g.valueName.toLowerCase())) continue;
      const target = byCode.get(g.value.trim());
      if (!target) {
        unmatched.push({ areaIndex, what: 'geocode', value: `${g.valueName}=${g.value}` });
        continue;
      }
      understood = true;
      reachArea(target, { kind: 'geocode', areaIndex, valueName: g.valueName, value: g.value });
    }
    if (area.polygon.length > 0 || area.circle.length > 0) {
      geometry = understood = true;
      // Each ring's bounding box (widened by the edge tolerance) first: most boxes of a province are far
      // from a warning's polygon, and a ring may have thousands of points.
      const bounds = area.polygon.map(boundsOf);
      for (const b of boxes) {
        if (b.lat == null || b.lon == null || !Number.isFinite(b.lat) || !Number.isFinite(b.lon)) continue;
        const p = { lat: b.lat, lon: b.lon };
        area.polygon.forEach((ring, polygonIndex) => {
          const bb = bounds[polygonIndex]!;
          if (p.lat < bb.minLat || p.lat > bb.maxLat || p.lon < bb.minLon || p.lon > bb.maxLon) return;
          const where = pointInPolygon(p, ring);
          if (where !== 'outside') addBox(b, { kind: 'polygon', areaIndex, polygonIndex, onEdge: where === 'edge' });
        });
        area.circle.forEach((c, circleIndex) => {
          const distanceKm = haversineKm(p, { lat: c.center[0], lon: c.center[1] });
          if (distanceKm <= c.radiusKm + 1e-9) addBox(b, { kind: 'circle', areaIndex, circleIndex, distanceKm });
        });
      }
    }
    if (understood && !options.namesAlways) return;
    const found: { area: AreaEntry; reason: MatchReason }[] = [];
    for (const text of areaDescNames(area.areaDesc)) {
      const key = nameKey(text);
      // A prefix the text gives must agree with the unit's own ("phường Hòa Bình" is not "xã Hòa Bình").
      const fits = (a: string | null, b: string | null) => a === null || b === null || samePrefix(a, b);
      let hits = names.filter((n) => n.key.exact === key.exact && fits(key.prefix, n.key.prefix));
      let exact = true;
      if (hits.length === 0) {
        const readings = foldedReadings(key);
        hits = names.filter((n) => readings.some((r) => n.key.folded === r.folded && fits(r.prefix, n.key.prefix)));
        exact = false;
      }
      if (hits.length === 0) {
        // A phrase that is not a unit name at all ("vùng ven biển") is expected; report only prefixed ones.
        if (key.prefix !== null) unmatched.push({ areaIndex, what: 'name', value: text });
        continue;
      }
      for (const h of hits) found.push({ area: h.area, reason: { kind: 'name', areaIndex, text, exact } });
    }
    // "Tỉnh Mẫu: xã Tân Lập, xã Hưng Đạo" names the province to say where the communes are, not to warn
    // all of it: when an areaDesc names units below a province, its province names are context only.
    const below = found.some((f) => f.area.level === 'commune' || f.area.level === 'village');
    for (const f of found) if (!(below && f.area.level === 'province')) reachArea(f.area, f.reason);
  });

  // A commune is reached by geometry through the boxes inside it.
  for (const hit of boxHits.values()) {
    if (!hit.reasons.some((r) => r.kind === 'polygon' || r.kind === 'circle')) continue;
    const c = communeOf(hit.areaCode);
    if (c) addCommune(c, { kind: 'box', boxId: hit.id });
  }
  const byKey = <T extends { code?: string; id?: string }>(a: T, b: T) => ((a.code ?? a.id)! < (b.code ?? b.id)! ? -1 : 1);
  return {
    communes: [...communes.values()].sort(byKey),
    boxes: [...boxHits.values()].sort(byKey),
    boxesWithoutCoordinates: geometry ? boxes.filter((b) => b.lat == null || b.lon == null || !Number.isFinite(b.lat) || !Number.isFinite(b.lon)).map((b) => b.id).sort() : [],
    unmatched,
  };
}

/** "tỉnh" and "thành phố" are both province-level; otherwise the prefixes must be the same word. */
function samePrefix(a: string, b: string): boolean {
  const province = (p: string) => p === 'tinh' || p === 'thanh pho';
  return a === b || (province(a) && province(b));
}
