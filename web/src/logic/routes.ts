/** URL paths of the app's pages (Vietnamese slugs without diacritics), parsed and built in one place. */
import type { RouteName } from './roles.js';

export const PATHS: Record<RouteName, string> = {
  dashboard: '/tong-quan',
  compose: '/soan-tin',
  broadcasts: '/luot-phat',
  approvals: '/phe-duyet',
  inbox: '/hop-thu',
  devices: '/cum-loa',
  reports: '/bao-cao',
  audit: '/nhat-ky',
  sources: '/nguon-tiep-song',
  programmes: '/chuong-trinh',
  golive: '/phat-truc-tiep',
  national: '/lien-thong',
  warnings: '/canh-bao',
  calendar: '/lich-phat',
  install: '/lap-dat',
  notifications: '/thong-bao',
  library: '/thu-vien',
  settings: '/cai-dat',
};

export type Match =
  | { route: RouteName; params: Record<string, string> }
  | { route: 'home' }
  | { route: 'broadcast'; params: { id: string } }
  | { route: 'device' | 'device-label'; params: { id: string } }
  | { route: 'not-found' };

export function matchPath(pathname: string): Match {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === '/') return { route: 'home' };
  const live = /^\/luot-phat\/([a-z0-9][a-z0-9-]{0,63})$/.exec(path);
  if (live) return { route: 'broadcast', params: { id: live[1]! } };
  // Issue 20: a box's page, and its printable claim label.
  const box = /^\/cum-loa\/([a-z0-9][a-z0-9-]{0,63})(\/nhan)?$/.exec(path);
  if (box) return { route: box[2] ? 'device-label' : 'device', params: { id: box[1]! } };
  for (const [route, p] of Object.entries(PATHS) as [RouteName, string][]) if (p === path) return { route, params: {} };
  return { route: 'not-found' };
}

export function broadcastPath(id: string): string {
  return `${PATHS.broadcasts}/${encodeURIComponent(id)}`;
}

/** A box's page (issue 20). */
export function devicePath(id: string): string {
  return `${PATHS.devices}/${encodeURIComponent(id)}`;
}

/** A box's printable claim label (issue 20). */
export function deviceLabelPath(id: string): string {
  return `${devicePath(id)}/nhan`;
}

/** The compose screen opened on a relay of this source (the sources page links each source there). */
export function relayComposePath(sourceId: string): string {
  return `${PATHS.compose}?tiep-song=${encodeURIComponent(sourceId)}`;
}

/** `/chuong-trinh?ma=<id>` opens a programme in the builder; `?ma=moi` a new one; without it, the list. */
export const PROGRAMME_PARAM = 'ma';
export const NEW_PROGRAMME = 'moi';
export function programmePath(id: string = NEW_PROGRAMME): string {
  return `${PATHS.programmes}?${PROGRAMME_PARAM}=${encodeURIComponent(id)}`;
}

/** `/soan-tin?chep=<bulletin id>`: compose opened on a copy of a text bulletin (the library's "Chép và sửa", issue 20). */
export const COPY_PARAM = 'chep';
export function copyComposePath(bulletinId: string): string {
  return `${PATHS.compose}?${COPY_PARAM}=${encodeURIComponent(bulletinId)}`;
}

/** `/canh-bao?ma=<id>` opens one warning; without it, the list (the tabs are `#soan` and `#nguon`). */
export const WARNING_PARAM = 'ma';
export function warningPath(id?: string): string {
  return id ? `${PATHS.warnings}?${WARNING_PARAM}=${encodeURIComponent(id)}` : PATHS.warnings;
}
