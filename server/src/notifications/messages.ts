/**
 * What each notification says, in Vietnamese, and where it leads in the web app. Written once when the
 * notification is made: the list, the push and the e-mail say the same words. No ids, no English, Vietnam time.
 */
import type { NotificationKind } from '@loaxa/shared';
import { VN_UTC_OFFSET_MS } from '../scheduling/local-time.js';

export interface NotificationText {
  kind: NotificationKind;
  title: string;
  body: string;
  /** A path of the web app (PATHS in web/src/logic/routes.ts). */
  link: string;
}

/** `07:30 ngày 08/12/2026`, in Vietnam time (UTC+7, no daylight saving). */
export function vnTime(ms: number): string {
  const d = new Date(ms + VN_UTC_OFFSET_MS);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCHours())}:${p(d.getUTCMinutes())} ngày ${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`;
}

export const FAULT_NAMES_VI: Record<string, string> = {
  power: 'mất điện',
  amplifier: 'hỏng bộ khuếch đại',
  'speaker-line': 'đứt đường dây loa',
  'audio-device': 'hỏng thiết bị âm thanh',
};

const quote = (s: string) => `“${s.length > 80 ? `${s.slice(0, 79)}…` : s}”`;

export function approvalWaiting(p: { broadcastId: string; title: string; author: string; where: string; startAt: number; emergency: boolean }): NotificationText {
  return {
    kind: 'approval',
    title: `${p.emergency ? 'Tin khẩn cấp chờ duyệt' : 'Chờ duyệt'}: ${quote(p.title)}`,
    body: `${p.author} gửi phê duyệt lượt phát cho ${p.where}, phát lúc ${vnTime(p.startAt)}.`,
    link: `/phe-duyet`,
  };
}

export function decided(p: { broadcastId: string; title: string; approver: string; approved: boolean; reason: string | null }): NotificationText {
  return p.approved
    ? { kind: 'decision', title: `Đã duyệt: ${quote(p.title)}`, body: `${p.approver} đã duyệt lượt phát của bạn; lượt phát sẽ phát theo lịch.`, link: `/luot-phat/${encodeURIComponent(p.broadcastId)}` }
    : {
        kind: 'decision',
        title: `Bị từ chối: ${quote(p.title)}`,
        body: `${p.approver} đã từ chối lượt phát của bạn. Lý do: ${p.reason?.trim() || 'không ghi lý do'}.`,
        link: `/luot-phat/${encodeURIComponent(p.broadcastId)}`,
      };
}

export function boxFault(p: { deviceName: string; areaName: string; fault: string; at: number }): NotificationText {
  return {
    kind: 'fault',
    title: `Cụm loa ${p.deviceName}: ${FAULT_NAMES_VI[p.fault] ?? 'lỗi'}`,
    body: `Cụm loa ${p.deviceName} (${p.areaName}) báo ${FAULT_NAMES_VI[p.fault] ?? 'lỗi'} lúc ${vnTime(p.at)} và không phát được cho đến khi được sửa.`,
    link: '/cum-loa',
  };
}

export function coverageDrop(p: { communeName: string; working: number; total: number; thresholdPct: number }): NotificationText {
  const pct = Math.round((100 * p.working) / p.total);
  return {
    kind: 'coverage',
    title: `Độ phủ giảm: ${p.communeName}`,
    body: `${p.communeName} chỉ còn ${p.working}/${p.total} cụm loa hoạt động (${pct} %), dưới ngưỡng ${p.thresholdPct} %.`,
    link: '/tong-quan',
  };
}

/** The e-mail of a notification: subject, plain text and a small HTML twin, each with the link. */
export function emailOf(n: NotificationText, base: string): { subject: string; text: string; html: string } {
  const url = new URL(n.link, base.endsWith('/') ? base : `${base}/`).toString();
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return {
    subject: `[Loa Xã] ${n.title}`,
    text: `${n.body}\n\nXem chi tiết: ${url}\n\n—\nLoa Xã. Đổi cách nhận thông báo ở trang Thông báo: ${new URL('/thong-bao', url).toString()}\n`,
    html: `<p>${esc(n.body)}</p><p><a href="${esc(url)}">Xem chi tiết</a></p><hr><p style="color:#666;font-size:90%">Loa Xã. Đổi cách nhận thông báo ở trang <a href="${esc(new URL('/thong-bao', url).toString())}">Thông báo</a>.</p>`,
  };
}
