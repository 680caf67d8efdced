/**
 * The warning routes of issue 18 (`@loaxa/shared/api` warnings.ts) as the page calls them. They live with the
 * page rather than on ApiClient so their code loads with it, not with the app's first screen.
 */
import type { z } from 'zod';
import type {
  warningApproveBodySchema,
  warningAsRunSchema,
  warningListSchema,
  warningPreviewSchema,
  warningSourceCreateBodySchema,
  warningSourceCreatedSchema,
  warningSourceListSchema,
  warningSourceUpdateBodySchema,
  WarningFormBody,
  Warning,
  WarningSource,
  WarningState,
} from '@loaxa/shared/api';
import { ApiFailure, withQuery, type ApiClient } from '../../api/client.js';

export type { Warning, WarningFormBody, WarningSource, WarningState };
export type WarningList = z.infer<typeof warningListSchema>;
export type WarningPreview = z.infer<typeof warningPreviewSchema>;
export type WarningAsRun = z.infer<typeof warningAsRunSchema>;
export type WarningApproveBody = z.input<typeof warningApproveBodySchema>;
export type WarningSourceCreateBody = z.input<typeof warningSourceCreateBodySchema>;
export type WarningSourceUpdateBody = z.input<typeof warningSourceUpdateBodySchema>;
export type WarningSourceCreated = z.infer<typeof warningSourceCreatedSchema>;
export type WarningSourceList = z.infer<typeof warningSourceListSchema>;

const W = '/api/v1/warnings';
const S = '/api/v1/warning-sources';
const id = (s: string) => encodeURIComponent(s);

export function warningsApi(api: ApiClient) {
  return {
    list: (q: { state?: WarningState | undefined; limit?: number; cursor?: string | null }, signal?: AbortSignal) => api.request<WarningList>('GET', withQuery(W, q), undefined, signal),
    get: (wid: string, signal?: AbortSignal) => api.request<Warning>('GET', `${W}/${id(wid)}`, undefined, signal),
    asRun: (wid: string, signal?: AbortSignal) => api.request<WarningAsRun>('GET', `${W}/${id(wid)}/as-run`, undefined, signal),
    preview: (body: WarningFormBody, signal?: AbortSignal) => api.request<WarningPreview>('POST', `${W}/preview`, body, signal),
    create: (body: WarningFormBody) => api.request<Warning>('POST', W, body),
    approve: (wid: string, body: WarningApproveBody) => api.request<Warning>('POST', `${W}/${id(wid)}/approve`, body),
    reject: (wid: string, reason: string) => api.request<Warning>('POST', `${W}/${id(wid)}/reject`, { reason }),
    cancel: (wid: string, reason: string) => api.request<Warning>('POST', `${W}/${id(wid)}/cancel`, { reason }),

    sources: (signal?: AbortSignal) => api.request<WarningSourceList>('GET', S, undefined, signal),
    createSource: (body: WarningSourceCreateBody) => api.request<WarningSourceCreated>('POST', S, body),
    updateSource: (sid: string, body: WarningSourceUpdateBody) => api.request<WarningSource>('PATCH', `${S}/${id(sid)}`, body),
    deleteSource: (sid: string) => api.request<null>('DELETE', `${S}/${id(sid)}`),
    renewToken: (sid: string) => api.request<WarningSourceCreated>('POST', `${S}/${id(sid)}/token`, {}),
    /** What the source's policy would do with a CAP message (its XML as the body); nothing airs. */
    previewCap: async (sid: string, xml: string): Promise<WarningPreview> => {
      let res: Response;
      try {
        res = await fetch(`${S}/${id(sid)}/preview`, { method: 'POST', credentials: 'same-origin', headers: { accept: 'application/json', 'content-type': 'application/cap+xml' }, body: xml });
      } catch (err) {
        throw new ApiFailure(0, 'NETWORK', (err as Error).message);
      }
      const text = await res.text();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = null;
      }
      if (res.ok) return body as WarningPreview;
      const e = (body as { error?: { code?: string; message?: string; fields?: { path: string; message: string }[] } } | null)?.error;
      throw new ApiFailure(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? text.slice(0, 200), e?.fields ?? []);
    },
  };
}
export type WarningsApi = ReturnType<typeof warningsApi>;
