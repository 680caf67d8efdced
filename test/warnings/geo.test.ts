/**
 * Area matching (server/src/warnings/geo.ts): the edge rule, polygons that overlap, touch, are concave or
 * "have holes" (a keyhole ring, the only way CAP 1.2 can draw one), circles by great-circle distance, boxes
 * without coordinates, geocodes and names. Property tests use a seeded generator (as test/shared does), so a
 * failure names the seed that replays it.
 */
import t from 'tap';
import type { CapArea, CapPoint } from '@loaxa/shared';
import { areaDescNames, haversineKm, matchAreas, pointInPolygon, type AreaEntry, type BoxEntry, type GeoPoint } from '../../server/src/warnings/geo.js';
import { rng } from './fixtures/alerts.js';

/** [lat, lon] ring from [lon, lat]-ish drawing order, closed. */
const ring = (...pts: [number, number][]): CapPoint[] => [...pts, pts[0]!];
const square = (lat0: number, lon0: number, size: number): CapPoint[] => ring([lat0, lon0], [lat0, lon0 + size], [lat0 + size, lon0 + size], [lat0 + size, lon0]);
const area = (o: Partial<CapArea>): CapArea => ({ areaDesc: 'x', polygon: [], circle: [], geocode: [], ...o });

const TREE: AreaEntry[] = [
  { code: '99', parentCode: null, name: 'Tỉnh Mẫu', type: 'tỉnh', level: 'province' },
  { code: '99001', parentCode: '99', name: 'Phường Hòa Bình', type: 'phường', level: 'commune' },
  { code: '99002', parentCode: '99', name: 'Xã Hòa Bình', type: 'xã', level: 'commune' },
  { code: '99003', parentCode: '99', name: 'Xã Tân Lập', type: 'xã', level: 'commune' },
  { code: '9900301', parentCode: '99003', name: 'Thôn Đông', type: 'thôn', level: 'village' },
  { code: '99004', parentCode: '99', name: 'Xã Phương Sơn', type: 'xã', level: 'commune' },
  { code: '99005', parentCode: '99', name: 'Phường Sơn', type: 'phường', level: 'commune' },
  { code: '99006', parentCode: '99', name: 'Đặc khu Hòn Ngọc', type: 'đặc khu', level: 'commune' },
];
const BOXES: BoxEntry[] = [
  { id: 'hb-1', areaCode: '99001', lat: 21.0, lon: 105.0 },
  { id: 'hb-2', areaCode: '99002', lat: 21.1, lon: 105.1 },
  { id: 'tl-1', areaCode: '99003', lat: 21.2, lon: 105.2 },
  { id: 'tl-dong', areaCode: '9900301', lat: 21.25, lon: 105.25 },
  { id: 'tl-nocoord', areaCode: '99003', lat: null, lon: null },
  { id: 'ps-1', areaCode: '99004', lat: 21.4, lon: 105.4 },
];

t.test('the edge rule: on an edge or a vertex is inside', async (t) => {
  const sq = square(0, 0, 1);
  t.equal(pointInPolygon({ lat: 0.5, lon: 0.5 }, sq), 'inside');
  t.equal(pointInPolygon({ lat: 0, lon: 0 }, sq), 'edge', 'a vertex');
  t.equal(pointInPolygon({ lat: 1, lon: 1 }, sq), 'edge', 'the opposite vertex');
  t.equal(pointInPolygon({ lat: 0, lon: 0.5 }, sq), 'edge', 'the bottom edge');
  t.equal(pointInPolygon({ lat: 0.5, lon: 1 }, sq), 'edge', 'the right edge (where half-open ray casting says outside)');
  t.equal(pointInPolygon({ lat: 1, lon: 0.5 }, sq), 'edge', 'the top edge (same)');
  t.equal(pointInPolygon({ lat: 0.5, lon: 1 + 2e-7 }, sq), 'outside', 'just past the tolerance');
  t.equal(pointInPolygon({ lat: 0.5, lon: 1 + 5e-8 }, sq), 'edge', 'within ~1 cm');
  const diamond = ring([0, 1], [1, 2], [2, 1], [1, 0]);
  t.equal(pointInPolygon({ lat: 1, lon: 1 }, diamond), 'inside', 'the ray passes exactly through a vertex: counted once');
  t.equal(pointInPolygon({ lat: 1, lon: -1 }, diamond), 'outside', 'left of the diamond, ray through two vertices');
  t.equal(pointInPolygon({ lat: 0.5, lon: 1.5 }, diamond), 'edge', 'on a sloped edge');
});

t.test('CAP 1.2 cannot cut holes: a keyhole ring is the nearest, and its hole is outside', async (t) => {
  // Outer square 0..4 with the hole 1..3 reached by a cut along lon = 2 from the bottom.
  const keyhole = ring([0, 0], [0, 2], [1, 2], [1, 1], [3, 1], [3, 3], [1, 3], [1, 2], [0, 2], [0, 4], [4, 4], [4, 0]);
  t.equal(pointInPolygon({ lat: 2, lon: 2 }, keyhole), 'outside', 'inside the hole');
  t.equal(pointInPolygon({ lat: 0.5, lon: 0.5 }, keyhole), 'inside', 'in the ring');
  t.equal(pointInPolygon({ lat: 3.5, lon: 2 }, keyhole), 'inside', 'in the ring above the hole');
  t.equal(pointInPolygon({ lat: 0.5, lon: 2 }, keyhole), 'edge', 'on the cut: an edge, so inside');
  // Two polygons for a ring with a hole, as a sender might try: the union covers the hole.
  const outer = square(0, 0, 4);
  const holeAsPolygon = square(1, 1, 2);
  const m = matchAreas([area({ polygon: [outer, holeAsPolygon] })], TREE, [{ id: 'in-hole', areaCode: '99003', lat: 2, lon: 2 }]);
  t.same(m.boxes.map((b) => b.reasons.length), [2], 'a second polygon adds to the area (union), it does not subtract');
});

t.test('boxes without coordinates and boxes on a shared edge', async (t) => {
  const left = square(21.0, 105.0, 0.2); // lat 21.0–21.2, lon 105.0–105.2
  const right = square(21.0, 105.2, 0.2); // touches `left` along lon 105.2
  const m = matchAreas([area({ polygon: [left, right] })], TREE, BOXES);
  const tl = m.boxes.find((b) => b.id === 'tl-1')!;
  t.same(tl.reasons, [
    { kind: 'polygon', areaIndex: 0, polygonIndex: 0, onEdge: true },
    { kind: 'polygon', areaIndex: 0, polygonIndex: 1, onEdge: true },
  ], 'a box on the corner both squares share is in both, on the edge');
  t.same(m.boxes.map((b) => b.id), ['hb-1', 'hb-2', 'tl-1'], 'hb-1 on a vertex, hb-2 inside');
  t.same(m.boxesWithoutCoordinates, ['tl-nocoord'], 'reported, never matched by geometry');
  t.same(m.communes.map((c) => [c.code, c.reasons.map((r) => r.kind === 'box' && r.boxId)]), [['99001', ['hb-1']], ['99002', ['hb-2']], ['99003', ['tl-1']]], 'communes reached through their boxes');
  t.same(matchAreas([area({ geocode: [{ valueName: 'MaDVHC', value: '99003' }] })], TREE, BOXES).boxesWithoutCoordinates, [], 'no geometry: nothing to report');
});

t.test('circles by great-circle distance', async (t) => {
  t.ok(Math.abs(haversineKm({ lat: 0, lon: 0 }, { lat: 90, lon: 0 }) - (Math.PI / 2) * 6371.0088) < 1e-6, 'equator to pole: a quarter of a great circle');
  t.ok(Math.abs(haversineKm({ lat: 21.0285, lon: 105.8542 }, { lat: 10.7769, lon: 106.7009 }) - 1143.5) < 1, 'Hà Nội–TP Hồ Chí Minh, about 1,140 km');
  t.ok(Math.abs(haversineKm({ lat: 0, lon: 0 }, { lat: 0, lon: 1 }) - 111.195) < 0.01, 'a degree at the equator');
  const d = haversineKm({ lat: 21.0, lon: 105.0 }, { lat: 21.1, lon: 105.1 });
  const m = matchAreas([area({ circle: [{ center: [21.0, 105.0], radiusKm: d }] })], TREE, BOXES);
  t.same(m.boxes.map((b) => b.id), ['hb-1', 'hb-2'], 'a box exactly at the radius is inside');
  const m2 = matchAreas([area({ circle: [{ center: [21.0, 105.0], radiusKm: d - 0.001 }] })], TREE, BOXES);
  t.same(m2.boxes.map((b) => b.id), ['hb-1'], '1 m less and it is out');
  const r = m.boxes[1]!.reasons[0]!;
  t.ok(r.kind === 'circle' && Math.abs(r.distanceKm - d) < 1e-9, 'the distance is reported');
});

t.test('geocodes: our codes under the configured value names', async (t) => {
  const m = matchAreas([area({ geocode: [{ valueName: 'madvhc', value: '99003' }, { valueName: 'FIPS6', value: '99001' }, { valueName: 'VN-ADMIN', value: '99999' }] })], TREE, BOXES);
  t.same(m.communes.map((c) => c.code), ['99003'], 'value names compared without case; other schemes ignored');
  t.same(m.boxes.map((b) => b.id), ['tl-1', 'tl-dong', 'tl-nocoord'], "the commune's boxes, its villages' included, with or without coordinates");
  t.same(m.unmatched, [{ areaIndex: 0, what: 'geocode', value: 'VN-ADMIN=99999' }], 'an unknown code of ours is reported');
  const province = matchAreas([area({ geocode: [{ valueName: 'MaDVHC', value: '99' }] })], TREE, BOXES);
  t.same(province.communes.map((c) => c.code), ['99001', '99002', '99003', '99004', '99005', '99006'], 'a province code reaches every commune');
  const village = matchAreas([area({ geocode: [{ valueName: 'MaDVHC', value: '9900301' }] })], TREE, BOXES);
  t.same([village.communes.map((c) => c.code), village.boxes.map((b) => b.id)], [['99003'], ['tl-dong']], 'a village: its commune is listed, only its boxes air');
  const custom = matchAreas([area({ geocode: [{ valueName: 'GSO-CODE', value: '99004' }] })], TREE, BOXES, { geocodeValueNames: ['GSO-CODE'] });
  t.same(custom.communes.map((c) => c.code), ['99004'], 'a source with its own value name');
});

t.test('areaDesc names with Vietnamese normalization', async (t) => {
  const codes = (desc: string, o = {}) => matchAreas([area({ areaDesc: desc })], TREE, BOXES, o).communes.map((c) => c.code);
  t.same(codes('Xã Tân Lập'), ['99003']);
  t.same(codes('xã  TÂN LẬP'), ['99003'], 'case and spacing');
  t.same(codes('xa Tan Lap'), ['99003'], 'without diacritics');
  t.same(codes('Tân Lập'), ['99003'], 'without prefix');
  t.same(codes('phường Hòa Bình'), ['99001'], 'the prefix picks the phường …');
  t.same(codes('xã Hòa Bình'), ['99002'], '… or the xã of the same name');
  t.same(codes('Hòa Bình'), ['99001', '99002'], 'no prefix: both');
  t.same(codes('Phương Sơn'), ['99004'], '"Phương" is part of the name, not the prefix "phường"');
  t.same(codes('Phuong Son'), ['99004', '99005'], 'without diacritics it may be either: both are reached');
  t.same(codes('đặc khu Hòn Ngọc'), ['99006']);
  t.same(codes('Tỉnh Mẫu'), ['99001', '99002', '99003', '99004', '99005', '99006'], 'a province name');
  t.same(codes('TP. Mẫu'), ['99001', '99002', '99003', '99004', '99005', '99006'], 'TP. is a province-level thành phố');
  t.same(codes('Tỉnh Mẫu: xã Tân Lập, phường Hòa Bình và xã Phương Sơn'), ['99001', '99003', '99004'], 'a province named with its communes is context, not a target');
  t.same(codes('Tỉnh Mẫu: thôn Đông'), ['99003'], 'a village too');
  t.same(codes('xã Tân Lập, phường Hòa Bình và xã Phương Sơn'), ['99001', '99003', '99004'], 'a list');
  t.same(areaDescNames('Tỉnh Mẫu: xã A; xã B và phường C - khu vực ven biển'), ['Tỉnh Mẫu', 'xã A', 'xã B', 'phường C', 'khu vực ven biển']);
  const m = matchAreas([area({ areaDesc: 'xã Không Có, vùng ven biển' })], TREE, BOXES);
  t.same(m.unmatched, [{ areaIndex: 0, what: 'name', value: 'xã Không Có' }], 'a unit name we do not know is reported; other phrases are not');
  const exact = matchAreas([area({ areaDesc: 'xa Tan Lap' })], TREE, BOXES).communes[0]!.reasons[0]!;
  t.same(exact, { kind: 'name', areaIndex: 0, text: 'xa Tan Lap', exact: false }, 'a folded match says so');
  t.same(codes('xã Tân Lập', {}), ['99003']);
  const withGeo = matchAreas([area({ areaDesc: 'xã Tân Lập', geocode: [{ valueName: 'MaDVHC', value: '99004' }] })], TREE, BOXES);
  t.same(withGeo.communes.map((c) => c.code), ['99004'], 'names are not read when the area has a geocode we know');
  const both = matchAreas([area({ areaDesc: 'xã Tân Lập', geocode: [{ valueName: 'MaDVHC', value: '99004' }] })], TREE, BOXES, { namesAlways: true });
  t.same(both.communes.map((c) => c.code), ['99003', '99004'], '… unless asked to');
});

// ---- properties ----

/** Winding number, written independently of the code under test, for points clearly off every edge. */
function windingInside(p: GeoPoint, poly: readonly CapPoint[]): boolean {
  let wn = 0;
  for (let i = 0; i < poly.length - 1; i++) {
    const [y0, x0] = poly[i]!;
    const [y1, x1] = poly[i + 1]!;
    const side = (x1 - x0) * (p.lat - y0) - (p.lon - x0) * (y1 - y0);
    if (y0 <= p.lat) {
      if (y1 > p.lat && side > 0) wn++;
    } else if (y1 <= p.lat && side < 0) wn--;
  }
  return wn !== 0;
}

/** A star-shaped (generally concave) simple polygon around a centre: angles sorted, radii random. */
function starPolygon(r: () => number, c: GeoPoint, size: number): CapPoint[] {
  const n = 3 + Math.floor(r() * 12);
  const angles = Array.from({ length: n }, () => r() * 2 * Math.PI).sort((a, b) => a - b);
  const pts = angles.map((a) => {
    const rad = size * (0.2 + 0.8 * r());
    return [c.lat + rad * Math.sin(a), c.lon + rad * Math.cos(a)] as CapPoint;
  });
  return [...pts, pts[0]!];
}

function distToEdges(p: GeoPoint, poly: readonly CapPoint[]): number {
  let best = Infinity;
  for (let i = 0; i < poly.length - 1; i++) {
    const [ay, ax] = poly[i]!;
    const [by, bx] = poly[i + 1]!;
    const dx = bx - ax;
    const dy = by - ay;
    const tt = Math.max(0, Math.min(1, ((p.lon - ax) * dx + (p.lat - ay) * dy) / (dx * dx + dy * dy || 1)));
    best = Math.min(best, Math.hypot(p.lon - (ax + tt * dx), p.lat - (ay + tt * dy)));
  }
  return best;
}

t.test('property: concave polygons agree with the winding number off the edges', async (t) => {
  const seed = 1807;
  const r = rng(seed);
  let checked = 0;
  for (let k = 0; k < 300; k++) {
    const c = { lat: 8 + r() * 15, lon: 102 + r() * 8 };
    const poly = starPolygon(r, c, 0.05 + r() * 0.5);
    for (let i = 0; i < 50; i++) {
      const p = { lat: c.lat + (r() * 2 - 1) * 0.6, lon: c.lon + (r() * 2 - 1) * 0.6 };
      if (distToEdges(p, poly) < 1e-6) continue;
      const got = pointInPolygon(p, poly) === 'inside';
      if (got !== windingInside(p, poly)) {
        t.fail(`seed ${seed}: polygon ${k}, point ${JSON.stringify(p)}: got ${got}`);
        return;
      }
      checked++;
    }
  }
  t.ok(checked > 10_000, `${checked} points agree`);
});

t.test('property: every vertex and every point along an edge is inside', async (t) => {
  const seed = 1808;
  const r = rng(seed);
  for (let k = 0; k < 300; k++) {
    const poly = starPolygon(r, { lat: 15, lon: 106 }, 0.3);
    for (let i = 0; i < poly.length - 1; i++) {
      const [ay, ax] = poly[i]!;
      const [by, bx] = poly[i + 1]!;
      const f = r();
      const onEdge = { lat: ay + f * (by - ay), lon: ax + f * (bx - ax) };
      if (pointInPolygon({ lat: ay, lon: ax }, poly) !== 'edge' || pointInPolygon(onEdge, poly) !== 'edge') {
        t.fail(`seed ${seed}: polygon ${k}, edge ${i}`);
        return;
      }
    }
  }
  t.pass('300 polygons: vertices and edge points are on the edge');
});

t.test('property: several polygons in an area are their union; overlapping and touching ones too', async (t) => {
  const seed = 1809;
  const r = rng(seed);
  for (let k = 0; k < 100; k++) {
    // Two polygons around nearby centres overlap, touch or are apart by chance; sometimes the second is the
    // first shifted by its own width, so they touch along a vertex.
    const a = starPolygon(r, { lat: 15, lon: 106 }, 0.3);
    const b = r() < 0.3 ? a.map(([y, x]) => [y, x + 0.6] as CapPoint) : starPolygon(r, { lat: 15 + (r() - 0.5) * 0.6, lon: 106 + (r() - 0.5) * 0.6 }, 0.3);
    const boxes: BoxEntry[] = Array.from({ length: 60 }, (_, i) => ({ id: `b${String(i).padStart(2, '0')}`, areaCode: '99003', lat: 15 + (r() - 0.5) * 1.4, lon: 106 + (r() - 0.5) * 2 }));
    const m = matchAreas([area({ polygon: [a, b] })], TREE, boxes);
    const expected = boxes.filter((x) => pointInPolygon({ lat: x.lat!, lon: x.lon! }, a) !== 'outside' || pointInPolygon({ lat: x.lat!, lon: x.lon! }, b) !== 'outside').map((x) => x.id);
    const separate = matchAreas([area({ polygon: [a] }), area({ polygon: [b] })], TREE, boxes).boxes.map((x) => x.id);
    if (JSON.stringify(m.boxes.map((x) => x.id)) !== JSON.stringify(expected) || JSON.stringify(separate) !== JSON.stringify(expected)) {
      t.fail(`seed ${seed}: case ${k}`);
      return;
    }
    for (const hit of m.boxes) {
      const inBoth = pointInPolygon({ lat: boxes.find((x) => x.id === hit.id)!.lat!, lon: boxes.find((x) => x.id === hit.id)!.lon! }, b) !== 'outside' && pointInPolygon({ lat: boxes.find((x) => x.id === hit.id)!.lat!, lon: boxes.find((x) => x.id === hit.id)!.lon! }, a) !== 'outside';
      if (inBoth !== (hit.reasons.length === 2)) {
        t.fail(`seed ${seed}: case ${k}: a box in the overlap gives both reasons`);
        return;
      }
    }
  }
  t.pass('union = one area with both polygons = two areas with one each; the overlap gives two reasons');
});

t.test('property: a circle reaches exactly the boxes within its radius', async (t) => {
  const seed = 1810;
  const r = rng(seed);
  for (let k = 0; k < 100; k++) {
    const center: CapPoint = [9 + r() * 14, 103 + r() * 6];
    const radiusKm = r() * 50;
    const boxes: BoxEntry[] = Array.from({ length: 50 }, (_, i) => ({ id: `b${String(i).padStart(2, '0')}`, areaCode: '99003', lat: center[0] + (r() - 0.5), lon: center[1] + (r() - 0.5) }));
    const got = matchAreas([area({ circle: [{ center, radiusKm }] })], TREE, boxes).boxes.map((b) => b.id);
    const want = boxes.filter((b) => haversineKm({ lat: b.lat!, lon: b.lon! }, { lat: center[0], lon: center[1] }) <= radiusKm).map((b) => b.id);
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      t.fail(`seed ${seed}: case ${k}`);
      return;
    }
  }
  t.pass('100 circles');
});

t.test('a large polygon against a province of boxes stays fast', async (t) => {
  const r = rng(1811);
  // A 20,000-point ring (about what fits in the reader's 1 MiB) and 5,000 boxes, half of them near it.
  const ringPts = Array.from({ length: 20_000 }, (_, i) => {
    const a = (i / 20_000) * 2 * Math.PI;
    return [21 + 0.2 * Math.sin(a), 105 + 0.2 * Math.cos(a)] as CapPoint;
  });
  const big = [...ringPts, ringPts[0]!];
  const boxes: BoxEntry[] = Array.from({ length: 5_000 }, (_, i) => ({ id: `b${i}`, areaCode: '99003', lat: (i % 2 ? 21 : 15) + (r() - 0.5) * 0.5, lon: 105 + (r() - 0.5) * 0.5 }));
  const start = performance.now();
  const m = matchAreas([area({ polygon: [big] })], TREE, boxes);
  const ms = performance.now() - start;
  t.ok(m.boxes.length > 0 && m.boxes.length < 2_500, `${m.boxes.length} boxes inside`);
  t.ok(ms < 3_000, `matched in ${Math.round(ms)} ms`);
});
