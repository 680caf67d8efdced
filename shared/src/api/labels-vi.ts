/**
 * The Vietnamese words for the contract's enums, as the web app shows them (web/src/i18n/vi.ts takes them from
 * here) and as the server writes them where people read its output directly: the as-run CSV and workbook
 * (issue 20, broken 8: they said `played`, `emergency`). Plain objects, no zod: the web bundle imports them.
 */
import type { BulletinCategory, DeliveryState, Priority } from './enums.js';

export const PRIORITY_LABELS_VI = {
  normal: 'Thông thường',
  priority: 'Ưu tiên',
  emergency: 'Khẩn cấp',
} as const satisfies Record<Priority, string>;

export const DELIVERY_STATE_LABELS_VI = {
  queued: 'Đang chờ',
  sent: 'Đã gửi lệnh',
  acknowledged: 'Đã nhận lệnh',
  cached: 'Đã tải âm thanh',
  playing: 'Đang phát',
  played: 'Đã phát xong',
  failed: 'Lỗi',
  missed: 'Bỏ lỡ',
  cancelled: 'Đã hủy',
  expired: 'Hết hạn',
} as const satisfies Record<DeliveryState, string>;

export const BULLETIN_CATEGORY_LABELS_VI = {
  general: 'Thông tin chung',
  'unscheduled-news': 'Thông tin đột xuất, bất thường',
  'policy-law': 'Chủ trương của Đảng, chính sách, pháp luật của Nhà nước',
  'local-direction': 'Chỉ đạo, điều hành của địa phương',
  knowledge: 'Kiến thức khoa học, kỹ thuật, kinh tế, văn hóa, xã hội',
  'good-deeds': 'Người tốt, việc tốt',
} as const satisfies Record<BulletinCategory, string>;

/** What a box reports for one item of a programme (device-agent/src/programme.ts), as the live page says it. */
export const PROGRAMME_ITEM_STATE_LABELS_VI: Readonly<Record<string, string>> = {
  playing: 'Đang phát',
  played: 'Đã phát',
  skipped: 'Bỏ qua',
  failed: 'Lỗi',
};
