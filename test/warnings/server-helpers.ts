/**
 * A server for the warning tests (issue 18): the sample province (99) and a second one (98), boxes with
 * coordinates in two communes, users of each role, a fake renderer (no TTS engine), and helpers to add a
 * warning source and push CAP to it.
 */
import { formatCapDateTime, type CapAlertInput } from '@loaxa/shared';
import type { BuildOptions } from '../../server/src/app.js';
import type { Config } from '../../server/src/config.js';
import type { SpeechRenderer } from '../../server/src/services/bulletin-service.js';
import { writeCap } from '../../server/src/warnings/cap-write.js';
import { securityServer } from '../security/helpers.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Audio made at once: what airs is not what these tests look at. */
export const fakeRender: SpeechRenderer = async ({ text, onProgress }) => {
  onProgress(100, 'done');
  return { ogg: Buffer.from(`OggS fake ${text.length}`), durationMs: 4000, lufs: -16, truePeakDb: -1, engine: 'fake' };
};

/** Boxes: two in Tân Lập (99003, one at 21.55,103.95), one in Hưng Đạo (99004), one in Quang Trung (99005) without coordinates, one in 98001. */
export const BOXES = [
  { id: 'box-tl-1', areaCode: '99003', lat: 21.55, lon: 103.95 },
  { id: 'box-tl-2', areaCode: '9900301', lat: 21.4, lon: 103.7 },
  { id: 'box-hd-1', areaCode: '99004', lat: 21.2, lon: 103.5 },
  { id: 'box-qt-1', areaCode: '99005', lat: null, lon: null },
  { id: 'box-98-1', areaCode: '98001', lat: 21.56, lon: 103.96 },
] as const;

export async function warningServer(t: Teardown, overrides: Partial<Config> = {}, opts: BuildOptions = {}) {
  const s = await securityServer(t, overrides, { render: fakeRender, ...opts });
  s.server.ctx.devices.insertMany(BOXES.map((b) => ({ id: b.id, name: `Loa ${b.id}`, areaCode: b.areaCode, lat: b.lat, lon: b.lon, secretHash: '0'.repeat(64), createdAt: Date.now() })));
  const { api, token } = s;

  /** Adds a push source (as the admin) and answers it with its token. */
  async function addSource(body: Record<string, unknown> = {}): Promise<{ id: string; token: string; [k: string]: unknown }> {
    const res = await api('POST', '/api/v1/warning-sources', { name: 'Đài KTTV tỉnh Mẫu', kind: 'push', areaCodes: ['99'], ...body }, token);
    if (res.status !== 201) throw new Error(`source: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** Pushes CAP XML with a source's token (or none). */
  async function push(xml: string | Buffer, sourceToken: string | null, contentType = 'application/cap+xml') {
    const headers: Record<string, string> = { 'content-type': contentType };
    if (sourceToken) headers.authorization = `Bearer ${sourceToken}`;
    const res = await fetch(`${s.base}/api/v1/warnings/cap`, { method: 'POST', headers, body: xml });
    const text = await res.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body, headers: res.headers };
  }

  const count = (table: string) => (s.server.ctx.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  return { ...s, addSource, push, count };
}

let seq = 0;
/** A CAP alert for commune Tân Lập by default; `o` overrides the alert, `info` the first info. */
export function alert(o: Partial<CapAlertInput> = {}, info: Record<string, unknown> = {}): CapAlertInput {
  const now = Date.now();
  return {
    identifier: `kttv-${process.pid}-${++seq}`,
    sender: 'kttv@tinh-mau.example.vn',
    sent: formatCapDateTime(now),
    status: 'Actual',
    msgType: 'Alert',
    scope: 'Public',
    info: [
      {
        language: 'vi-VN',
        category: ['Met'],
        event: 'lũ quét',
        urgency: 'Immediate',
        severity: 'Extreme',
        certainty: 'Likely',
        eventCode: [{ valueName: 'VN-QD18-2021', value: 'flash-flood' }],
        expires: formatCapDateTime(now + 6 * 3600_000),
        senderName: 'Đài Khí tượng Thủy văn tỉnh Mẫu',
        headline: 'Cảnh báo lũ quét',
        description: 'Mưa lớn trong 24 giờ tới, nguy cơ lũ quét cao.',
        parameter: [{ valueName: 'VN-QD18-2021-CapDoRuiRo', value: '3' }],
        area: [{ areaDesc: 'xã Tân Lập', geocode: [{ valueName: 'MaDVHC', value: '99003' }] }],
        ...info,
      } as never,
    ],
    ...o,
  };
}

export const xmlOf = (a: CapAlertInput) => writeCap(a);
export const refOf = (a: CapAlertInput) => ({ sender: a.sender, identifier: a.identifier, sent: a.sent });
