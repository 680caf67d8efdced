/**
 * The HTTP API as the web app sees it: the types are inferred (`z.infer`, `z.input` for request bodies)
 * from the zod schemas the server validates with (`@loaxa/shared/api`, shared/src/api/), so renaming a field
 * there breaks the build of both. Only what the browser adds on its own is written here.
 *
 * Browser-safe: `@loaxa/shared/api` imports no Node module; the values below are plain arrays.
 */
export { BULLETIN_CATEGORIES, BULLETIN_MAX_CHARS, DELIVERY_STATES, PROGRAMME_ITEM_KINDS, VOICES } from '@loaxa/shared/api';
export type {
  ApproveBody,
  AreaNode,
  AsRunCounts,
  AsRunItem,
  AsRunReport,
  AuditEntry,
  AuditPage,
  AuditQuery,
  BroadcastCheck,
  BroadcastCreated,
  BroadcastDetail,
  BroadcastDraft,
  BroadcastListQuery,
  BroadcastStatus,
  BroadcastSummary,
  BroadcastTarget,
  Bulletin,
  BulletinCategory,
  BulletinCreate,
  BulletinCreated,
  BulletinListQuery,
  ChildCoverage,
  Conflict,
  Coverage,
  CoverageTrend,
  Delivery,
  DeliveryState,
  Device,
  DeviceListQuery,
  DeviceStateFilter,
  LoginBody,
  LoginResponse,
  Offer,
  OfferAcceptBody,
  OfferDeclineBody,
  OfferStatus,
  Page,
  Priority,
  RejectBody,
  Repeat,
  Role,
  Schedule,
  TtsPreview,
  TtsPreviewRequest,
  User,
  Voice,
  Source,
  SourceCheck,
  SourceCreateBody,
  SourceUpdateBody,
  RelayBulletinCreate,
  RelayBulletinCreated,
  RelayReport,
  RelayReportItem,
  RelayReportQuery,
  RelayGap,
  AsRunProgramme,
  AsRunProgrammeItem,
  Programme,
  ProgrammeDraft,
  ProgrammeItem,
  ProgrammeItemInput,
  ProgrammeItemKind,
  ProgrammeItemState,
  ProgrammeSummary,
  ProgrammeVersion,
  LiveEndReason,
  LiveServerMessage,
  LiveSession,
  LiveStart,
  NationalPeer,
  NationalPeerCreateBody,
  NationalChildSummary,
  NationalChildAiring,
  NationalSendBody,
  NationalSent,
  NationalReceived,
  NationalLinkStatus,
  NationalOutboxItem,
} from '@loaxa/shared/api';
import type { z } from 'zod';
import type { nationalChildAiringsSchema, nationalChildrenSchema, nationalInboundSchema, nationalPeerCreatedSchema, nationalSendResultSchema } from '@loaxa/shared/api';
import type { ApiErrorBody, BulletinUploadFields, Me as MeAnswer, RelayGap, SseDeliveryEvent, SseProgrammeItemEvent, TtsReportSpan } from '@loaxa/shared/api';

/** `GET /api/v1/me`. `area` and `can` may be absent (older servers; the app then derives them from `role`). */
export type Me = Omit<MeAnswer, 'area' | 'can'> & Partial<Pick<MeAnswer, 'area' | 'can'>>;

/** The error body of every failure (CONTRACTS.md): `{error:{code, message, fields?}}`. */
export type ErrorBody = ApiErrorBody;

/** A stretch of the NFC text (code point offsets, end exclusive) that the reading rewrote or left unread. */
export type ReportSpan = TtsReportSpan;

/** An `event: delivery` of the SSE stream `GET /api/v1/events?broadcast=<id>`. */
export type DeliveryEvent = SseDeliveryEvent;

/** `POST /api/v1/bulletins/upload` (multipart/form-data): the server decodes `file` to check it is audio. */
export type BulletinUpload = BulletinUploadFields & {
  file: Blob;
  /** The name sent with the file (a label only); defaults to the File's own name. */
  fileName?: string;
};

/** Why a relay changed what it plays (RELAY_CAUSES of the wire protocol, shared/src/messages.ts). */
export type RelayCause = RelayGap['cause'];

/** An `event: relay` of the SSE stream (issue 15): the URL a box relays now (null: none), and why it changed. */
export interface RelayEvent {
  deviceId: string;
  broadcastId: string;
  occurrenceAt: string;
  url: string | null;
  cause: RelayCause;
  at: string;
  detail: string | null;
}

/** An `event: programme-item` of the SSE stream (issue 15): how one item of a programme went on one box. */
export type ProgrammeItemEvent = SseProgrammeItemEvent;

/** `POST /api/v1/national/peers`: the peer, with the password it logs in to us with (shown once, never again). */
export type NationalPeerCreated = z.infer<typeof nationalPeerCreatedSchema>;
/** One request that reached our served national interface, taken or refused with why. */
export type NationalInbound = z.infer<typeof nationalInboundSchema>;
/** `GET /api/v1/national/children`: the central dashboard, one row per child system. */
export type NationalChildren = z.infer<typeof nationalChildrenSchema>;
/** `GET /api/v1/national/children/:id/airings`: a child's as-run. */
export type NationalChildAirings = z.infer<typeof nationalChildAiringsSchema>;
/** `POST /api/v1/national/send`: each chosen child's answer. */
export type NationalSendResult = z.infer<typeof nationalSendResultSchema>;
