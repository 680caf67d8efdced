/**
 * The national mapping engine (shared/src/national/codec.ts) with both shipped mappings (issue 17): every kind of
 * both variants written and read back gives the same model, over generated models; the Vietnamese bodies carry
 * the fields the published checker looks for, in its forms; a vendor's minimal records read with defaults; and
 * hostile bodies (wrong types, missing required fields, unknown codes, huge arrays, `__proto__` keys) are refused
 * with NationalDecodeError naming the province's field — never any other error, never a polluted prototype.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BULLETIN_CATEGORIES,
  NATIONAL_CONTENT_TYPES,
  NATIONAL_OPERATING_STATES,
  NationalDecodeError,
  PRIORITIES,
  SHIPPED_MAPPINGS,
  decodeAnswer,
  decodeDown,
  decodeLogin,
  decodeUp,
  encodeAnswer,
  encodeDown,
  encodeLogin,
  encodeToken,
  encodeUp,
  parseMapping,
  readToken,
  readMappingFile,
  resolveMapping,
  routeFor,
  viMapping,
  type DownstreamCommand,
  type Mapping,
  type UpstreamEvent,
} from '@loaxa/shared';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(20261207);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
/** Whole seconds: epoch-s fields carry no milliseconds. */
const time = () => int(1_700_000_000, 1_900_000_000) * 1000;
const word = () => pick(['', 'Loa 1', 'Thôn Đông', 'Bản tin "trưa"', '123', 'x'.repeat(150), 'Xã Tân Phú, huyện Đồng Xoài']);
const source = () => ({ id: pick(['H24', '25', 'X-1']), name: word() });
const box = () => ({ nationalId: pick(['356938035643809', 'dev-7', '0']), name: word(), area: { code: pick(['2401', '24']), name: word() }, vendor: { code: pick(['', 'VNPT']), name: word() } });
const hhmmss = () => `${String(int(0, 23)).padStart(2, '0')}:${String(int(0, 59)).padStart(2, '0')}:${String(int(0, 59)).padStart(2, '0')}`;

function upEvent(kind: UpstreamEvent['kind']): UpstreamEvent {
  const at = time();
  if (kind === 'box-status')
    return {
      kind,
      at,
      source: source(),
      box: box(),
      volume: int(0, 100),
      operating: pick(NATIONAL_OPERATING_STATES),
      connection: pick(['4G,-10dbm', 'WIFI,80%', 'ETHERNET', 'OFFLINE']),
      lat: pick([null, 21.0285, -0.5]),
      lon: pick([null, 105.8542, 180]),
      powerW: pick([null, 30, 12.5]),
      temperatureC: pick([null, 48.5, -3]),
      storageUsedPct: pick([null, 0, 37.25, 100]),
      nowPlaying: word(),
      appVersion: pick(['', '0.1.0']),
    };
  if (kind === 'schedule-ack') return { kind, at, source: source(), bulletinId: pick(['BT-1', '42']), accepted: rand() < 0.5, detail: pick(['inbox', 'aired', 'Không có địa bàn nhận']) };
  const base = {
    at,
    source: source(),
    box: box(),
    airingId: pick(['b1:1800000000000:dev-7', 'x']),
    bulletin: { id: pick(['BT-9', '77']), title: word(), category: pick(BULLETIN_CATEGORIES), summary: word(), durationS: int(0, 7200), author: word(), contentType: pick(NATIONAL_CONTENT_TYPES), producedAt: time() },
    priority: pick(PRIORITIES),
    startedAt: time(),
    relay: pick([null, { sourceName: 'VOV1' }, { sourceName: '' }]),
  };
  if (kind === 'airing-start') return { kind, ...base };
  const ok = rand() < 0.5;
  return { kind, ...base, ok, airedS: int(0, 3600), reason: ok ? '' : 'Hết thời gian chờ' };
}

function downCommand(kind: DownstreamCommand['kind']): DownstreamCommand {
  const sched = () => {
    const n = int(1, 4);
    return { kind: pick(['daily', 'weekly', 'monthly', 'dates'] as const), starts: Array.from({ length: n }, hhmmss), ends: Array.from({ length: int(0, n) }, hhmmss), days: Array.from({ length: int(0, 5) }, () => int(1, 31)) };
  };
  const window = () => {
    const s = time() + int(0, 999);
    return { startDate: s, endDate: s + int(0, 30) * 86_400_000 };
  };
  if (kind === 'bulletin')
    return {
      kind,
      source: source(),
      bulletinId: pick(['BT-1', '2021-0001']),
      title: pick(['Thông báo tiêm chủng', 'x'.repeat(500)]),
      category: pick(BULLETIN_CATEGORIES),
      summary: pick(['Tóm tắt', 'Nội dung dài '.repeat(20)]),
      author: pick(['UBND tỉnh', 'Sở TT&TT']),
      producedAt: time() + int(0, 999),
      durationS: int(0, 3600),
      priority: pick(PRIORITIES),
      playMode: pick(['scheduled', 'now', 'commune-decides'] as const),
      ...window(),
      schedule: sched(),
      contentType: pick(NATIONAL_CONTENT_TYPES),
      link: pick(['https://nguon.example.vn/a.mp3', 'http://10.0.0.1:8080/x?y=1']),
      createdBy: pick(['Tỉnh Bắc Giang', '24']),
      areaCodes: pick([['24'], ['2401', '2402', '240101']]),
    };
  if (kind === 'bulletin-delete') return { kind, source: source(), bulletinId: 'BT-1' };
  if (kind === 'bulletin-reschedule') return { kind, source: source(), bulletinId: 'BT-1', playMode: pick(['scheduled', 'now', 'commune-decides'] as const), ...window(), schedule: sched() };
  return { kind, source: source(), command: pick(['volume', 'restart', 'stop'] as const), param: pick(['', '70']), boxes: pick([[], ['356938035643809', 'dev-7']]), areaCodes: pick([[], ['2401']]) };
}

/** Where a code table gives two states one code (the Vietnamese 1 working / 0 not), the first listed is read back. */
function canonical(m: Mapping, e: UpstreamEvent): UpstreamEvent {
  if (e.kind !== 'box-status') return e;
  const code = m.codes.operating!.find((c) => c.internal === e.operating)!.code;
  return { ...e, operating: m.codes.operating!.find((c) => c.code === code)!.internal as typeof e.operating };
}

const json = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

for (const [name, m] of Object.entries(SHIPPED_MAPPINGS)) {
  t.test(`${name}: every upstream kind round-trips (200 generated models each)`, async (t) => {
    for (const kind of ['box-status', 'airing-start', 'airing-end', 'schedule-ack'] as const) {
      let bad = 0;
      for (let i = 0; i < 200; i++) {
        const e = upEvent(kind);
        const req = encodeUp(m, e);
        t.equal(routeFor(m, 'up', req.method, req.path), kind);
        const back = decodeUp(m, kind, json(req.body));
        if (JSON.stringify(back) !== JSON.stringify(canonical(m, e))) {
          if (bad++ < 2) t.same(back, canonical(m, e), `${kind} #${i}`);
        }
      }
      t.equal(bad, 0, `${kind}: decode(encode(x)) = x`);
    }
  });
  t.test(`${name}: every downstream kind round-trips (200 generated models each)`, async (t) => {
    for (const kind of ['bulletin', 'bulletin-delete', 'bulletin-reschedule', 'device-control'] as const) {
      let bad = 0;
      for (let i = 0; i < 200; i++) {
        const c = downCommand(kind);
        const req = encodeDown(m, c);
        t.equal(routeFor(m, 'down', req.method, req.path), kind);
        const back = decodeDown(m, kind, json(req.body));
        if (JSON.stringify(back) !== JSON.stringify(c)) {
          if (bad++ < 2) t.same(back, c, `${kind} #${i}`);
        }
      }
      t.equal(bad, 0, `${kind}: decode(encode(x)) = x`);
    }
  });
  t.test(`${name}: answers, login and token round-trip`, async (t) => {
    for (const a of [{ ok: true, message: '' }, { ok: false, message: 'Sai định dạng' }]) t.same(decodeAnswer(m, json(encodeAnswer(m, a))), a);
    const login = encodeLogin(m, { username: 'xa-2401', password: 'mật khẩu' });
    t.equal(routeFor(m, 'login', 'post', login.path), 'login');
    t.same(decodeLogin(m, json(login.body)), { username: 'xa-2401', password: 'mật khẩu' });
    t.same(readToken(m, json(encodeToken(m, { token: 'abc', expiresAt: 1_800_000_000_000 }))), { token: 'abc', expiresAt: 1_800_000_000_000 });
    t.same(readToken(m, json(encodeToken(m, { token: 'abc', expiresAt: null }))), { token: 'abc', expiresAt: null });
    const refused = encodeAnswer(m, { ok: false, message: 'Sai mật khẩu' });
    t.throws(() => readToken(m, refused), NationalDecodeError);
    t.throws(() => readToken(m, { whatever: 1 }), NationalDecodeError);
    t.throws(() => decodeAnswer(m, { [m.answer.status]: 7 }), NationalDecodeError);
    t.throws(() => decodeAnswer(m, 'OK'), NationalDecodeError);
    t.equal(routeFor(m, 'up', 'GET', '/nothing'), undefined);
  });
}

t.test('vi: the bodies carry the checker fields in the checker forms', async (t) => {
  const m = SHIPPED_MAPPINGS.vi;
  const status = upEvent('box-status') as Extract<UpstreamEvent, { kind: 'box-status' }>;
  const sb = encodeUp(m, { ...status, volume: 70, operating: 'playing', connection: '4G,-10dbm', at: 1_800_000_000_000 }).body as Record<string, unknown>;
  t.equal(sb.AmLuong, '70', 'AmLuong as a string, as the vendors send it');
  t.equal(sb.TrangThaiHoatDong, 1);
  t.equal(sb.TrangThaiKetNoi, '4G,-10dbm');
  t.equal(sb.ThoiDiemBatDau, 1_800_000_000);
  t.ok(sb.NguonID && sb.CumLoaID);
  t.same(Object.keys(sb.ThongTinThietBi as object), ['CongSuat', 'NhietDo', 'DungLuongSuDung']);

  const c = downCommand('bulletin') as Extract<DownstreamCommand, { kind: 'bulletin' }>;
  const bb = encodeDown(m, { ...c, startDate: Date.UTC(2021, 11, 30, 17), schedule: { kind: 'weekly', starts: ['06:30:00'], ends: ['07:00:00'], days: [1, 3] } }).body as Record<string, unknown>;
  t.equal(bb.NgayBatDau, '2021-12-31T00:00:00.00000', 'the checker example form, local time');
  t.same(bb.LichPhat, { KieuLich: 1, ThoiDiemBatDau: ['06:30:00.000000'], ThoiDiemKetThuc: ['07:00:00.000000'], DanhSachNgayPhat: [1, 3] });
  for (const f of ['NguonId', 'BanTinId', 'NgayKetThuc', 'CheDoPhat', 'TieuDe', 'LinhVuc', 'NoiDungTomTat', 'ThoiGianSanXuat', 'ThoiLuong', 'TacGia', 'DiaBanTao', 'DanhSachDiaBanNhan']) t.ok(f in bb, f);
  t.equal((bb.NoiDung as Record<string, unknown>).Link, c.link);

  const end = encodeUp(m, upEvent('airing-end')).body as Record<string, unknown>;
  for (const f of ['NguonId', 'BanTinId', 'ThoiDiemGui', 'LoaiNhatKy', 'GiaTri']) t.ok(f in end, f);
  t.equal(end.LoaiNhatKy, 2);
  t.ok(end.GiaTri === 0 || end.GiaTri === 1);
  const start = encodeUp(m, { ...(upEvent('airing-start') as Extract<UpstreamEvent, { kind: 'airing-start' }>), relay: { sourceName: 'VOV1' } }).body as Record<string, unknown>;
  t.equal(start.TiepAm, 1);
  t.equal(start.NguonTiepAm, 'VOV1');
  t.equal(start.LoaiNhatKy, 1);
});

t.test('en: codes travel as {id, value} pairs', async (t) => {
  const m = SHIPPED_MAPPINGS.en;
  const e = { ...(upEvent('airing-start') as Extract<UpstreamEvent, { kind: 'airing-start' }>), priority: 'emergency' as const };
  const b = encodeUp(m, e).body as Record<string, unknown>;
  t.same(b.Priority, { id: 1, value: 'Emergency' });
  t.ok(typeof b.Imei === 'string' && 'SourceId' in b && 'DestinationID' in b && 'StartTime' in b && 'Duration' in b);
  // The id decides; a pair without it, or a bare code, is refused as the checker refuses it.
  t.equal((decodeUp(m, 'airing-start', { ...b, Priority: { id: '2', value: 'whatever' } }) as typeof e).priority, 'priority');
  refuses(t, () => decodeUp(m, 'airing-start', { ...b, Priority: { value: 'Priority' } }), 'Priority.id');
  refuses(t, () => decodeUp(m, 'airing-start', { ...b, Priority: 3 }), 'Priority');
  refuses(t, () => decodeUp(m, 'airing-start', { ...b, Priority: { id: 9 } }), 'Priority.id');
  refuses(t, () => decodeUp(m, 'airing-start', { ...b, SentAt: 1_796_605_897_000 }), 'SentAt');
  refuses(t, () => decodeUp(m, 'airing-start', { ...b, StartTime: 1_796_605_800_000 }), 'StartTime');
});

t.test('vi: a vendor minimal record reads with defaults', async (t) => {
  const m = SHIPPED_MAPPINGS.vi;
  const end = decodeUp(m, 'airing-end', { NguonId: 'H24', BanTinId: 'BT-1', ThoiDiemGui: 1_800_000_000, LoaiNhatKy: 2, GiaTri: '1' });
  t.match(end, { kind: 'airing-end', at: 1_800_000_000_000, ok: true, startedAt: 1_800_000_000_000, relay: null, priority: 'normal', box: { nationalId: 'H24', area: { code: 'H24' } }, bulletin: { id: 'BT-1', category: 'general', contentType: 'audio' } });
  t.equal((end as { airingId: string }).airingId, 'BT-1@H24@1800000000000');
  // Another case for the keys (the checker writes CumLoaId), numbers as strings: still read.
  const st = decodeUp(m, 'box-status', { NguonId: 'H24', CumLoaId: 356938035643809, TrangThaiHoatDong: '1', TrangThaiKetNoi: 'WIFI,80%', AmLuong: '55' }, 1_800_000_000_123);
  t.match(st, { at: 1_800_000_000_123, volume: 55, operating: 'idle', box: { nationalId: '356938035643809', name: '356938035643809' }, lat: null, storageUsedPct: null, nowPlaying: '' });
  const relay = decodeUp(m, 'airing-start', { NguonID: 'H24', CumLoaID: 'a', BanTinID: 'b', ThoiDiemGui: 1, LoaiNhatKy: 1, TiepAm: 1 });
  t.same((relay as { relay: unknown }).relay, { sourceName: '' });
});

/** Asserts a body is refused with a decode error naming the field, and nothing else is thrown. */
function refuses(t: Test, fn: () => unknown, field: string | RegExp): void {
  try {
    fn();
    t.fail(`accepted, expected a refusal naming ${String(field)}`);
  } catch (e) {
    if (!(e instanceof NationalDecodeError)) {
      t.fail(`threw ${String(e)}`);
      return;
    }
    const fields = e.issues.map((i) => i.field);
    t.ok(
      fields.some((f) => (typeof field === 'string' ? f === field : field.test(f))),
      `names ${String(field)} (got ${fields.join(', ')}: ${e.message})`,
    );
  }
}

t.test('hostile bodies are refused by field, with NationalDecodeError only', async (t) => {
  const m = SHIPPED_MAPPINGS.vi;
  const good = json(encodeDown(m, downCommand('bulletin')).body) as Record<string, unknown>;
  const status = json(encodeUp(m, upEvent('box-status')).body) as Record<string, unknown>;
  refuses(t, () => decodeDown(m, 'bulletin', { ...good, TieuDe: '' }), 'TieuDe');
  refuses(t, () => decodeDown(m, 'bulletin', { ...good, TacGia: undefined }), 'TacGia');
  refuses(t, () => decodeDown(m, 'bulletin', { ...good, NoiDung: { Link: '' } }), 'NoiDung.Link');
  refuses(t, () => decodeDown(m, 'bulletin', { ...good, NoiDung: 'https://x' }), 'NoiDung');
  refuses(t, () => decodeDown(m, 'bulletin', { ...good, NoiDung: { Link: 'not a url' } }), 'NoiDung.Link');
  refuses(t, () => decodeDown(m, 'bulletin', { ...good, CheDoPhat: 3 }), 'CheDoPhat');
  refuses(t, () => decodeDown(m, 'bulletin', { ...good, LinhVuc: 99 }), 'LinhVuc');
  refuses(t, () => decodeDown(m, 'bulletin', { ...good, LinhVuc: { a: 1 } }), 'LinhVuc');
  refuses(t, () => decodeDown(m, 'bulletin', { ...good, ThoiLuong: -1 }), 'ThoiLuong');
  refuses(t, () => decodeDown(m, 'bulletin', { ...good, ThoiLuong: 'long' }), 'ThoiLuong');
  refuses(t, () => decodeDown(m, 'bulletin', { ...good, NgayBatDau: '2021-02-31T00:00:00' }), 'NgayBatDau');
  refuses(t, () => decodeDown(m, 'bulletin', { ...good, NgayKetThuc: 12 }), 'NgayKetThuc');
  refuses(t, () => decodeDown(m, 'bulletin', { ...good, LichPhat: { ...(good.LichPhat as object), KieuLich: 4 } }), 'LichPhat.KieuLich');
  refuses(t, () => decodeDown(m, 'bulletin', { ...good, LichPhat: { ...(good.LichPhat as object), ThoiDiemBatDau: ['25:00:00.000000'] } }), 'LichPhat.ThoiDiemBatDau[0]');
  refuses(t, () => decodeDown(m, 'bulletin', { ...good, LichPhat: { ...(good.LichPhat as object), ThoiDiemBatDau: [] } }), 'LichPhat.ThoiDiemBatDau');
  refuses(t, () => decodeDown(m, 'bulletin', { ...good, LichPhat: { ...(good.LichPhat as object), ThoiDiemBatDau: new Array(50).fill('06:00:00.000000') } }), 'LichPhat.ThoiDiemBatDau');
  refuses(t, () => decodeDown(m, 'bulletin', { ...good, DanhSachDiaBanNhan: new Array(1_000_000).fill('24') }), 'DanhSachDiaBanNhan');
  refuses(t, () => decodeDown(m, 'bulletin', { ...good, DanhSachDiaBanNhan: ['24', 'not-an-area'] }), 'DanhSachDiaBanNhan[1]');
  refuses(t, () => decodeDown(m, 'bulletin', { ...good, DanhSachDiaBanNhan: [] }), 'DanhSachDiaBanNhan');
  refuses(t, () => decodeDown(m, 'bulletin', { ...good, TieuDe: 'x'.repeat(100_000) }), 'TieuDe');
  refuses(t, () => decodeDown(m, 'device-control', { NguonId: 'H24', DieuKhienThietBi: { MaLenh: 9 } }), 'DieuKhienThietBi.MaLenh');
  refuses(t, () => decodeDown(m, 'bulletin-delete', { NguonId: 'H24' }), 'BanTinId');
  refuses(t, () => decodeUp(m, 'box-status', { ...status, AmLuong: '7o' }), 'AmLuong');
  refuses(t, () => decodeUp(m, 'box-status', { ...status, AmLuong: 101 }), 'AmLuong');
  refuses(t, () => decodeUp(m, 'box-status', { ...status, CumLoaID: '' }), 'CumLoaID');
  refuses(t, () => decodeUp(m, 'box-status', { ...status, TrangThaiHoatDong: 'on' }), 'TrangThaiHoatDong');
  refuses(t, () => decodeUp(m, 'box-status', { ...status, ViDo: 123 }), 'ViDo');
  refuses(t, () => decodeUp(m, 'airing-end', { NguonId: 'H24', BanTinId: 'b', ThoiDiemGui: 1, LoaiNhatKy: 2, GiaTri: 2 }), 'GiaTri');
  refuses(t, () => decodeUp(m, 'airing-end', { NguonId: 'H24', BanTinId: 'b', ThoiDiemGui: 1, LoaiNhatKy: '', GiaTri: 1 }), 'LoaiNhatKy');
  const start = json(encodeUp(m, upEvent('airing-start')).body) as Record<string, unknown>;
  refuses(t, () => decodeUp(m, 'airing-start', { ...start, ThoiDiemBatDau: 1_796_605_800_000 }), 'ThoiDiemBatDau');
  refuses(t, () => decodeUp(m, 'airing-start', { ...start, ThoiDiemBatDau: '2026-12-07 08:00:00' }), 'ThoiDiemBatDau');
  refuses(t, () => decodeDown(m, 'bulletin', { ...good, LichPhat: { ...(good.LichPhat as object), ThoiDiemBatDau: ['06:30:00'] } }), 'LichPhat.ThoiDiemBatDau[0]');
  refuses(t, () => decodeDown(m, 'bulletin', { ...good, LichPhat: { ...(good.LichPhat as object), ThoiDiemBatDau: ['06:30:00.0000000'] } }), 'LichPhat.ThoiDiemBatDau[0]');
  for (const body of [null, 'x', 42, [], [good], true]) refuses(t, () => decodeDown(m, 'bulletin', body), '(gốc)');
  refuses(t, () => decodeDown(m, 'nope' as 'bulletin', good), '(loại)');

  // Prototype keys: read as plain data at most, never reaching Object.prototype.
  const evil = JSON.parse(`{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 1}}, "NguonId": "H24", "BanTinId": "x"}`) as unknown;
  const d = decodeDown(m, 'bulletin-delete', evil);
  t.same(d, { kind: 'bulletin-delete', source: { id: 'H24', name: '' }, bulletinId: 'x' });
  t.equal(({} as Record<string, unknown>).polluted, undefined);
  const evilMapping = parseMapping({ ...viMapping, name: 'evil', up: { ...viMapping.up, 'schedule-ack': { method: 'POST', path: '/x', body: { object: { __proto__x: { const: 1 }, ['__proto__']: { from: 'bulletinId' } } } } } });
  const enc = encodeUp(evilMapping, { kind: 'schedule-ack', at: 0, source: { id: 'a', name: '' }, bulletinId: 'B', accepted: true, detail: '' }).body as object;
  t.equal(Object.getPrototypeOf(enc), Object.prototype);

  // Mutations of valid bodies: every field of every kind replaced by hostile values never throws anything else.
  const hostile: unknown[] = [null, '', 'x', -1, 1e300, 2 ** 53, [], [1], {}, { id: 1 }, true, 'x'.repeat(5000), '__proto__'];
  let others = 0;
  for (const [name, mm] of Object.entries(SHIPPED_MAPPINGS)) {
    const bodies: Array<['up' | 'down', string, Record<string, unknown>]> = [
      ...(['box-status', 'airing-start', 'airing-end', 'schedule-ack'] as const).map((k) => ['up', k, json(encodeUp(mm, upEvent(k)).body)] as ['up', string, Record<string, unknown>]),
      ...(['bulletin', 'bulletin-delete', 'bulletin-reschedule', 'device-control'] as const).map((k) => ['down', k, json(encodeDown(mm, downCommand(k)).body)] as ['down', string, Record<string, unknown>]),
    ];
    for (const [dir, kind, body] of bodies)
      for (const key of Object.keys(body))
        for (const v of hostile) {
          try {
            if (dir === 'up') decodeUp(mm, kind as 'box-status', { ...body, [key]: v });
            else decodeDown(mm, kind as 'bulletin', { ...body, [key]: v });
          } catch (e) {
            if (!(e instanceof NationalDecodeError)) {
              others++;
              t.fail(`${name} ${kind}.${key} = ${JSON.stringify(v)?.slice(0, 30)} threw ${String(e)}`);
            }
          }
        }
  }
  t.equal(others, 0, 'only NationalDecodeError');
});

t.test('parseMapping names what is wrong; resolveMapping reads a province file', async (t) => {
  t.throws(() => parseMapping({ ...viMapping, answer: { status: 'TrangThaiGui' } }), /answer\.okValue/);
  t.throws(() => parseMapping({ ...viMapping, up: { ...viMapping.up, 'box-status': { path: 'no-slash', body: { const: 1 } } } }), /up\.box-status\.path/);
  t.throws(() => parseMapping({ ...viMapping, codes: { priority: viMapping.codes.priority } }), /bảng mã "category"/);
  t.throws(() => parseMapping({ ...viMapping, extra: 1 }), /extra|Unrecognized|không hợp lệ/);
  const dir = mkdtempSync(join(tmpdir(), 'loaxa-mapping-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'tinh.json');
  writeFileSync(file, JSON.stringify({ ...viMapping, name: 'tinh-x' }));
  // A name in the mappings folder (never a path: issue 17 review).
  t.equal(resolveMapping('tinh', dir).name, 'tinh-x');
  t.equal(resolveMapping('tinh.json', dir).name, 'tinh-x');
  t.equal(resolveMapping('en'), SHIPPED_MAPPINGS.en);
  t.throws(() => resolveMapping(file, dir), /không phải tên ánh xạ/, 'a path is not a name');
  t.throws(() => resolveMapping('../tinh', dir), /không phải tên ánh xạ/);
  t.throws(() => resolveMapping('tinh'), /không phải tên ánh xạ/, 'no folder: only vi and en');
  writeFileSync(file, '{ nope');
  t.throws(() => resolveMapping('tinh', dir), /không phải JSON/);
  try {
    resolveMapping('tinh', dir);
  } catch (e) {
    t.notOk((e as Error).message.includes('nope'), 'the error does not quote the file');
  }
  writeFileSync(file, ' '.repeat(1_100_000));
  t.throws(() => resolveMapping('tinh', dir), /quá lớn/);
  t.throws(() => resolveMapping('missing', dir));
  t.throws(() => readMappingFile('/dev/zero'), /không phải tệp thường/, 'a device is refused, not read forever');
  t.throws(() => readMappingFile(dir), /không phải tệp thường/, 'a folder is refused');
});
