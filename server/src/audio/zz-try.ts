import { EspeakEngine, renderSpeech } from './index.js';
const engine = new EspeakEngine();
const s = 'Ủy ban nhân dân xã thông báo: ngày mai cắt điện từ bảy giờ đến mười một giờ. Đề nghị bà con chuẩn bị, và chú ý an toàn khi sử dụng điện. ';
for (const voice of ['vi', 'vi-vn-x-central', 'vi-vn-x-south']) for (const speed of [1, 1.5, 0.5]) {
  const text = s.repeat(8);
  const t0 = performance.now();
  let synthAt = 0;
  const r = await renderSpeech({ engine, text, voice, speed, onProgress: (p, st) => { if (st === 'encoding' && !synthAt) synthAt = performance.now(); } });
  const wall = performance.now() - t0;
  console.log(voice, speed, 'dur', r.durationMs, 'wall', wall.toFixed(0), 'synth', (synthAt - t0).toFixed(0), 'RTF', (wall / r.durationMs).toFixed(3), r.lufs, r.truePeakDb, (r.ogg.length * 8 / r.durationMs).toFixed(1), 'kbps');
}
