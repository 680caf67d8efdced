import type { ApiClient } from '../../api/client.js';
import { useLookup } from '../../app/lookup.js';

export function useDeviceNames(api: ApiClient, ids: readonly string[]): Map<string, string> {
  return useLookup('device', ids, async (id) => (await api.device(id)).name);
}

export function useBulletinTitles(api: ApiClient, ids: readonly string[]): Map<string, string> {
  return useLookup('bulletin', ids, async (id) => (await api.bulletin(id)).title);
}
