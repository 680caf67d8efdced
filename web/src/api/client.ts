/**
 * The typed API client. The session is the HttpOnly cookie `loaxa_session` set by the login route, so the
 * browser sends it with every same-origin request and the app stores no token. Every body and answer is
 * typed by the schemas the server validates with (`./types.ts`, inferred from `@loaxa/shared/api`).
 */
import type {
  ApproveBody,
  AreaNode,
  AsRunReport,
  AuditPage,
  AuditQuery,
  BroadcastCheck,
  BroadcastCreated,
  BroadcastDetail,
  BroadcastDraft,
  BroadcastListQuery,
  BroadcastStatus,
  BroadcastSummary,
  Bulletin,
  BulletinCreate,
  BulletinCreated,
  BulletinListQuery,
  BulletinUpload,
  Coverage,
  CoverageTrend,
  Device,
  DeviceListQuery,
  ErrorBody,
  LiveSession,
  LiveStart,
  LoginBody,
  LoginResponse,
  Me,
  NationalChildAirings,
  NationalChildren,
  NationalInbound,
  NationalLinkStatus,
  NationalOutboxItem,
  NationalPeer,
  NationalPeerCreateBody,
  NationalPeerCreated,
  NationalReceived,
  NationalSendBody,
  NationalSendResult,
  NationalSent,
  Offer,
  OfferAcceptBody,
  OfferDeclineBody,
  OfferStatus,
  Page,
  Programme,
  ProgrammeDraft,
  ProgrammeSummary,
  ProgrammeVersion,
  RejectBody,
  RelayBulletinCreate,
  RelayBulletinCreated,
  RelayReport,
  RelayReportQuery,
  Source,
  SourceCreateBody,
  SourceUpdateBody,
  TtsPreview,
  TtsPreviewRequest,
  User,
} from './types.js';

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

function isErrorBody(v: unknown): v is ErrorBody {
  if (typeof v !== 'object' || v === null || !('error' in v)) return false;
  const e = (v).error;
  return typeof e === 'object' && e !== null && 'code' in e && 'message' in e;
}

const QUIET_401 = ['/api/v1/auth/login', '/api/v1/me', '/api/v1/users'];

type Query = Record<string, string | number | undefined | null>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `${path}?${s}` : path;
}

export interface ApiClientOptions {
  /** Called on every 401 except the login's own, so the app can show the login form again. */
  onUnauthorized?: () => void;
  fetch?: typeof fetch;
}

export class ApiClient {
  private readonly doFetch: typeof fetch;
  constructor(private readonly opts: ApiClientOptions = {}) {
    this.doFetch = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  async request<T>(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const init: RequestInit = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
    if (body !== undefined) {
      init.headers = { ...init.headers, 'content-type': 'application/json' };
      init.body = JSON.stringify(body);
    }
    if (signal) init.signal = signal;
    let res: Response;
    try {
      res = await this.doFetch(path, init);
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ApiFailure(0, 'NETWORK', (err as Error).message);
    }
    return this.answer<T>(path, res.status, res.statusText, await res.text());
  }

  /** The parsed body of a 2xx answer; anything else becomes an ApiFailure. */
  private answer<T>(path: string, status: number, statusText: string, text: string): T {
    let parsed: unknown = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
    }
    if (status < 200 || status > 299) {
      // Not for the routes that find out who is logged in (the handler calls them itself).
      if (status === 401 && !QUIET_401.some((p) => path.startsWith(p))) this.opts.onUnauthorized?.();
      if (isErrorBody(parsed)) throw new ApiFailure(status, parsed.error.code, parsed.error.message, parsed.error.fields);
      throw new ApiFailure(status, `HTTP_${status}`, text.slice(0, 200) || statusText);
    }
    return parsed as T;
  }

  /**
   * A POST whose 2xx answer is a file (a programme's preview, audio/mpeg): the body as a Blob; a failure is
   * read as the usual JSON error body.
   */
  async requestBlob(path: string, body: unknown, signal?: AbortSignal): Promise<Blob> {
    const init: RequestInit = { method: 'POST', credentials: 'same-origin', headers: { accept: 'audio/mpeg, application/json', 'content-type': 'application/json' }, body: JSON.stringify(body) };
    if (signal) init.signal = signal;
    let res: Response;
    try {
      res = await this.doFetch(path, init);
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ApiFailure(0, 'NETWORK', (err as Error).message);
    }
    if (res.ok) return res.blob();
    return this.answer<never>(path, res.status, res.statusText, await res.text());
  }

  /**
   * `POST /api/v1/bulletins/upload` as multipart/form-data. XMLHttpRequest rather than fetch: only it reports
   * how much of the body has been sent. Aborting rejects with an AbortError, like fetch.
   */
  uploadBulletin(form: BulletinUpload, opts: { onProgress?: (sent: number, total: number) => void; signal?: AbortSignal } = {}): Promise<BulletinCreated> {
    const path = '/api/v1/bulletins/upload';
    return new Promise<BulletinCreated>((resolve, reject) => {
      if (opts.signal?.aborted) return reject(new DOMException('upload aborted', 'AbortError'));
      const body = new FormData();
      body.set('title', form.title);
      if (form.category) body.set('category', form.category);
      body.set('file', form.file, form.fileName ?? (form.file instanceof File ? form.file.name : 'recording'));
      const xhr = new XMLHttpRequest();
      xhr.open('POST', path);
      xhr.setRequestHeader('accept', 'application/json');
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) opts.onProgress?.(e.loaded, e.total);
      };
      xhr.onload = () => {
        try {
          resolve(this.answer<BulletinCreated>(path, xhr.status, xhr.statusText, xhr.responseText));
        } catch (err) {
          reject(err);
        }
      };
      xhr.onerror = () => reject(new ApiFailure(0, 'NETWORK', 'the upload did not reach the server'));
      xhr.ontimeout = xhr.onerror;
      xhr.onabort = () => reject(new DOMException('upload aborted', 'AbortError'));
      opts.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
      xhr.send(body);
    });
  }

  // auth
  login = (username: string, password: string) => this.request<LoginResponse>('POST', '/api/v1/auth/login', { username, password } satisfies LoginBody);
  logout = () => this.request<unknown>('POST', '/api/v1/auth/logout', {});
  me = () => this.request<Me>('GET', '/api/v1/me');
  users = (limit = 1000) => this.request<Page<User>>('GET', withQuery('/api/v1/users', { limit }));
  user = (id: string) => this.request<User>('GET', `/api/v1/users/${encodeURIComponent(id)}`);

  // areas and devices
  areas = () => this.request<{ items: AreaNode[] }>('GET', '/api/v1/areas');
  devices = (q: Omit<DeviceListQuery, 'limit' | 'cursor'> & { limit?: number; cursor?: string | null } = {}, signal?: AbortSignal) =>
    this.request<Page<Device>>('GET', withQuery('/api/v1/devices', q), undefined, signal);
  device = (id: string) => this.request<Device>('GET', `/api/v1/devices/${encodeURIComponent(id)}`);

  // speech and bulletins
  ttsPreview = (body: TtsPreviewRequest, signal?: AbortSignal) => this.request<TtsPreview>('POST', '/api/v1/tts/preview', body, signal);
  createBulletin = (body: BulletinCreate) => this.request<BulletinCreated>('POST', '/api/v1/bulletins', body);
  bulletin = (id: string) => this.request<Bulletin>('GET', `/api/v1/bulletins/${encodeURIComponent(id)}`);
  /** Bulletins of the user's area and their own, newest first (`status`, `source` kinds, `q` title words). */
  bulletins = (q: Omit<BulletinListQuery, 'limit' | 'cursor'> & { limit?: number; cursor?: string | null } = {}, signal?: AbortSignal) =>
    this.request<Page<Bulletin>>('GET', withQuery('/api/v1/bulletins', q), undefined, signal);

  // live sources and relays (issue 15)
  sources = (q: { limit?: number; cursor?: string | null } = {}, signal?: AbortSignal) => this.request<Page<Source>>('GET', withQuery('/api/v1/sources', q), undefined, signal);
  source = (id: string) => this.request<Source>('GET', `/api/v1/sources/${encodeURIComponent(id)}`);
  createSource = (body: SourceCreateBody) => this.request<Source>('POST', '/api/v1/sources', body);
  updateSource = (id: string, body: SourceUpdateBody) => this.request<Source>('PATCH', `/api/v1/sources/${encodeURIComponent(id)}`, body);
  deleteSource = (id: string) => this.request<null>('DELETE', `/api/v1/sources/${encodeURIComponent(id)}`);
  checkSource = (id: string) => this.request<Source>('POST', `/api/v1/sources/${encodeURIComponent(id)}/check`, {});
  createRelayBulletin = (body: RelayBulletinCreate) => this.request<RelayBulletinCreated>('POST', '/api/v1/bulletins/relay', body);
  relayReport = (q: RelayReportQuery, signal?: AbortSignal) => this.request<RelayReport>('GET', withQuery('/api/v1/reports/relays', q), undefined, signal);

  // programmes (issue 15): a programme is a bulletin; it is broadcast with createBroadcast like any other
  programmes = (q: { limit?: number; cursor?: string | null } = {}, signal?: AbortSignal) => this.request<Page<ProgrammeSummary>>('GET', withQuery('/api/v1/programmes', q), undefined, signal);
  programme = (id: string, signal?: AbortSignal) => this.request<Programme>('GET', `/api/v1/programmes/${encodeURIComponent(id)}`, undefined, signal);
  createProgramme = (body: ProgrammeDraft) => this.request<Programme>('POST', '/api/v1/programmes', body);
  updateProgramme = (id: string, body: ProgrammeDraft) => this.request<Programme>('PUT', `/api/v1/programmes/${encodeURIComponent(id)}`, body);
  programmeVersions = (id: string, signal?: AbortSignal) => this.request<{ items: ProgrammeVersion[] }>('GET', `/api/v1/programmes/${encodeURIComponent(id)}/versions`, undefined, signal);
  programmeVersion = (id: string, version: number) => this.request<Programme>('GET', `/api/v1/programmes/${encodeURIComponent(id)}/versions/${version}`);
  /** The whole programme as one MP3 to listen to before saving (relay segments are a beep marker). */
  programmePreview = (items: ProgrammeDraft['items'], signal?: AbortSignal) => this.requestBlob('/api/v1/programmes/preview', { items }, signal);

  // live voice (issue 16): the airing is made here; its audio goes over the WebSocket at `audioPath`
  startLive = (body: LiveStart) => this.request<LiveSession>('POST', '/api/v1/live', body);
  live = (id: string, signal?: AbortSignal) => this.request<LiveSession>('GET', `/api/v1/live/${encodeURIComponent(id)}`, undefined, signal);
  stopLive = (id: string) => this.request<LiveSession>('POST', `/api/v1/live/${encodeURIComponent(id)}/stop`, {});

  // broadcasts
  checkBroadcast = (draft: BroadcastDraft) => this.request<BroadcastCheck>('POST', '/api/v1/broadcasts/check', draft);
  createBroadcast = (draft: BroadcastDraft) => this.request<BroadcastCreated>('POST', '/api/v1/broadcasts', draft);
  /** `status` `all`: every status; `q` title words, `priority`, `from`/`to` Vietnam days of the first airing (issue 20). */
  broadcasts = (status: BroadcastStatus | 'all', q: Omit<BroadcastListQuery, 'status' | 'limit' | 'cursor'> & { limit?: number; cursor?: string | null } = {}, signal?: AbortSignal) =>
    this.request<Page<BroadcastSummary>>('GET', withQuery('/api/v1/broadcasts', { status, ...q }), undefined, signal);
  broadcast = (id: string, signal?: AbortSignal) => this.request<BroadcastDetail>('GET', `/api/v1/broadcasts/${encodeURIComponent(id)}`, undefined, signal);
  /** `checked`: "đã kiểm tra cách đọc", needed when the queue lists reading spans (issue 19). */
  approve = (id: string, body: ApproveBody = {}) => this.request<BroadcastSummary>('POST', `/api/v1/broadcasts/${encodeURIComponent(id)}/approve`, body);
  reject = (id: string, reason: string) => this.request<BroadcastSummary>('POST', `/api/v1/broadcasts/${encodeURIComponent(id)}/reject`, { reason } satisfies RejectBody);
  /** The whole broadcast, or (with `occurrenceAt`) that one airing of its series. */
  cancelBroadcast = (id: string, occurrenceAt?: string) =>
    this.request<{ id: string; cancelledDeliveries: number }>('POST', `/api/v1/broadcasts/${encodeURIComponent(id)}/cancel`, occurrenceAt ? { occurrenceAt } : {});
  moveOccurrence = (id: string, occurrenceAt: string, startAt: string) =>
    this.request<{ id: string; occurrenceAt: string; movedTo: string }>('PATCH', `/api/v1/broadcasts/${encodeURIComponent(id)}/occurrences/${encodeURIComponent(occurrenceAt)}`, { startAt });

  // the commune's inbox
  inbox = (q: { status?: OfferStatus; limit?: number; cursor?: string | null } = {}) => this.request<Page<Offer>>('GET', withQuery('/api/v1/inbox', q));
  acceptOffer = (id: string, body: NonNullable<OfferAcceptBody> = {}) => this.request<Offer>('POST', `/api/v1/offers/${encodeURIComponent(id)}/accept`, body);
  declineOffer = (id: string, reason: string) => this.request<Offer>('POST', `/api/v1/offers/${encodeURIComponent(id)}/decline`, { reason } satisfies OfferDeclineBody);

  // the province
  coverage = (area: string, signal?: AbortSignal) => this.request<Coverage>('GET', withQuery('/api/v1/coverage', { area }), undefined, signal);
  coverageTrend = (area: string, days = 30, signal?: AbortSignal) => this.request<CoverageTrend>('GET', withQuery('/api/v1/coverage/trend', { area, days }), undefined, signal);
  asRun = (q: { area: string; from: string; to: string }) => this.request<AsRunReport>('GET', asRunUrl({ ...q, format: 'json' }));

  // the national link (issue 17; installation-wide province admins): the link up to the province, the peers,
  // what came down and what reached the served interface, the children (central dashboard), sending down
  nationalLink = (signal?: AbortSignal) => this.request<NationalLinkStatus>('GET', '/api/v1/national/link', undefined, signal);
  nationalOutbox = (state: NationalOutboxItem['state'], limit = 50, signal?: AbortSignal) =>
    this.request<{ items: NationalOutboxItem[] }>('GET', withQuery('/api/v1/national/outbox', { state, limit }), undefined, signal);
  nationalPeers = (signal?: AbortSignal) => this.request<{ items: NationalPeer[] }>('GET', '/api/v1/national/peers', undefined, signal);
  createNationalPeer = (body: NationalPeerCreateBody) => this.request<NationalPeerCreated>('POST', '/api/v1/national/peers', body);
  revokeNationalPeer = (id: string) => this.request<null>('DELETE', `/api/v1/national/peers/${encodeURIComponent(id)}`);
  nationalReceived = (limit = 100, signal?: AbortSignal) => this.request<{ items: NationalReceived[] }>('GET', withQuery('/api/v1/national/received', { limit }), undefined, signal);
  nationalInbound = (q: { accepted?: 'true' | 'false'; limit?: number; cursor?: string | null } = {}, signal?: AbortSignal) =>
    this.request<{ items: NationalInbound[]; next: string | null }>('GET', withQuery('/api/v1/national/inbound', q), undefined, signal);
  nationalChildren = (signal?: AbortSignal) => this.request<NationalChildren>('GET', '/api/v1/national/children', undefined, signal);
  nationalChildAirings = (id: string, signal?: AbortSignal) => this.request<NationalChildAirings>('GET', withQuery(`/api/v1/national/children/${encodeURIComponent(id)}/airings`, { limit: 200 }), undefined, signal);
  nationalSend = (body: NationalSendBody) => this.request<NationalSendResult>('POST', '/api/v1/national/send', body);
  nationalSent = (limit = 100, signal?: AbortSignal) => this.request<{ items: NationalSent[] }>('GET', withQuery('/api/v1/national/sent', { limit }), undefined, signal);

  // the audit log (province admins)
  audit = (q: AuditFilters & { limit?: number; before?: number | null } = {}, signal?: AbortSignal) => this.request<AuditPage>('GET', withQuery('/api/v1/audit', q), undefined, signal);
}

/** The audit log's filters (issue 20): who, which action, which object, which Vietnam days. */
export type AuditFilters = Omit<AuditQuery, 'limit' | 'before' | 'format'>;

/** The audit log's CSV download: the whole log (or what the filters keep), newest first (the server streams it). */
export function auditCsvUrl(filters: AuditFilters = {}): string {
  return withQuery('/api/v1/audit', { format: 'csv', ...filters });
}

/** The download link of the as-run report; the cookie authorizes it like any API call. */
export function asRunUrl(q: { area: string; from: string; to: string; format: 'json' | 'csv' | 'xlsx' }): string {
  return withQuery('/api/v1/reports/as-run', q);
}

/** Reads every page of a list route (cursor pagination), up to `max` items. */
export async function readAll<T>(fetchPage: (cursor: string | null) => Promise<Page<T>>, max = 20_000, onPage?: (items: T[], total: number) => void): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<T> = await fetchPage(cursor);
    out.push(...page.items);
    onPage?.(out, page.total);
    cursor = page.next;
  } while (cursor && out.length < max);
  return out;
}
