/**
 * A national-scale installation for the dashboard's load test and benchmark: 3,321 communes in 34
 * provinces (the shape of the official list effective 1 July 2025, with made-up names so nothing depends
 * on ../shared/) and N boxes, all in the first province: the worst case for the province dashboard's map.
 */
import { newId } from '../../server/src/ids.js';
import type { LoaxaServer } from '../../server/src/app.js';

export interface UnitsImport {
  provinces: Array<{ code: string; name: string; type: string; communes: Array<{ code: string; name: string; type: string }> }>;
}

export function nationalUnits(): UnitsImport {
  const provinces: UnitsImport['provinces'] = [];
  let next = 1;
  for (let p = 0; p < 34; p++) {
    const n = p < 23 ? 98 : 97; // 23 × 98 + 11 × 97 = 3,321
    const communes = [];
    for (let c = 0; c < n; c++, next++) communes.push({ code: String(next).padStart(5, '0'), name: `Xã Thử Nghiệm ${next}`, type: 'xã' });
    provinces.push({ code: String(p + 1).padStart(2, '0'), name: `Tỉnh Thử Nghiệm ${p + 1}`, type: 'tỉnh', communes });
  }
  return { provinces };
}

/** Registers `count` boxes spread over the communes of `communeCodes`, laid out on a grid, in one transaction. */
export function seedBoxes(ctx: LoaxaServer['ctx'], communeCodes: string[], count: number): void {
  const now = Date.now();
  ctx.db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const code = communeCodes[i % communeCodes.length]!;
      const k = Math.floor(i / communeCodes.length);
      ctx.devices.insert({
        id: newId('spk'), name: `Cụm loa ${code}-${k + 1}`, areaCode: code,
        lat: 21 + (i % 70) * 0.004 + k * 0.0003, lon: 105.5 + Math.floor(i / 70) * 0.006, secretHash: '0'.repeat(64), createdAt: now,
      });
    }
  })();
  ctx.coverage.snapshot();
}
