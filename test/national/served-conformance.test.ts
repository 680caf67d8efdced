/**
 * Our served interface (a Loa Xã server playing the province's source system, issue 17) against the recorded
 * fixtures, driven by the conformance kit acting as the other side: a child reporting every recorded up message
 * is taken, and every message the published checker refuses, up or down, our server refuses too (HTTP 4xx, the
 * answer's refusal) — a Loa Xã source system must not take what a province's would not.
 */
import t from 'tap';
import { startTestServer } from '../helpers/server.js';
import { freePort } from '../helpers/wait.js';
import { sendDown } from './kit/province.js';
import { loadFixtures, loadNegatives } from './kit/fixtures.js';
import { UP_KINDS, type VariantName } from './kit/variants.js';

const AREAS = {
  vi: { code: '24', name: 'Tỉnh Bắc Ninh', communes: [['07246', 'Xã Xuân Lương', 'xã'], ['07210', 'Phường Bắc Giang', 'phường']] },
  en: { code: '51', name: 'Tỉnh Quảng Ngãi', communes: [['21034', 'Xã An Phú', 'xã'], ['21025', 'Phường Cẩm Thành', 'phường']] },
} as const;
/** The NguonID each side writes in the fixtures: the commune system reporting up, the province sending down. */
const IDS = { vi: { child: '07246', parent: 'H24' }, en: { child: '21034', parent: 'H51' } } as const;

for (const variant of ['vi', 'en'] as VariantName[]) {
  t.test(`${variant}: our served interface takes the recorded reports and refuses what the checker refuses`, async (t) => {
    const { api, token, base } = await startTestServer(t);
    const a = AREAS[variant];
    const imported = await api('POST', '/api/v1/areas/import', { source: 'trích danh mục', provinces: [{ code: a.code, name: a.name, type: 'tỉnh', communes: a.communes.map(([code, name, type]) => ({ code, name, type })) }] }, token);
    t.equal(imported.status, 200);
    const peer = async (role: 'child' | 'parent', sourceId: string, username: string) => {
      const r = await api('POST', '/api/v1/national/peers', { role, name: `${role} ${sourceId}`, sourceId, mapping: variant, username, areaCodes: [a.code] }, token);
      t.equal(r.status, 201);
      return { username, password: r.body.password as string };
    };
    const child = await peer('child', IDS[variant].child, 'he-thong-xa');
    const parent = await peer('parent', IDS[variant].parent, 'nguon-tinh');
    const childUrl = `${base}/national`;
    const isUp = (k: string) => (UP_KINDS as readonly string[]).includes(k);

    for (const f of loadFixtures(variant).filter((x) => isUp(x.kind))) {
      const r = await sendDown({ childUrl, variant, kind: f.kind, body: f.body, ...child });
      t.same({ status: r.status, ok: r.answer?.ok }, { status: 200, ok: true }, `${f.file}: taken (${r.answer?.message})`);
    }
    // A bulletin our server took would fetch its audio: the recorded province's address is replaced by a loopback
    // port nobody listens on, so the test stays off the network whatever happens.
    const nowhere = `http://127.0.0.1:${await freePort()}/khong-co.mp3`;
    for (const n of loadNegatives(variant)) {
      const body = structuredClone(n.body) as Record<string, Record<string, unknown>>;
      for (const holder of [body.NoiDung, body.Content]) if (holder && typeof holder.Link === 'string' && holder.Link.startsWith('https://nguon.')) holder.Link = nowhere;
      const r = await sendDown({ childUrl, variant, kind: n.kind, body, ...(isUp(n.kind) ? child : parent) });
      t.ok(r.status >= 400 && r.status < 500 && r.answer?.ok === false, `${n.name}: refused too (HTTP ${r.status}: ${r.answer?.message})`);
    }
  });
}
