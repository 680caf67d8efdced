/**
 * The HTTP API as the web app sees it, written by hand from server/src/routes/*.ts and CONTRACTS.md.
 */

export type Role = 'province-admin' | 'approver' | 'operator' | 'viewer';
export type Priority = 'normal' | 'priority' | 'emergency';

export const DELIVERY_STATES = ['queued', 'sent', 'acknowledged', 'cached', 'playing', 'played', 'failed', 'missed', 'cancelled', 'expired'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export const BULLETIN_CATEGORIES = ['general', 'unscheduled-news', 'policy-law', 'local-direction', 'knowledge', 'good-deeds'] as const;
export type BulletinCategory = (typeof BULLETIN_CATEGORIES)[number];

export const VOICES = ['vi', 'vi-vn-x-central', 'vi-vn-x-south'] as const;
export type Voice = (typeof VOICES)[number];

export interface ErrorBody {
  error: { code: string; message: string; fields?: { path: string; message: string }[] };
}

/** CONTRACTS.md § Lists. */
export interface Page<T> {
  items: T[];
  total: number;
  next: string | null;
}

export interface LoginResponse {
  token: string;
  expiresAt: string;
}

/** `GET /api/v1/me`. `area` and `can` may be absent (older servers; the app then derives them from `role`). */
export interface Me {
  id: string;
  username: string;
  role: Role;
  areaCode: string | null;
  area?: { code: string; name: string; type: string } | null;
  can?: { write: boolean; approve: boolean; manageUsers: boolean; importAreas: boolean };
}

export interface User {
  id: string;
  username: string;
  role: Role;
  areaCode: string | null;
  disabled: boolean;
  createdAt: string;
}

export interface AreaNode {
  code: string;
  name: string;
  type: string;
  children: AreaNode[];
}

export interface Device {
  id: string;
  name: string;
  areaCode: string;
  lat: number | null;
  lon: number | null;
  state: 'online' | 'offline';
  lastSeenAt: string | null;
  agentVersion: string | null;
  volume: number | null;
  createdAt: string;
  faults: string[];
  health: Record<string, unknown> | null;
}
export type DeviceStateFilter = 'online' | 'offline' | 'faulty';

export interface ReportSpan {
  /** Code point offsets in the NFC text, end exclusive. */
  start: number;
  end: number;
  text: string;
  rule: string;
  reading?: string;
}

export interface TtsPreviewRequest {
  text: string;
  voice?: Voice;
  speed?: number;
  style?: 'north' | 'south';
}
export interface TtsPreview {
  words: string;
  sentences: string[];
  report: { rewritten: ReportSpan[]; unread: ReportSpan[] };
  /** `signedUrl` is what a browser can play (the session cookie does not open `/media`), until `signedUrlExpiresAt`. */
  audio: { sha256: string; durationMs: number; url: string; engine: string; signedUrl: string; signedUrlExpiresAt: string };
}

export interface BulletinCreate {
  title: string;
  text: string;
  category?: BulletinCategory;
  voice?: Voice;
  speed?: number;
}
/** `POST /api/v1/bulletins/upload` (multipart/form-data): the server decodes `file` to check it is audio. */
export interface BulletinUpload {
  title: string;
  category?: BulletinCategory;
  file: Blob;
  /** The name sent with the file (a label only); defaults to the File's own name. */
  fileName?: string;
}
export type BulletinCreated =
  | { id: string; status: 'ready'; audio: { sha256: string; durationMs: number; signedUrl: string; signedUrlExpiresAt: string } }
  | { id: string; status: 'synthesizing'; progress: number };

export interface Bulletin {
  id: string;
  title: string;
  text: string;
  category: string | null;
  voice: string;
  speed: number;
  status: 'synthesizing' | 'ready' | 'failed';
  progress: number;
  stage: string | null;
  error: string | null;
  audio: {
    sha256: string;
    durationMs: number;
    bytes: number | null;
    url: string;
    engine: string | null;
    lufs: number | null;
    truePeakDb: number | null;
    mp3Url: string | null;
    /** Links a browser can open (signed for this user), until `signedUrlExpiresAt`. */
    signedUrl: string;
    mp3SignedUrl: string | null;
    signedUrlExpiresAt: string;
  } | null;
  createdAt: string;
}

/** CONTRACTS.md § Schedules. */
export interface Repeat {
  times: number;
  gapSeconds: number;
}
interface RangeFields {
  from?: string;
  until?: string;
  repeat?: Repeat;
}
export type Schedule =
  | { kind: 'once'; at: string; repeat?: Repeat }
  | ({ kind: 'daily'; times: string[] } & RangeFields)
  | ({ kind: 'weekly'; weekdays: number[]; times: string[] } & RangeFields)
  | ({ kind: 'monthly'; days: number[]; times: string[] } & RangeFields)
  | ({ kind: 'monthly-count'; count: number; weekdays?: number[]; times: string[] } & RangeFields);

export interface BroadcastTarget {
  areaCodes?: string[];
  deviceIds?: string[];
}
export interface BroadcastDraft {
  bulletinId: string;
  priority: Priority;
  target: BroadcastTarget;
  startAt?: string;
  schedule?: Schedule;
  resume?: 'resume' | 'restart';
}

export interface Conflict {
  deviceId: string;
  occurrenceAt: string;
  otherBroadcastId: string;
  otherOccurrenceAt: string;
  overlapMs: number;
  outcome: 'interrupts' | 'interrupted-by' | 'queued-after' | 'queues-before';
}
export interface BroadcastCheck {
  status: 'submitted' | 'approved';
  devices: number;
  occurrences: string[];
  conflicts: Conflict[];
}
export interface BroadcastCreated {
  id: string;
  status: 'submitted' | 'approved';
  startAt: string;
  devices: number;
  conflicts: Conflict[];
}
export type BroadcastStatus = 'submitted' | 'approved' | 'rejected' | 'cancelled';
export interface BroadcastSummary {
  id: string;
  bulletinId: string;
  priority: Priority;
  status: string;
  startAt: string;
  schedule: Schedule | null;
  target: BroadcastTarget;
  createdAt: string;
  decisionReason: string | null;
}
export interface Delivery {
  deviceId: string;
  occurrenceAt: string;
  state: DeliveryState;
  at: string;
  reason?: string;
}
export interface BroadcastDetail extends BroadcastSummary {
  occurrenceAt: string | null;
  summary: Partial<Record<DeliveryState, number>>;
  deliveries: Delivery[];
}

export type OfferStatus = 'pending' | 'accepted' | 'declined' | 'expired' | 'scheduled';
export interface Offer {
  id: string;
  bulletinId: string;
  areaCode: string;
  priority: Priority;
  status: OfferStatus;
  action: 'wait-for-accept' | 'air' | 'wait-for-order';
  reason: string | null;
  collidesWith: string[];
  broadcastId: string | null;
  startAt: string | null;
  expiresAt: string | null;
  createdAt: string;
}

/** `GET /api/v1/coverage?area=` (CONTRACTS.md). */
export interface Coverage {
  area: { code: string; name: string; type: string };
  communes: { total: number; installed: number; working: number };
  installedPct: number;
  workingPct: number;
  devices: { total: number; online: number; faulty: number; playing: number };
  notCovered: { code: string; name: string; reason: string }[];
  children: Coverage[];
}

/** `GET /api/v1/coverage/trend?area=&days=`: snapshots are kept per province (`area` is the province). */
export interface CoverageTrend {
  area?: string;
  items: { at: string; installedPct: number; workingPct: number }[];
}

export interface AsRunCounts {
  scheduled: number;
  played: number;
  missed: number;
  failed: number;
  cancelled: number;
  expired: number;
  pending: number;
  airtimeMs: number;
}
export interface AsRunItem {
  broadcastId: string;
  title: string;
  priority: string;
  occurrenceAt: string;
  state: string;
  startedAt: string | null;
  endedAt: string | null;
  reason: string | null;
}
export interface AsRunReport {
  area: { code: string; name: string; type: string };
  from: string;
  to: string;
  totals: AsRunCounts;
  communes: (AsRunCounts & { code: string; name: string; devices: (AsRunCounts & { deviceId: string; name: string; items: AsRunItem[] })[] })[];
}

/** An `event: delivery` of the SSE stream `GET /api/v1/events?broadcast=<id>`. */
export interface DeliveryEvent {
  broadcastId: string;
  deviceId: string;
  occurrenceAt: string;
  state: DeliveryState;
  at: string;
  reason: string | null;
}

/** One row of `GET /api/v1/audit` (server/src/routes/audit.ts): a write, who made it, and what it changed. */
export interface AuditEntry {
  id: number;
  at: string;
  userId: string | null;
  username: string | null;
  ip: string | null;
  method: string;
  route: string;
  url: string;
  status: number;
  body: unknown;
  object: { type: string; id: string } | null;
  before: unknown;
  after: unknown;
}
/** The audit log pages by id: `next` is the `before` of the next (older) page. */
export interface AuditPage {
  items: AuditEntry[];
  next: number | null;
}
