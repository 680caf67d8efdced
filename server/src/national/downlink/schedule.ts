/**
 * A schedule that came down (*LichPhat* with *NgayBatDau*–*NgayKetThuc*, *CheDoPhat*) in our schedule kinds
 * (`shared/src/api/schedule.ts`). Times are local (Asia/Ho_Chi_Minh, +07:00 all year); our schedules count in
 * minutes, so *ThoiDiemBatDau* `07:30:15.000000` airs at 07:30. *ThoiDiemKetThuc* is not a loop instruction: an
 * airing lasts the bulletin's length (the province's end time bounds it, never lengthens it), so it is kept in
 * the stored command but does not change the broadcast.
 *
 * *KieuLich* 3 (listed dates) becomes one `daily` schedule per date, bounded to that date (`from` = `until`):
 * one broadcast per date carries all of that day's start times, and a delete or a move finds them by the
 * national bulletin's record. `once` entries would need one broadcast per date *and* time, and a
 * `daily` over the whole window would air on the days between.
 */
import type { DownBulletin } from '@loaxa/shared';
import type { Schedule } from '../../scheduling/schedule.js';

const VN_OFFSET_MS = 7 * 3600_000;
const DAY_MS = 86_400_000;

/** The local (Vietnam) date of an instant, `YYYY-MM-DD`. */
export function localDate(ms: number): string {
  return new Date(ms + VN_OFFSET_MS).toISOString().slice(0, 10);
}

/** `yyyymmdd` (the national *DanhSachNgayPhat* of KieuLich 3) as `YYYY-MM-DD`, or null when it is no calendar date. */
export function dateNumber(n: number): string | null {
  const s = String(n);
  if (!/^\d{8}$/.test(s)) return null;
  const iso = `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}`;
  const d = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === iso ? iso : null;
}

export type MappedSchedule =
  /** *CheDoPhat* "now": one airing at once. */
  | { kind: 'now' }
  | { kind: 'scheduled'; schedules: Schedule[] };

export class ScheduleRefusal extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

type Window = Pick<DownBulletin, 'playMode' | 'startDate' | 'endDate' | 'schedule'>;

/** Our schedules for a bulletin's window and *LichPhat*; throws ScheduleRefusal naming the model field. */
export function mapSchedule(b: Window, now: number): MappedSchedule {
  if (b.playMode === 'now') return { kind: 'now' };
  if (b.endDate < b.startDate) throw new ScheduleRefusal('endDate', 'Ngày kết thúc (NgayKetThuc) trước ngày bắt đầu (NgayBatDau)');
  const from = localDate(b.startDate);
  const until = localDate(b.endDate);
  if (until < localDate(now)) throw new ScheduleRefusal('endDate', `Lịch phát đã qua: ngày kết thúc ${until}`);
  const times = [...new Set(b.schedule.starts.map((t) => t.slice(0, 5)))].sort();
  const s = b.schedule;
  switch (s.kind) {
    case 'daily':
      return { kind: 'scheduled', schedules: [{ kind: 'daily', times, from, until }] };
    case 'weekly': {
      const weekdays = [...new Set(s.days)].sort((x, y) => x - y);
      if (weekdays.length === 0 || weekdays.some((d) => d < 1 || d > 7)) throw new ScheduleRefusal('schedule.days', 'Lịch hằng tuần cần các thứ trong tuần từ 1 (thứ Hai) đến 7 (Chủ nhật)');
      return { kind: 'scheduled', schedules: [{ kind: 'weekly', weekdays, times, from, until }] };
    }
    case 'monthly': {
      const days = [...new Set(s.days)].sort((x, y) => x - y);
      if (days.length === 0 || days.some((d) => d < 1 || d > 31)) throw new ScheduleRefusal('schedule.days', 'Lịch hằng tháng cần các ngày trong tháng từ 1 đến 31');
      return { kind: 'scheduled', schedules: [{ kind: 'monthly', days, times, from, until }] };
    }
    case 'dates': {
      const dates: string[] = [];
      for (const n of new Set(s.days)) {
        const d = dateNumber(n);
        if (!d) throw new ScheduleRefusal('schedule.days', `Ngày phát ${n} không phải ngày yyyymmdd hợp lệ`);
        // Dates outside the window, or already past, do not air.
        if (d >= from && d <= until && d >= localDate(now - DAY_MS)) dates.push(d);
      }
      if (dates.length === 0) throw new ScheduleRefusal('schedule.days', 'Không có ngày phát nào trong khoảng NgayBatDau–NgayKetThuc còn tới');
      return { kind: 'scheduled', schedules: dates.sort().map((d) => ({ kind: 'daily' as const, times, from: d, until: d })) };
    }
  }
}
