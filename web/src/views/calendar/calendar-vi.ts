/**
 * What the week calendar (issue 20) says, in Vietnamese. Kept apart from `i18n/vi.ts` so these strings load
 * with the page and not with the app's first screen (only the menu entry is there).
 */
import type { CalendarStatus } from '@loaxa/shared/api';

export const tc = {
  title: 'Lịch phát sóng',
  intro: 'Mọi lượt phát trong tuần của xã (hoặc của một cụm loa), theo giờ Việt Nam. Chạm vào một lượt để dời hoặc hủy; trên máy tính có thể kéo lượt phát sang ngày, giờ khác.',
  area: 'Địa bàn',
  box: 'Cụm loa',
  allBoxes: 'Tất cả cụm loa',
  prev: '‹ Tuần trước',
  next: 'Tuần sau ›',
  today: 'Hôm nay',
  weekOf: (a: string, b: string) => `Tuần ${a} – ${b}`,
  empty: 'Không có lượt phát nào trong ngày.',
  emptyWeek: 'Tuần này chưa có lượt phát nào.',
  truncated: 'Tuần này có quá nhiều lượt phát; chỉ hiện những lượt đầu. Hãy chọn một xã hoặc một cụm loa.',
  minutes: (n: number) => `${n} phút`,
  seconds: (n: number) => `${n} giây`,
  series: 'Lặp lại',
  kinds: { text: 'Bản tin', recording: 'Ghi âm', relay: 'Tiếp sóng', programme: 'Chương trình', live: 'Trực tiếp' } as Record<string, string>,
  statuses: {
    pending: 'Chờ duyệt',
    scheduled: 'Đã lên lịch',
    moved: 'Đã dời đi',
    cancelled: 'Đã hủy',
    airing: 'Đang phát',
    aired: 'Đã phát',
    missed: 'Không phát được',
  } satisfies Record<CalendarStatus, string>,
  movedTo: (when: string) => `Đã dời sang ${when}`,
  movedFrom: (when: string) => `Dời từ ${when}`,
  sheet: {
    close: 'Đóng',
    moveOne: 'Dời giờ lượt này',
    cancelOne: 'Hủy lượt này',
    cancelSeries: 'Hủy cả chuỗi',
    moveSeries: (time: string) => `Dời cả chuỗi sang ${time} mỗi ngày phát`,
    open: 'Mở lượt phát',
    newDate: 'Ngày mới (dd/mm/yyyy)',
    newTime: 'Giờ mới (HH:mm)',
    save: 'Dời',
    back: 'Quay lại',
    readOnly: 'Bạn không thể thay đổi lượt phát này (đã qua, đã hủy, hoặc không do bạn quản lý).',
    dropAsk: (when: string) => `Dời lượt phát sang ${when}?`,
  },
  confirm: {
    cancelOne: (when: string) => `Hủy lượt phát lúc ${when}? Các lượt khác của chuỗi vẫn giữ nguyên.`,
    cancelSeries: 'Hủy cả chuỗi? Mọi lượt sắp tới của lượt phát này sẽ dừng trên tất cả cụm loa.',
  },
  done: {
    cancelOne: 'Đã hủy lượt này.',
    cancelSeries: 'Đã hủy cả chuỗi.',
    moveOne: (when: string) => `Đã dời lượt này sang ${when}.`,
    moveSeries: (time: string) => `Đã dời cả chuỗi sang ${time}.`,
  },
  errors: {
    badDate: 'Ngày không hợp lệ: nhập theo dạng dd/mm/yyyy, ví dụ 07/12/2026.',
    badTime: 'Giờ không hợp lệ: nhập theo dạng HH:mm, ví dụ 07:30.',
    past: 'Giờ mới đã qua; hãy chọn một thời điểm sắp tới.',
    wasCancelled: 'Lượt này đã bị hủy nên không thể dời.',
    notOccurrence: 'Lượt phát này không còn trong lịch (lịch vừa thay đổi); hãy tải lại.',
    notYours: 'Chỉ người tạo hoặc người phê duyệt mới được thay đổi lượt phát này.',
    outside: 'Lượt phát này nhắm tới địa bàn ngoài phạm vi của bạn.',
    ended: 'Lượt phát này đã kết thúc hoặc đã bị hủy.',
    notSeries: 'Chỉ dời được cả chuỗi với lịch hằng ngày, hằng tuần hoặc hằng tháng; hãy dời từng lượt.',
    timeTaken: 'Chuỗi đã có một lượt phát vào giờ mới.',
    seriesEnded: 'Chuỗi đã kết thúc.',
    load: 'Không tải được lịch phát.',
  },
};

/** Vietnamese day names, Monday first (ISO weekday 1–7). */
export const DAY_NAMES = ['Thứ Hai', 'Thứ Ba', 'Thứ Tư', 'Thứ Năm', 'Thứ Sáu', 'Thứ Bảy', 'Chủ Nhật'] as const;
