/** The box page's calls (issue 20); bodies and answers typed by the contract in `@loaxa/shared/api` device-page.ts. */
import type { ClaimLabel, Device, DeviceAsRun, DeviceCommandBody, DeviceCommandResult, DeviceCreateBody, DeviceCreated, DeviceFaults, HealthHistory } from '@loaxa/shared/api';
import { withQuery, type ApiClient } from '../../api/client.js';
import { useSession } from '../../app/session.js';

const dev = (id: string) => `/api/v1/devices/${encodeURIComponent(id)}`;

export const boxApi = (api: ApiClient) => ({
  device: (id: string, signal?: AbortSignal) => api.request<Device>('GET', dev(id), undefined, signal),
  history: (id: string, from: string, to: string, signal?: AbortSignal) => api.request<HealthHistory>('GET', withQuery(`${dev(id)}/health-history`, { from, to }), undefined, signal),
  faults: (id: string, signal?: AbortSignal) => api.request<DeviceFaults>('GET', withQuery(`${dev(id)}/faults`, { limit: 50 }), undefined, signal),
  asRun: (id: string, cursor: string | null, signal?: AbortSignal) => api.request<DeviceAsRun>('GET', withQuery(`${dev(id)}/as-run`, { limit: 10, cursor }), undefined, signal),
  command: (id: string, body: DeviceCommandBody) => api.request<DeviceCommandResult>('POST', `${dev(id)}/commands`, body),
  claimLabel: (id: string) => api.request<ClaimLabel>('POST', `${dev(id)}/claim-label`, {}),
  register: (body: DeviceCreateBody) => api.request<DeviceCreated>('POST', '/api/v1/devices', body),
});

/** The calls above on the session's client. */
export function useBoxApi(): ReturnType<typeof boxApi> {
  return boxApi(useSession().api);
}
