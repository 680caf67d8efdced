/** Days as people type them in the search pages (dd/mm/yyyy) and as the API takes them (YYYY-MM-DD), issue 20. */

/** `dd/mm/yyyy` (also d/m/yyyy, dd-mm-yyyy, dd.mm.yyyy or yyyy-mm-dd) → `YYYY-MM-DD`; '' for empty; null when not a date. */
export function parseVnDate(text: string): string | null {
  const s = text.trim();
  if (!s) return '';
  const vn = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(s);
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  const [d, mo, y] = vn ? [Number(vn[1]), Number(vn[2]), Number(vn[3])] : iso ? [Number(iso[3]), Number(iso[2]), Number(iso[1])] : [0, 0, 0];
  if (!y) return null;
  const at = new Date(Date.UTC(y, mo - 1, d));
  if (at.getUTCFullYear() !== y || at.getUTCMonth() !== mo - 1 || at.getUTCDate() !== d) return null;
  return `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** `YYYY-MM-DD` → `dd/mm/yyyy`. */
export function showVnDate(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  return m ? `${m[3]}/${m[2]}/${m[1]}` : iso;
}

/** The `from`/`to` a list is asked for: both as typed, or neither while "to" is before "from" (DayRange says so). */
export function dayRangeQuery(from: string, to: string): { from?: string; to?: string } {
  if (from && to && from > to) return {};
  return { ...(from ? { from } : {}), ...(to ? { to } : {}) };
}
