/**
 * Dates and times as Vietnamese people type and read them (dd/mm/yyyy, 24-hour HH:MM), to and from the values
 * forms keep (`yyyy-mm-dd`, `HH:MM`); pure, for components/DateTimeField.tsx (issue 20, broken 11).
 */

const pad = (n: number) => String(n).padStart(2, '0');

/** `yyyy-mm-dd` → `dd/mm/yyyy` (anything else: as is). */
export function isoToVnDate(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  return m ? `${m[3]}/${m[2]}/${m[1]}` : iso;
}

/** `d/m/yyyy`, `dd/mm/yyyy`, `dd-mm-yyyy`, `dd.mm.yyyy`, 8 digits or `yyyy-mm-dd` → `yyyy-mm-dd`, or null when not a real day. */
export function vnDateToIso(text: string): string | null {
  const s = text.trim();
  // A pasted ISO day (yyyy-mm-dd, what the native input took) is read too.
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(s);
  const m = iso ? [s, iso[3], iso[2], iso[1]] : (/^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(s) ?? /^(\d{2})(\d{2})(\d{4})$/.exec(s));
  if (!m) return null;
  const [d, mo, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1 || y < 1900 || y > 2200) return null;
  // Day 31 of a 30-day month, 29/02 of a common year: not a day.
  const last = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (d > last) return null;
  return `${y}-${pad(mo)}-${pad(d)}`;
}

/** `17:30`, `17h30`, `17.30`, `1730`, `7:05` → `HH:MM` (24 h), or null. */
export function vnTimeToValue(text: string): string | null {
  const m = /^(\d{1,2})\s*[:hH.]?\s*(\d{2})$/.exec(text.trim());
  if (!m) return null;
  const [h, mi] = [Number(m[1]), Number(m[2])];
  if (h > 23 || mi > 59) return null;
  return `${pad(h)}:${pad(mi)}`;
}

/**
 * Slashes added as digits are typed ("0", "08", "08/1", "08/12/2026") or pasted ("08122026"), never in the way
 * of deleting or of someone typing the slashes themselves ("7/6/2026").
 */
export function shapeDate(typed: string, before: string): string {
  if (typed.length < before.length) return typed;
  if (/^\d{3,8}$/.test(typed)) return [typed.slice(0, 2), typed.slice(2, 4), typed.slice(4, 8)].filter(Boolean).join('/');
  const m = /^(\d{2})\/(\d{3,6})$/.exec(typed);
  return m ? `${m[1]}/${m[2]!.slice(0, 2)}/${m[2]!.slice(2)}` : typed;
}

/** "1730" → "17:30", "173" → "17:3", "730" → "7:30" (no hour 73). */
export function shapeTime(typed: string, before: string): string {
  if (typed.length < before.length || !/^\d{3,4}$/.test(typed)) return typed;
  const h = typed.length === 3 && Number(typed.slice(0, 2)) > 23 ? 1 : 2;
  return `${typed.slice(0, h)}:${typed.slice(h)}`;
}
