/**
 * The Vietnamese-field variant most provinces' source systems (*HTTT nguồn*) speak (Decision 135/QĐ-TTg, guide
 * CV 1273/BTTTT-TTCS), as data checked by `mappingSchema` (`../mapping.ts`, whose header lists its paths).
 * Field names follow the vendors' code bases and the published conformance checker; where the checker names a
 * field with another case (`NguonId`, `CumLoaId`) the codec reads either. What the checker requires is
 * `required` here, so a Loa Xã source system refuses exactly what the checker refuses; the rest takes a default,
 * so a vendor's minimal record still reads.
 *
 * Defaults in braces name another model value (`{source.id}`), filled after the body is read: a box without a
 * *DichID* belongs to the reporting system's area; an airing without our airing id is named by bulletin, box and
 * start. `$now` is the time the record arrived (a status without *ThoiDiemBatDau*).
 */
import type { FieldRule, MappingInput } from '../mapping.js';

const identity: Record<string, FieldRule> = {
  NguonID: { from: 'source.id', required: true },
  TenNguon: { from: 'source.name', default: '' },
  DichID: { from: 'box.area.code', default: '{source.id}' },
  TenDich: { from: 'box.area.name', default: '' },
  CumLoaID: { from: 'box.nationalId', required: true },
  TenThietBi: { from: 'box.name', default: '{box.nationalId}' },
  MaNhaCungCap: { from: 'box.vendor.code', default: '' },
  TenNhaCungCap: { from: 'box.vendor.name', default: '' },
};

/** The airing part of a play log; *LoaiBanTin* 3 (audio) for a synthesized bulletin or a programme, 5 live, 6 FM relay. */
const airing: Record<string, FieldRule> = {
  PhienPhatID: { from: 'airingId', default: '{bulletin.id}@{box.nationalId}@{startedAt}' },
  LoaiBanTin: { from: 'bulletin.contentType', codes: 'contentType', default: 'audio' },
  MucDoUuTien: { from: 'priority', codes: 'priority', default: 'normal' },
  TieuDe: { from: 'bulletin.title', default: '' },
  LoaiLinhVuc: { from: 'bulletin.category', codes: 'category', default: 'general' },
  NoiDungTomTat: { from: 'bulletin.summary', default: '' },
  ThoiGianSanXuat: { from: 'bulletin.producedAt', as: 'iso-local', default: '{startedAt}' },
  ThoiLuong: { from: 'bulletin.durationS', as: 'int', default: 0 },
  TacGia: { from: 'bulletin.author', default: '' },
  ThoiDiemBatDau: { from: 'startedAt', as: 'epoch-s', default: '{at}' },
  TiepAm: { from: 'relay', as: 'boolean-int', default: null },
  NguonTiepAm: { from: 'relay.sourceName', default: '' },
};

/** *LichPhat*: the schedule kind, the times of day in the checker's exact `HH:mm:ss.ffffff`, the days. */
const schedule: FieldRule = {
  object: {
    KieuLich: { from: 'schedule.kind', codes: 'scheduleKind', required: true },
    ThoiDiemBatDau: { each: 'schedule.starts', item: { from: '$', as: 'time-of-day', required: true }, required: true },
    ThoiDiemKetThuc: { each: 'schedule.ends', item: { from: '$', as: 'time-of-day', required: true } },
    DanhSachNgayPhat: { each: 'schedule.days', item: { from: '$', as: 'int', required: true } },
  },
};

export const viMapping: MappingInput = {
  name: 'vi',
  description: 'Biến thể trường tiếng Việt (HTTT nguồn cấp tỉnh theo QĐ 135/QĐ-TTg, CV 1273/BTTTT-TTCS)',
  timeZoneOffset: '+07:00',
  login: {
    path: '/api/auth/login',
    body: { object: { Username: { from: 'username', required: true }, Password: { from: 'password', required: true } } },
    token: 'NoiDung.Token',
    expiresAt: 'NoiDung.HetHan',
    header: 'Authorization',
    scheme: 'Bearer',
  },
  answer: { status: 'TrangThaiGui', okValue: 0, refusedValue: 1, message: 'MoTa' },
  up: {
    'box-status': {
      method: 'POST',
      path: '/api/thietbi/trangthai',
      body: {
        object: {
          ...identity,
          // The vendors' agents send AmLuong as a string; the checker parses an int from it.
          AmLuong: { from: 'volume', as: 'string', required: true },
          TrangThaiHoatDong: { from: 'operating', codes: 'operating', required: true },
          TrangThaiKetNoi: { from: 'connection', required: true },
          ViDo: { from: 'lat', as: 'number', default: null },
          KinhDo: { from: 'lon', as: 'number', default: null },
          ThongTinThietBi: {
            object: {
              CongSuat: { from: 'powerW', as: 'number', default: null },
              NhietDo: { from: 'temperatureC', as: 'number', default: null },
              DungLuongSuDung: { from: 'storageUsedPct', as: 'number', default: null },
            },
          },
          ThoiDiemBatDau: { from: 'at', as: 'epoch-s', default: '$now' },
          NoiDungPhat: { from: 'nowPlaying', default: '' },
          PhienBanUngDung: { from: 'appVersion', default: '' },
        },
      },
    },
    'airing-start': {
      method: 'POST',
      path: '/api/nhatky/bantin',
      body: {
        object: {
          ...identity,
          BanTinID: { from: 'bulletin.id', required: true },
          ...airing,
          LoaiNhatKy: { const: 1 },
          ThoiDiemGui: { from: 'at', as: 'epoch-s', required: true },
        },
      },
    },
    'airing-end': {
      method: 'POST',
      path: '/api/nhatky/ketqua',
      body: {
        object: {
          // The checker's result log: NguonId, BanTinId, ThoiDiemGui, LoaiNhatKy not empty, GiaTri 0–1.
          NguonId: { from: 'source.id', required: true },
          TenNguon: { from: 'source.name', default: '' },
          DichID: { from: 'box.area.code', default: '{source.id}' },
          TenDich: { from: 'box.area.name', default: '' },
          // A vendor's result log may name no box: it is then the reporting system's as a whole.
          CumLoaID: { from: 'box.nationalId', default: '{source.id}' },
          TenThietBi: { from: 'box.name', default: '{box.nationalId}' },
          MaNhaCungCap: { from: 'box.vendor.code', default: '' },
          TenNhaCungCap: { from: 'box.vendor.name', default: '' },
          BanTinId: { from: 'bulletin.id', required: true },
          ...airing,
          LoaiNhatKy: { const: 2 },
          GiaTri: { from: 'ok', as: 'boolean-int', required: true },
          ThoiLuongDaPhat: { from: 'airedS', as: 'int', default: 0 },
          MoTa: { from: 'reason', default: '' },
          ThoiDiemGui: { from: 'at', as: 'epoch-s', required: true },
        },
      },
    },
    'schedule-ack': {
      method: 'POST',
      path: '/api/bantin/xacnhan',
      body: {
        object: {
          NguonID: { from: 'source.id', required: true },
          TenNguon: { from: 'source.name', default: '' },
          BanTinId: { from: 'bulletinId', required: true },
          TrangThai: { from: 'accepted', as: 'boolean-int', required: true },
          MoTa: { from: 'detail', default: '' },
          ThoiDiemGui: { from: 'at', as: 'epoch-s', default: '$now' },
        },
      },
    },
  },
  down: {
    bulletin: {
      method: 'POST',
      path: '/api/bantin',
      body: {
        // The checker's api5: these fields, required as it requires them. MucDoUuTien and NoiDung.LoaiBanTin are
        // ours in addition (a checker ignores them; a province that does not send them gets normal, audio).
        object: {
          NguonId: { from: 'source.id', required: true },
          TenNguon: { from: 'source.name', default: '' },
          BanTinId: { from: 'bulletinId', required: true },
          NgayBatDau: { from: 'startDate', as: 'iso-local', required: true },
          NgayKetThuc: { from: 'endDate', as: 'iso-local', required: true },
          CheDoPhat: { from: 'playMode', codes: 'playMode', required: true },
          LichPhat: schedule,
          TieuDe: { from: 'title', required: true },
          LinhVuc: { from: 'category', codes: 'category', required: true },
          NoiDungTomTat: { from: 'summary', required: true },
          ThoiGianSanXuat: { from: 'producedAt', as: 'iso-local', required: true },
          ThoiLuong: { from: 'durationS', as: 'int', default: 0 },
          TacGia: { from: 'author', required: true },
          NoiDung: { object: { Link: { from: 'link', required: true }, LoaiBanTin: { from: 'contentType', codes: 'contentType', default: 'audio' } } },
          DiaBanTao: { from: 'createdBy', required: true },
          DanhSachDiaBanNhan: { each: 'areaCodes', item: { from: '$', required: true }, required: true },
          MucDoUuTien: { from: 'priority', codes: 'priority', default: 'normal' },
        },
      },
    },
    'bulletin-delete': {
      method: 'POST',
      path: '/api/bantin/xoa',
      body: { object: { NguonId: { from: 'source.id', required: true }, TenNguon: { from: 'source.name', default: '' }, BanTinId: { from: 'bulletinId', required: true } } },
    },
    'bulletin-reschedule': {
      method: 'POST',
      path: '/api/bantin/lichphat',
      body: {
        object: {
          NguonId: { from: 'source.id', required: true },
          TenNguon: { from: 'source.name', default: '' },
          BanTinId: { from: 'bulletinId', required: true },
          NgayBatDau: { from: 'startDate', as: 'iso-local', required: true },
          NgayKetThuc: { from: 'endDate', as: 'iso-local', required: true },
          CheDoPhat: { from: 'playMode', codes: 'playMode', required: true },
          LichPhat: schedule,
        },
      },
    },
    'device-control': {
      method: 'POST',
      path: '/api/thietbi/dieukhien',
      body: {
        object: {
          NguonId: { from: 'source.id', required: true },
          TenNguon: { from: 'source.name', default: '' },
          DieuKhienThietBi: { object: { MaLenh: { from: 'command', codes: 'command', required: true }, ThamSo: { from: 'param', default: '' } } },
          DanhSachThietBi: { object: { CumLoaID: { each: 'boxes', item: { from: '$', required: true } } } },
          DanhSachDiaBanNhan: { each: 'areaCodes', item: { from: '$', required: true } },
        },
      },
    },
  },
  codes: {
    priority: [
      { internal: 'emergency', code: 1, label: 'Khẩn cấp' },
      { internal: 'priority', code: 2, label: 'Ưu tiên' },
      { internal: 'normal', code: 3, label: 'Thông thường' },
    ],
    // The six national topics of grassroots information (Circular 39/2020/TT-BTTTT), in the national order.
    category: [
      { internal: 'general', code: 1, label: 'Thông tin chung' },
      { internal: 'unscheduled-news', code: 2, label: 'Thông tin đột xuất, bất thường' },
      { internal: 'policy-law', code: 3, label: 'Chủ trương của Đảng, chính sách, pháp luật của Nhà nước' },
      { internal: 'local-direction', code: 4, label: 'Chỉ đạo, điều hành của địa phương' },
      { internal: 'knowledge', code: 5, label: 'Kiến thức khoa học, kỹ thuật, kinh tế, văn hóa, xã hội' },
      { internal: 'good-deeds', code: 6, label: 'Người tốt, việc tốt' },
    ],
    contentType: [
      { internal: 'text', code: 1, label: 'Văn bản' },
      { internal: 'image', code: 2, label: 'Hình ảnh' },
      { internal: 'audio', code: 3, label: 'Âm thanh' },
      { internal: 'video', code: 4, label: 'Video' },
      { internal: 'live', code: 5, label: 'Trực tiếp' },
      { internal: 'fm', code: 6, label: 'FM' },
    ],
    playMode: [
      { internal: 'scheduled', code: 0, label: 'Theo lịch' },
      { internal: 'now', code: 1, label: 'Phát ngay' },
      { internal: 'commune-decides', code: 2, label: 'Xã quyết định' },
    ],
    scheduleKind: [
      { internal: 'daily', code: 0, label: 'Hằng ngày' },
      { internal: 'weekly', code: 1, label: 'Hằng tuần' },
      { internal: 'monthly', code: 2, label: 'Hằng tháng' },
      { internal: 'dates', code: 3, label: 'Theo ngày' },
    ],
    // The national practice: 1 working, 0 not. Reading, the first entry of a code wins (1 idle, 0 fault: a box
    // that reports is connected); a parent tells playing from NoiDungPhat.
    operating: [
      { internal: 'idle', code: 1, label: 'Hoạt động' },
      { internal: 'playing', code: 1, label: 'Đang phát' },
      { internal: 'fault', code: 0, label: 'Lỗi' },
      { internal: 'offline', code: 0, label: 'Mất kết nối' },
    ],
    command: [
      { internal: 'volume', code: 0, label: 'Âm lượng' },
      { internal: 'restart', code: 1, label: 'Khởi động lại' },
      { internal: 'stop', code: 2, label: 'Dừng phát' },
    ],
  },
};
