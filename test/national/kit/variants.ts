/**
 * The two province vocabularies as the conformance kit checks them (issue 17): for each path, which message it
 * is and the checker's rules for its fields (`./rules.ts`). Written by hand from the published checker's list
 * (CV 1273/BTTTT-TTCS practice) and the paths of `shared/src/national/mapping.ts`'s header — never derived from
 * our mappings, so a wrong field name, code or time form in them is refused here.
 *
 * Fields the checker names are checked as it does (required, ranges); other fields the vendors' agents send
 * are checked only for type and range when present, as a .NET model binder would bind them.
 */
import { checkFields, code, dotnetDateTime, epochSeconds, idValue, int, list, num, object, prop, text, timeOfDay, type Problem, type Rule } from './rules.js';

export type VariantName = 'vi' | 'en';
export type Direction = 'up' | 'down';
export const UP_KINDS = ['box-status', 'airing-start', 'airing-end', 'schedule-ack'] as const;
export const DOWN_KINDS = ['bulletin', 'bulletin-delete', 'bulletin-reschedule', 'device-control'] as const;
export type MessageKind = (typeof UP_KINDS)[number] | (typeof DOWN_KINDS)[number];
export const MESSAGE_KINDS: readonly MessageKind[] = [...UP_KINDS, ...DOWN_KINDS];

/** The six national topic codes (*LoaiLinhVuc* / *LinhVuc*). */
export const TOPIC_CODES = [1, 2, 3, 4, 5, 6] as const;

export interface PathSpec {
  kind: MessageKind;
  direction: Direction;
  fields: Record<string, Rule>;
}

export interface VariantSpec {
  name: VariantName;
  loginPath: string;
  /** The login body's user and password fields. */
  loginFields: { user: string; password: string };
  /** Builds the login answer carrying `token`, and any answer. */
  /** The login's answer. It does not say when the token expires: the link must renew it on 401. */
  tokenAnswer(token: string): unknown;
  answer(ok: boolean, message: string): unknown;
  /** Reads an answer (what a child returned to the kit acting as a parent). */
  readAnswer(body: unknown): { ok: boolean; message: string } | null;
  readToken(body: unknown): string | null;
  paths: Record<string, PathSpec>;
}

/** A rule that only needs a value to be there and not blank, whatever its type (*ThoiGianSanXuat*). */
const filled: Rule = (v, field, out) => {
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) out.push({ field, rule: 'required', message: `${field} không được để trống` });
};

/** *LoaiNhatKy*: "not empty" — the vendors send a code (1 start, 2 result) or a word; either, but something. */
const logType: Rule = (v, field, out) => {
  if (typeof v === 'number') return int({ min: 0 })(v, field, out);
  text({ required: true, max: 64 })(v, field, out);
};

/** A URL the box can fetch: http or https (*NoiDung.Link*). */
const link: Rule = (v, field, out) => {
  text({ required: true, max: 2000 })(v, field, out);
  if (typeof v === 'string' && v.trim() !== '' && !/^https?:\/\/[^\s/]+/i.test(v)) out.push({ field, rule: 'format', message: `${field} phải là địa chỉ http(s)` });
};

/** *DieuKhienThietBi*: MaLenh an int ≥ 0; for 0 (volume) ThamSo must read as an int 0–100. */
const control =
  (names: { code: string; param: string }, required: boolean): Rule =>
  (v, field, out) => {
    object({ [names.code]: int({ required: true, min: 0 }), [names.param]: (x, f, o) => (typeof x === 'number' ? int()(x, f, o) : text({ max: 64 })(x, f, o)) }, { required })(v, field, out);
    if (prop(v, names.code) === 0) int({ required: true, min: 0, max: 100, fromString: true })(prop(v, names.param), `${field}.${names.param}`, out);
  };

const vi = (() => {
  const source = { NguonID: text({ required: true, max: 64 }), TenNguon: text({ max: 200 }) };
  const box = { CumLoaID: text({ required: true, max: 64 }), TenThietBi: text({ max: 200 }), DichID: text({ max: 64 }), TenDich: text({ max: 200 }), MaNhaCungCap: text({ max: 64 }), TenNhaCungCap: text({ max: 200 }) };
  const schedule = {
    KieuLich: int({ required: true, min: 0, max: 3 }),
    ThoiDiemBatDau: list(timeOfDay, { nonEmpty: true, max: 48 }),
    ThoiDiemKetThuc: list(timeOfDay, { max: 48 }),
    DanhSachNgayPhat: list(int({ required: true, min: 0 }), { max: 366 }),
  };
  const playLog = {
    ...source,
    ...box,
    BanTinID: text({ required: true, max: 128 }),
    LoaiBanTin: int({ required: true, min: 1, max: 6 }),
    MucDoUuTien: int({ required: true, min: 1, max: 3 }),
    TieuDe: text({ max: 500 }),
    LoaiLinhVuc: code(TOPIC_CODES, { required: true }),
    NoiDungTomTat: text({ max: 2000 }),
    ThoiLuong: int({ min: 0 }),
    TacGia: text({ max: 200 }),
    ThoiDiemBatDau: epochSeconds({ required: true }),
    TiepAm: int({ min: 0, max: 1 }),
    NguonTiepAm: text({ max: 200 }),
    LoaiNhatKy: logType,
    ThoiDiemGui: epochSeconds({ required: true }),
  };
  const spec: VariantSpec = {
    name: 'vi',
    loginPath: '/api/auth/login',
    loginFields: { user: 'Username', password: 'Password' },
    tokenAnswer: (token) => ({ TrangThaiGui: 0, MoTa: 'Đăng nhập thành công', NoiDung: { Token: token } }),
    answer: (ok, message) => ({ TrangThaiGui: ok ? 0 : 1, MoTa: message }),
    readAnswer: (b) => {
      const s = prop(b, 'TrangThaiGui');
      return s === 0 || s === 1 ? { ok: s === 0, message: String(prop(b, 'MoTa') ?? '') } : null;
    },
    readToken: (b) => {
      const t = prop(prop(b, 'NoiDung'), 'Token');
      return prop(b, 'TrangThaiGui') === 0 && typeof t === 'string' && t ? t : null;
    },
    paths: {
      '/api/thietbi/trangthai': {
        kind: 'box-status',
        direction: 'up',
        fields: {
          ...source,
          ...box,
          AmLuong: int({ required: true, min: 0, max: 100, fromString: true }),
          TrangThaiHoatDong: int({ required: true }),
          TrangThaiKetNoi: text({ required: true, max: 64 }),
          ViDo: num({ min: -90, max: 90 }),
          KinhDo: num({ min: -180, max: 180 }),
          ThongTinThietBi: object({ CongSuat: num({ min: 0 }), NhietDo: num({ min: -50, max: 150 }), DungLuongSuDung: num({ min: 0, max: 100 }) }),
          NoiDungPhat: text({ max: 500 }),
          PhienBanUngDung: text({ max: 64 }),
          ThoiDiemGui: epochSeconds(),
        },
      },
      '/api/nhatky/bantin': { kind: 'airing-start', direction: 'up', fields: playLog },
      '/api/nhatky/ketqua': {
        kind: 'airing-end',
        direction: 'up',
        // The checker's result log: NguonId, BanTinId, ThoiDiemGui, LoaiNhatKy not empty, GiaTri 0–1.
        fields: { ...playLog, CumLoaID: text({ max: 64 }), LoaiBanTin: int({ min: 1, max: 6 }), MucDoUuTien: int({ min: 1, max: 3 }), LoaiLinhVuc: code(TOPIC_CODES), ThoiDiemBatDau: epochSeconds(), GiaTri: int({ required: true, min: 0, max: 1 }), MoTa: text({ max: 2000 }) },
      },
      '/api/bantin/xacnhan': {
        kind: 'schedule-ack',
        direction: 'up',
        fields: { ...source, BanTinId: text({ required: true, max: 128 }), GiaTri: int({ min: 0, max: 1 }), TrangThai: int({ min: 0, max: 1 }), MoTa: text({ max: 2000 }), ThoiDiemGui: epochSeconds() },
      },
      '/api/bantin': {
        kind: 'bulletin',
        direction: 'down',
        // The checker's "api5": every one of these not empty, the dates DateTime, the schedule's forms exact.
        fields: {
          ...source,
          BanTinId: text({ required: true, max: 128 }),
          TieuDe: text({ required: true, max: 500 }),
          LinhVuc: code(TOPIC_CODES, { required: true }),
          NoiDungTomTat: text({ required: true, max: 2000 }),
          ThoiGianSanXuat: filled,
          TacGia: text({ required: true, max: 200 }),
          DiaBanTao: text({ required: true, max: 200 }),
          DanhSachDiaBanNhan: list(text({ required: true, max: 64 }), { nonEmpty: true, max: 5000 }),
          NoiDung: object({ Link: link, LoaiBanTin: int({ min: 1, max: 6 }) }, { required: true }),
          NgayBatDau: dotnetDateTime({ required: true }),
          NgayKetThuc: dotnetDateTime({ required: true }),
          LichPhat: object(schedule, { required: true }),
          CheDoPhat: int({ required: true, min: 0, max: 2 }),
          ThoiLuong: int({ min: 0 }),
          MucDoUuTien: int({ min: 1, max: 3 }),
          LoaiBanTin: int({ min: 1, max: 6 }),
        },
      },
      '/api/bantin/xoa': { kind: 'bulletin-delete', direction: 'down', fields: { ...source, BanTinId: text({ required: true, max: 128 }) } },
      '/api/bantin/lichphat': {
        kind: 'bulletin-reschedule',
        direction: 'down',
        fields: { ...source, BanTinId: text({ required: true, max: 128 }), NgayBatDau: dotnetDateTime({ required: true }), NgayKetThuc: dotnetDateTime({ required: true }), CheDoPhat: int({ required: true, min: 0, max: 2 }), LichPhat: object(schedule) },
      },
      '/api/thietbi/dieukhien': {
        kind: 'device-control',
        direction: 'down',
        fields: {
          ...source,
          DieuKhienThietBi: control({ code: 'MaLenh', param: 'ThamSo' }, true),
          DanhSachThietBi: object({ CumLoaID: list(text({ required: true, max: 64 }), { max: 10_000 }) }),
          DanhSachDiaBanNhan: list(text({ required: true, max: 64 }), { max: 5000 }),
        },
      },
    },
  };
  return spec;
})();

const en = (() => {
  const source = { SourceId: text({ required: true, max: 64 }), SourceName: text({ max: 200 }) };
  const box = { Imei: text({ required: true, max: 64 }), DeviceName: text({ max: 200 }), DestinationID: text({ max: 64 }), DestinationName: text({ max: 200 }), VendorCode: text({ max: 64 }), VendorName: text({ max: 200 }) };
  const schedule = {
    Type: int({ required: true, min: 0, max: 3 }),
    StartTimes: list(timeOfDay, { nonEmpty: true, max: 48 }),
    EndTimes: list(timeOfDay, { max: 48 }),
    Days: list(int({ required: true, min: 0 }), { max: 366 }),
  };
  const playLog = {
    ...source,
    ...box,
    NewsId: text({ required: true, max: 128 }),
    ContentType: idValue({ required: true, min: 1, max: 6 }),
    Priority: idValue({ required: true, min: 1, max: 3 }),
    Title: text({ max: 500 }),
    Category: idValue({ required: true, min: 1, max: 6 }),
    Summary: text({ max: 2000 }),
    Duration: int({ min: 0 }),
    Author: text({ max: 200 }),
    // The English variant writes the play log's times with their offset (ISO), the send time as epoch seconds.
    StartTime: dotnetDateTime({ required: true }),
    ProducedAt: dotnetDateTime(),
    Relay: int({ min: 0, max: 1 }),
    RelaySource: text({ max: 200 }),
    LogType: logType,
    SentAt: epochSeconds({ required: true }),
  };
  const spec: VariantSpec = {
    name: 'en',
    loginPath: '/api/auth/token',
    loginFields: { user: 'Username', password: 'Password' },
    tokenAnswer: (token) => ({ Status: 0, Message: 'OK', Data: { Token: token } }),
    answer: (ok, message) => ({ Status: ok ? 0 : 1, Message: message }),
    readAnswer: (b) => {
      const s = prop(b, 'Status');
      return s === 0 || s === 1 ? { ok: s === 0, message: String(prop(b, 'Message') ?? '') } : null;
    },
    readToken: (b) => {
      const t = prop(prop(b, 'Data'), 'Token');
      return prop(b, 'Status') === 0 && typeof t === 'string' && t ? t : null;
    },
    paths: {
      '/api/device/status': {
        kind: 'box-status',
        direction: 'up',
        fields: {
          ...source,
          ...box,
          Volume: int({ required: true, min: 0, max: 100, fromString: true }),
          OperatingStatus: idValue({ required: true, min: 0, max: 3 }),
          NetworkInfo: text({ required: true, max: 64 }),
          Latitude: num({ min: -90, max: 90 }),
          Longitude: num({ min: -180, max: 180 }),
          DeviceInfo: object({ Power: num({ min: 0 }), Temperature: num({ min: -50, max: 150 }), StorageUsed: num({ min: 0, max: 100 }) }),
          NowPlaying: text({ max: 500 }),
          AppVersion: text({ max: 64 }),
          Time: epochSeconds(),
        },
      },
      '/api/log/play': { kind: 'airing-start', direction: 'up', fields: playLog },
      '/api/log/result': {
        kind: 'airing-end',
        direction: 'up',
        fields: { ...playLog, ContentType: idValue({ min: 1, max: 6 }), Priority: idValue({ min: 1, max: 3 }), Category: idValue({ min: 1, max: 6 }), Imei: text({ max: 64 }), StartTime: dotnetDateTime(), Result: int({ required: true, min: 0, max: 1 }), Description: text({ max: 2000 }) },
      },
      '/api/news/ack': { kind: 'schedule-ack', direction: 'up', fields: { ...source, NewsId: text({ required: true, max: 128 }), Accepted: int({ min: 0, max: 1 }), Description: text({ max: 2000 }), SentAt: epochSeconds() } },
      '/api/news': {
        kind: 'bulletin',
        direction: 'down',
        fields: {
          ...source,
          NewsId: text({ required: true, max: 128 }),
          Title: text({ required: true, max: 500 }),
          Category: idValue({ required: true, min: 1, max: 6 }),
          Summary: text({ required: true, max: 2000 }),
          ProducedAt: filled,
          Author: text({ required: true, max: 200 }),
          CreatedArea: text({ required: true, max: 200 }),
          ReceivingAreas: list(text({ required: true, max: 64 }), { nonEmpty: true, max: 5000 }),
          Content: object({ Link: link, ContentType: idValue({ min: 1, max: 6 }) }, { required: true }),
          StartDate: dotnetDateTime({ required: true }),
          EndDate: dotnetDateTime({ required: true }),
          Schedule: object(schedule, { required: true }),
          PlayMode: int({ required: true, min: 0, max: 2 }),
          Duration: int({ min: 0 }),
          Priority: idValue({ min: 1, max: 3 }),
        },
      },
      '/api/news/delete': { kind: 'bulletin-delete', direction: 'down', fields: { ...source, NewsId: text({ required: true, max: 128 }) } },
      '/api/news/schedule': {
        kind: 'bulletin-reschedule',
        direction: 'down',
        fields: { ...source, NewsId: text({ required: true, max: 128 }), StartDate: dotnetDateTime({ required: true }), EndDate: dotnetDateTime({ required: true }), PlayMode: int({ required: true, min: 0, max: 2 }), Schedule: object(schedule) },
      },
      '/api/device/control': {
        kind: 'device-control',
        direction: 'down',
        fields: {
          ...source,
          Control: control({ code: 'Command', param: 'Param' }, true),
          Devices: object({ Imei: list(text({ required: true, max: 64 }), { max: 10_000 }) }),
          Areas: list(text({ required: true, max: 64 }), { max: 5000 }),
        },
      },
    },
  };
  return spec;
})();

export const VARIANTS: Record<VariantName, VariantSpec> = { vi, en };

/** The path of `kind` in `variant`. */
export function pathOf(variant: VariantSpec, kind: MessageKind): string {
  const hit = Object.entries(variant.paths).find(([, p]) => p.kind === kind);
  if (!hit) throw new Error(`no path for ${kind} in ${variant.name}`);
  return hit[0];
}

/** Checks a body as the checker does for the message at `path`. */
export function checkMessage(variant: VariantSpec, path: string, body: unknown): Problem[] {
  const spec = variant.paths[path];
  if (!spec) return [{ field: '$', rule: 'path', message: `Không có dịch vụ ${path}` }];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return [{ field: '$', rule: 'type', message: 'Nội dung phải là một đối tượng JSON' }];
  const out: Problem[] = [];
  checkFields(spec.fields, body, '', out);
  return out;
}
