/**
 * The default picture of a commune's page (issue 22), when the province has set none (LOAXA_FEED_IMAGE_FILE):
 * a loudspeaker with sound waves on the app's blue, drawn here as a PNG (RFC 2083: signature, IHDR, one
 * zlib IDAT, IEND) so that no image file or image library ships for it. Zalo and Facebook show it beside a
 * shared bulletin (1200×630); podcast apps show the square one (1400×1400, Apple's minimum).
 */
import { crc32, deflateSync } from 'node:zlib';

const BLUE = [11, 79, 138];
const WHITE = [255, 255, 255];
const LIGHT = [120, 170, 214];

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}

/** Which colour a point is, in a unit square centred on the speaker (x, y in [-1, 1]). */
function paint(x: number, y: number): number[] | null {
  // The speaker's body: a small box, then the horn widening to the right.
  if (x >= -0.62 && x <= -0.36 && Math.abs(y) <= 0.18) return WHITE;
  if (x > -0.36 && x <= 0.02 && Math.abs(y) <= 0.18 + (x + 0.36) * 1.1) return WHITE;
  // Three sound waves: rings around the horn's mouth, to its right only.
  if (x > 0.1) {
    const r = Math.hypot(x - 0.02, y);
    const angle = Math.abs(Math.atan2(y, x - 0.02));
    if (angle < 0.75) for (const ring of [0.28, 0.46, 0.64]) if (Math.abs(r - ring) < 0.045) return ring === 0.64 ? LIGHT : WHITE;
  }
  return null;
}

/** A PNG of `width`×`height`: the speaker in the middle, its size a share of the shorter side. */
export function coverPng(width: number, height: number): Buffer {
  const unit = Math.min(width, height) * 0.42;
  const cx = width / 2;
  const cy = height / 2;
  const stride = width * 3 + 1;
  const raw = Buffer.alloc(stride * height);
  for (let row = 0; row < height; row++) {
    raw[row * stride] = 0; // filter: none
    for (let col = 0; col < width; col++) {
      const c = paint((col - cx) / unit, (row - cy) / unit) ?? BLUE;
      const o = row * stride + 1 + col * 3;
      raw[o] = c[0]!;
      raw[o + 1] = c[1]!;
      raw[o + 2] = c[2]!;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}
