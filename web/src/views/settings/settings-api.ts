/**
 * The routes the settings page calls (users, the reading dictionary, the area voice, offers), typed by the
 * schemas the server validates with. They live with the page so their code loads with it, not on ApiClient.
 */
import type { DictionaryEntry, Offer, OfferCreateBody, Page, User, UserCreateBody, UserPatchBody, VoiceSetting, VoiceSettingPutBody } from '@loaxa/shared/api';
import { withQuery, type ApiClient } from '../../api/client.js';

export type { DictionaryEntry, Offer, User, VoiceSetting };

const enc = encodeURIComponent;

export const settingsApi = (api: ApiClient) => ({
  users: () => api.request<Page<User>>('GET', withQuery('/api/v1/users', { limit: 500 })),
  createUser: (body: UserCreateBody) => api.request<User>('POST', '/api/v1/users', body),
  updateUser: (id: string, body: UserPatchBody) => api.request<User>('PATCH', `/api/v1/users/${enc(id)}`, body),

  dictionary: (areaCode?: string) => api.request<Page<DictionaryEntry>>('GET', withQuery('/api/v1/tts/dictionary', { areaCode })),
  putEntry: (term: string, reading: string, areaCode: string | null) => api.request<DictionaryEntry>('PUT', `/api/v1/tts/dictionary/${enc(term)}`, { reading, areaCode }),
  deleteEntry: (term: string, areaCode: string | null) => api.request<null>('DELETE', withQuery(`/api/v1/tts/dictionary/${enc(term)}`, { areaCode })),

  voice: (areaCode: string | null) => api.request<VoiceSetting>('GET', withQuery('/api/v1/tts/voice', { areaCode })),
  setVoice: (body: VoiceSettingPutBody) => api.request<VoiceSetting>('PUT', '/api/v1/tts/voice', body),
  resetVoice: (areaCode: string) => api.request<VoiceSetting>('DELETE', withQuery('/api/v1/tts/voice', { areaCode })),

  offer: (bulletinId: string, body: OfferCreateBody) => api.request<{ items: Offer[] }>('POST', `/api/v1/bulletins/${enc(bulletinId)}/offers`, body),
  /** The province's offers in its area (the inbox route answers a province admin every commune's). */
  offers: (limit = 200) => api.request<Page<Offer>>('GET', withQuery('/api/v1/inbox', { limit })),
});
