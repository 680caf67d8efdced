/** The box page's Vietnamese words (issue 20), kept with the page so the first-load bundle stays small. */
import type { HealthMetric } from '@loaxa/shared/api';

export const s = {
  back: '‹ Danh sách cụm loa',
  online: 'Đang kết nối',
  offline: 'Mất kết nối',
  faulty: 'Có lỗi',
  playing: 'Đang phát',
  neverSeen: 'Chưa từng kết nối',
  commune: 'Xã / phường',
  lastSeen: 'Liên lạc lần cuối',
  version: 'Phần mềm',
  volume: 'Âm lượng',
  position: 'Vị trí',
  noPosition: 'chưa ghi',
  cameOnline: (at: string) => `Cụm loa vừa kết nối lúc ${at}.`,
  waitingOnline: 'Đang chờ cụm loa kết nối… Trang tự cập nhật khi cụm loa lên mạng.',

  controls: 'Điều khiển từ xa',
  testTone: 'Phát âm thử',
  testToneSent: 'Đang chờ cụm loa trả lời…',
  testTonePlayed: (seconds: string, hz: number) => `Cụm loa đã phát âm thử ${seconds} giây (${hz} Hz).`,
  testToneNotPlayed: 'Cụm loa nhận lệnh nhưng không phát được âm thử (loa đang bận hoặc lỗi âm thanh).',
  setVolume: 'Đặt âm lượng',
  volumeSet: (v: number) => `Cụm loa đã đặt âm lượng ${v}.`,
  restart: 'Khởi động lại phần mềm',
  restartConfirm: 'Khởi động lại phần mềm của cụm loa? Cụm loa sẽ mất kết nối trong giây lát.',
  restarting: (seconds: string) => `Cụm loa sẽ khởi động lại sau ${seconds} giây.`,
  boxRefused: 'Cụm loa từ chối lệnh.',
  offlineRefused: 'Cụm loa đang mất kết nối; hãy thử lại khi cụm loa kết nối.',
  timedOut: 'Cụm loa không trả lời kịp; hãy thử lại.',
  brokerDown: 'Máy chủ không gửi được lệnh tới cụm loa lúc này; hãy thử lại sau.',
  notAllowed: 'Vai trò của bạn không được gửi lệnh này.',
  commandFailed: 'Không gửi được lệnh.',
  offlineHint: 'Các nút điều khiển dùng được khi cụm loa đang kết nối.',

  health: 'Tình trạng theo thời gian',
  span: 'Khoảng thời gian',
  spans: { day: '24 giờ', week: '7 ngày', month: '30 ngày' } as const,
  metric: 'Chỉ số',
  metrics: {
    temp: 'Nhiệt độ (°C)',
    signal: 'Sóng di động (%)',
    diskFree: 'Bộ nhớ trống (%)',
    cache: 'Bộ đệm âm thanh (MB)',
    volume: 'Âm lượng',
    clock: 'Lệch giờ (ms)',
    uptime: 'Thời gian chạy (giờ)',
    load: 'Tải CPU',
  } satisfies Record<HealthMetric, string>,
  seriesAt: 'Lúc',
  seriesMin: 'Thấp nhất',
  seriesAvg: 'Trung bình',
  seriesMax: 'Cao nhất',
  noHealth: 'Chưa có số liệu trong khoảng này.',
  noReading: 'Cụm loa không gửi chỉ số này.',
  heard: (heard: number, total: number) => `Có tín hiệu ${heard}/${total} khung 15 phút.`,
  silences: 'Những lúc mất liên lạc',
  silence: (from: string, to: string) => `từ ${from} đến ${to}`,
  silenceOpen: (from: string) => `từ ${from} đến nay`,
  noSilence: 'Không mất liên lạc lần nào trong khoảng này.',

  faults: 'Lịch sử lỗi',
  noFaults: 'Chưa ghi nhận lỗi nào.',
  faultOpen: 'đang lỗi',
  faultSince: (from: string) => `từ ${from}`,
  faultSpan: (from: string, to: string) => `từ ${from} đến ${to}`,

  played: 'Đã phát gì',
  noPlayed: 'Cụm loa chưa được giao bản tin nào.',
  colBulletin: 'Bản tin',
  colAt: 'Giờ phát',
  colResult: 'Kết quả',
  more: 'Xem thêm',

  install: 'Lắp đặt',
  printLabel: 'In nhãn mã nhận',

  // The installer's pages.
  installTitle: 'Lắp đặt cụm loa mới',
  installIntro: 'Ghi cụm loa vào hệ thống, in nhãn mã nhận dán lên hộp loa, rồi bật cụm loa và nhập mã (hoặc quét mã QR).',
  name: 'Tên cụm loa',
  nameHint: 'Ví dụ: Loa chợ thôn 3',
  lat: 'Vĩ độ',
  lon: 'Kinh độ',
  useGps: 'Lấy vị trí từ điện thoại',
  gpsWaiting: 'Đang lấy vị trí…',
  gpsGot: (acc: number) => `Đã lấy vị trí (sai số khoảng ${acc} m).`,
  gpsFailed: 'Không lấy được vị trí từ điện thoại; hãy nhập tay.',
  register: 'Ghi cụm loa',
  registering: 'Đang ghi…',
  nameMissing: 'Hãy nhập tên cụm loa.',
  coordsBad: 'Vĩ độ từ -90 đến 90, kinh độ từ -180 đến 180 (dùng dấu chấm hoặc dấu phẩy).',
  registered: (name: string) => `Đã ghi cụm loa “${name}”.`,

  labelTitle: 'Nhãn mã nhận',
  labelIntro: 'Mã nhận dùng một lần: cụm loa đổi mã lấy mật khẩu kết nối. Tạo mã mới thì mã cũ chưa dùng hết hiệu lực.',
  makeLabel: 'Tạo mã nhận và nhãn',
  makingLabel: 'Đang tạo…',
  print: 'In nhãn',
  labelCode: 'Mã nhận',
  labelCodeWords: 'Đọc là',
  labelExpires: (at: string) => `Dùng trước ${at}`,
  labelQr: 'Mã QR chứa đường dẫn nhận cụm loa',
  openBox: 'Mở trang cụm loa',
} as const;

/** How a claim code's symbols are read aloud (Crockford base32: digits and letters without I, L, O, U). */
const SPOKEN: Record<string, string> = {
  '0': 'không', '1': 'một', '2': 'hai', '3': 'ba', '4': 'bốn', '5': 'năm', '6': 'sáu', '7': 'bảy', '8': 'tám', '9': 'chín',
};

/** "AB3D-…" → "A B ba D – …": each digit in words, letters as they are, groups apart. */
export function codeInWords(code: string): string {
  return code
    .split('-')
    .map((g) => [...g].map((ch) => SPOKEN[ch] ?? ch).join(' '))
    .join(' – ');
}
