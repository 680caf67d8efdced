/** The area tree of `GET /api/v1/areas`, flattened for pickers and look-ups. */
import type { AreaNode } from '../api/types.js';

export interface FlatArea {
  code: string;
  name: string;
  type: string;
  depth: number;
  parentCode: string | null;
  /** "Tỉnh Mẫu › Xã Tân Lập", for search results out of context. */
  path: string;
  hasChildren: boolean;
}

export function flattenTree(nodes: readonly AreaNode[]): FlatArea[] {
  const out: FlatArea[] = [];
  const walk = (list: readonly AreaNode[], depth: number, parent: FlatArea | null) => {
    for (const n of list) {
      const flat: FlatArea = { code: n.code, name: n.name, type: n.type, depth, parentCode: parent?.code ?? null, path: parent ? `${parent.path} › ${n.name}` : n.name, hasChildren: n.children.length > 0 };
      out.push(flat);
      walk(n.children, depth + 1, flat);
    }
  };
  walk(nodes, 0, null);
  return out;
}

/** Lowercase without diacritics, so "tan lap" finds "Xã Tân Lập" (đ → d as well). */
export function foldVietnamese(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').replace(/đ/g, 'd').replace(/Đ/g, 'D').toLowerCase();
}

export function matchesQuery(area: Pick<FlatArea, 'name' | 'code'>, query: string): boolean {
  const q = foldVietnamese(query.trim());
  if (!q) return true;
  return area.code.startsWith(q) || foldVietnamese(area.name).includes(q);
}

export function areaNames(flat: readonly FlatArea[]): Map<string, FlatArea> {
  return new Map(flat.map((a) => [a.code, a]));
}
