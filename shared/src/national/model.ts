/**
 * The national link's internal event model (issue 17; ARCHITECTURE.md § The national link).
 *
 * Under Decision 135/QĐ-TTg and guide CV 1273/BTTTT-TTCS every commune system reports to its province's source
 * information system (*HTTT nguồn*) and takes bulletins from it. No specification is published; the provinces'
 * code bases share a vocabulary (Vietnamese field names in most provinces, English ones in at least one). Loa Xã
 * speaks ONE model inside and maps it to a province's vocabulary at the edge with a mapping (`./mapping.ts`):
 * the server's upstream link encodes these messages going up and decodes those coming down, and a Loa Xã server
 * that plays the province's (or the nation's) part decodes what its children send and encodes what it sends
 * down. Nothing outside `server/src/national/` and this folder knows a province field name.
 *
 * Times are epoch milliseconds here; a mapping says how a province writes them (epoch seconds, local ISO …).
 * A box is named upstream by its `nationalId` (*CumLoaID*: in practice the modem's IMEI; our device id when the
 * installer left it empty).
 */
import { z } from 'zod';
import { areaCodeSchema } from '../ids.js';
import { BULLETIN_CATEGORIES, PRIORITIES } from '../api/enums.js';

const epochMs = z.number().int().nonnegative();
const text = (max: number) => z.string().max(max);

/** The system that sends a message: a commune system reporting up, or a source system sending down. */
export const nationalSystemSchema = z.object({
  /** *NguonID* / `SourceId`: the system's code (a province code such as `H24` or an area code). */
  id: z.string().min(1).max(64),
  /** *TenNguon*: its name. */
  name: text(200),
});
export type NationalSystem = z.infer<typeof nationalSystemSchema>;

/** The receiving area of a report or a bulletin: *DichID* / *TenDich* (`DestinationID`). */
export const nationalAreaSchema = z.object({ code: z.string().min(1).max(64), name: text(200) });
export type NationalArea = z.infer<typeof nationalAreaSchema>;

/** Who made the box: *MaNhaCungCap*, *TenNhaCungCap*. */
export const nationalVendorSchema = z.object({ code: z.string().max(64), name: text(200) });

/** A box as the source system knows it. */
export const nationalBoxSchema = z.object({
  /** *CumLoaID* / `Imei`. */
  nationalId: z.string().min(1).max(64),
  /** *TenThietBi*. */
  name: text(200),
  /** The box's commune (our area code); the mapping turns it into *DichID* with the area's name. */
  area: nationalAreaSchema,
  vendor: nationalVendorSchema,
});
export type NationalBox = z.infer<typeof nationalBoxSchema>;

/**
 * What the box is doing, for *TrangThaiHoatDong*: the national practice writes 1 for working and 0 for not; we
 * keep the reason so a mapping with a richer code table can say it.
 */
export const NATIONAL_OPERATING_STATES = ['playing', 'idle', 'fault', 'offline'] as const;

/** A box's status, every 30 s per box (`LOAXA_NATIONAL_STATUS_SECONDS`). */
export const boxStatusEventSchema = z.object({
  kind: z.literal('box-status'),
  at: epochMs,
  source: nationalSystemSchema,
  box: nationalBoxSchema,
  /** *AmLuong*, 0–100. */
  volume: z.number().int().min(0).max(100),
  operating: z.enum(NATIONAL_OPERATING_STATES),
  /** *TrangThaiKetNoi*: `4G,-10dbm`, `WIFI,80%`, `ETHERNET`, `OFFLINE`. */
  connection: text(64),
  lat: z.number().min(-90).max(90).nullable(),
  lon: z.number().min(-180).max(180).nullable(),
  /** *ThongTinThietBi*: power (W), temperature (°C), storage used (%); null when the box does not say. */
  powerW: z.number().nullable(),
  temperatureC: z.number().nullable(),
  storageUsedPct: z.number().min(0).max(100).nullable(),
  /** *NoiDungPhat*: the title of what is airing, '' when nothing. */
  nowPlaying: text(500),
  /** *PhienBanUngDung*. */
  appVersion: text(64),
});
export type BoxStatusEvent = z.infer<typeof boxStatusEventSchema>;

/**
 * What kind of content aired, *LoaiBanTin*: 1 text, 2 image, 3 audio, 4 video, 5 live, 6 FM. A synthesized
 * bulletin airs as audio (3) — the box plays sound, not text; a relay of radio is 6 (FM) with *TiepAm* = 1; a
 * live voice is 5. A programme airs as 3.
 */
export const NATIONAL_CONTENT_TYPES = ['text', 'image', 'audio', 'video', 'live', 'fm'] as const;
export type NationalContentType = (typeof NATIONAL_CONTENT_TYPES)[number];

/** The bulletin part of a play log: *BanTinID*, *TieuDe*, *LoaiLinhVuc*, *NoiDungTomTat*, *ThoiLuong*, *TacGia*. */
export const nationalBulletinInfoSchema = z.object({
  /** The upstream's *BanTinId* when the bulletin came down from it, else ours. */
  id: z.string().min(1).max(128),
  title: text(500),
  category: z.enum(BULLETIN_CATEGORIES),
  summary: text(2000),
  /** Seconds; a stream with no set length reports the seconds it was planned for (0 when open-ended). */
  durationS: z.number().int().nonnegative(),
  author: text(200),
  contentType: z.enum(NATIONAL_CONTENT_TYPES),
  /** When the content was produced (*ThoiGianSanXuat*). */
  producedAt: epochMs,
});
export type NationalBulletinInfo = z.infer<typeof nationalBulletinInfoSchema>;

/**
 * One airing on one box. `airing-start` is sent when the box reports `playing`; `airing-end` with `ok` (the
 * national *GiaTri* 1 completed, 0 failed) when it reports `played`, `failed` or `missed`. A relay carries
 * `relay` (*TiepAm* = 1, *NguonTiepAm*); a live voice has contentType `live`.
 */
const airingBase = {
  at: epochMs,
  source: nationalSystemSchema,
  box: nationalBoxSchema,
  /** Our id of this airing (broadcast, occurrence, device): the outbox dedupes on it and a parent pairs start and end by it. */
  airingId: z.string().min(1).max(200),
  bulletin: nationalBulletinInfoSchema,
  priority: z.enum(PRIORITIES),
  startedAt: epochMs,
  relay: z.object({ sourceName: text(200) }).nullable(),
};
export const airingStartEventSchema = z.object({ kind: z.literal('airing-start'), ...airingBase });
export const airingEndEventSchema = z.object({
  kind: z.literal('airing-end'),
  ...airingBase,
  ok: z.boolean(),
  /** Seconds actually aired (a relay's or live's `airedMs`, a file's length when played). */
  airedS: z.number().int().nonnegative(),
  /** Why it failed, for MoTa and the log; '' when ok. */
  reason: text(500),
});
export type AiringStartEvent = z.infer<typeof airingStartEventSchema>;
export type AiringEndEvent = z.infer<typeof airingEndEventSchema>;

/** Our answer about a bulletin that came down: taken into a Circular 39 path, or refused with the reason. */
export const scheduleAckEventSchema = z.object({
  kind: z.literal('schedule-ack'),
  at: epochMs,
  source: nationalSystemSchema,
  /** The upstream's *BanTinId*. */
  bulletinId: z.string().min(1).max(128),
  accepted: z.boolean(),
  /** What happened: `inbox`, `aired`, `scheduled`, `deleted`, `rescheduled`, or why it was refused. */
  detail: text(500),
});
export type ScheduleAckEvent = z.infer<typeof scheduleAckEventSchema>;

/** Everything that goes up, through the outbox, in order. */
export const upstreamEventSchema = z.discriminatedUnion('kind', [boxStatusEventSchema, airingStartEventSchema, airingEndEventSchema, scheduleAckEventSchema]);
export type UpstreamEvent = z.infer<typeof upstreamEventSchema>;
export const UPSTREAM_EVENT_KINDS = ['box-status', 'airing-start', 'airing-end', 'schedule-ack'] as const;
export type UpstreamEventKind = (typeof UPSTREAM_EVENT_KINDS)[number];

/** A time of day `HH:mm:ss` (local, Asia/Ho_Chi_Minh); the mapping writes the province's form (`HH:mm:ss.ffffff`). */
export const nationalTimeOfDaySchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$/, 'must be HH:mm:ss');

/**
 * *CheDoPhat*, how a bulletin that came down airs (the checker allows 0–2). We read 0 as the schedule given
 * (*LichPhat*), 1 as at once (*phát ngay*), 2 as the commune decides (into the inbox, waiting for the commune).
 */
export const NATIONAL_PLAY_MODES = ['scheduled', 'now', 'commune-decides'] as const;

/**
 * *LichPhat.KieuLich* (0–3): 0 once on each date from start to end (daily between the dates), 1 weekly on
 * *DanhSachNgayPhat* (1 Monday … 7 Sunday), 2 monthly on *DanhSachNgayPhat* (days of the month), 3 on the
 * listed dates only (*DanhSachNgayPhat* as yyyymmdd numbers).
 */
export const NATIONAL_SCHEDULE_KINDS = ['daily', 'weekly', 'monthly', 'dates'] as const;

export const nationalScheduleSchema = z.object({
  kind: z.enum(NATIONAL_SCHEDULE_KINDS),
  /** Start times of day; each airing lasts until the matching end time (*ThoiDiemKetThuc*) or its length. */
  starts: z.array(nationalTimeOfDaySchema).min(1).max(48),
  ends: z.array(nationalTimeOfDaySchema).max(48),
  days: z.array(z.number().int().nonnegative()).max(366),
});
export type NationalSchedule = z.infer<typeof nationalScheduleSchema>;

/** A bulletin sent down with its schedule (the checker's "api5"). */
export const downBulletinSchema = z.object({
  kind: z.literal('bulletin'),
  source: nationalSystemSchema,
  /** *BanTinId*: the upstream's id; delete and reschedule name it. */
  bulletinId: z.string().min(1).max(128),
  title: z.string().min(1).max(500),
  category: z.enum(BULLETIN_CATEGORIES),
  summary: text(2000),
  author: text(200),
  producedAt: epochMs,
  durationS: z.number().int().nonnegative(),
  priority: z.enum(PRIORITIES),
  playMode: z.enum(NATIONAL_PLAY_MODES),
  /** *NgayBatDau* / *NgayKetThuc*: the window the schedule runs in. */
  startDate: epochMs,
  endDate: epochMs,
  schedule: nationalScheduleSchema,
  /** *NoiDung.Link*: where the audio is (http/https only; fetched through the relay address guard). */
  contentType: z.enum(NATIONAL_CONTENT_TYPES),
  link: z.string().url().max(2000),
  /** *DiaBanTao*: the area that made it. */
  createdBy: text(200),
  /** *DanhSachDiaBanNhan*: our area codes (province or commune) that receive it. */
  areaCodes: z.array(areaCodeSchema).min(1).max(5000),
});
export type DownBulletin = z.infer<typeof downBulletinSchema>;

/** Delete a bulletin that came down (the checker's "api6"): cancels what is ahead and stops what airs. */
export const downDeleteSchema = z.object({ kind: z.literal('bulletin-delete'), source: nationalSystemSchema, bulletinId: z.string().min(1).max(128) });
/** Move a bulletin that came down to a new window and schedule (the checker's "api7"). */
export const downRescheduleSchema = z.object({
  kind: z.literal('bulletin-reschedule'),
  source: nationalSystemSchema,
  bulletinId: z.string().min(1).max(128),
  playMode: z.enum(NATIONAL_PLAY_MODES),
  startDate: epochMs,
  endDate: epochMs,
  schedule: nationalScheduleSchema,
});

/**
 * *DieuKhienThietBi{MaLenh, ThamSo}*: 0 volume (ThamSo 0–100); the others we know map to our maintenance
 * commands (`restart`, `stop` the current airing). Unknown codes are refused with the reason.
 */
export const NATIONAL_DEVICE_COMMANDS = ['volume', 'restart', 'stop'] as const;
export const downDeviceControlSchema = z.object({
  kind: z.literal('device-control'),
  source: nationalSystemSchema,
  command: z.enum(NATIONAL_DEVICE_COMMANDS),
  param: text(64),
  /** *DanhSachThietBi.CumLoaID*: boxes by national id; empty means every box of `areaCodes`. */
  boxes: z.array(z.string().min(1).max(64)).max(10_000),
  areaCodes: z.array(areaCodeSchema).max(5000),
});

export type DownDelete = z.infer<typeof downDeleteSchema>;
export type DownReschedule = z.infer<typeof downRescheduleSchema>;
export type DownDeviceControl = z.infer<typeof downDeviceControlSchema>;

/** Everything a source system sends down to a commune system (or a centre to a province). */
export const downstreamCommandSchema = z.discriminatedUnion('kind', [downBulletinSchema, downDeleteSchema, downRescheduleSchema, downDeviceControlSchema]);
export type DownstreamCommand = z.infer<typeof downstreamCommandSchema>;
export const DOWNSTREAM_COMMAND_KINDS = ['bulletin', 'bulletin-delete', 'bulletin-reschedule', 'device-control'] as const;
export type DownstreamCommandKind = (typeof DOWNSTREAM_COMMAND_KINDS)[number];

/** The answer to every request of the link, both ways (*TrangThaiGui* 0 accepted, 1 refused; *MoTa*). */
export const nationalAnswerSchema = z.object({ ok: z.boolean(), message: text(2000) });
export type NationalAnswer = z.infer<typeof nationalAnswerSchema>;

/** The login of the link: a user and password in, a token out (renewed on 401). */
export const nationalLoginSchema = z.object({ username: z.string().min(1).max(200), password: z.string().min(1).max(500) });
export const nationalTokenSchema = z.object({ token: z.string().min(1).max(4096), expiresAt: epochMs.nullable() });
export type NationalLogin = z.infer<typeof nationalLoginSchema>;
export type NationalToken = z.infer<typeof nationalTokenSchema>;
