import t from 'tap';
import { parseWav } from '../../../server/src/audio/index.js';

function wav(opts: { samples: number[]; channels?: number; bits?: number; dataSize?: number; extraChunk?: boolean }): Buffer {
  const { samples, channels = 1, bits = 16, extraChunk = false } = opts;
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => data.writeInt16LE(s, i * 2));
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0, 'latin1');
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(1, 8);
  fmt.writeUInt16LE(channels, 10);
  fmt.writeUInt32LE(22050, 12);
  fmt.writeUInt32LE(22050 * 2 * channels, 16);
  fmt.writeUInt16LE(2 * channels, 20);
  fmt.writeUInt16LE(bits, 22);
  // An odd-sized chunk checks the pad byte is skipped.
  const list = extraChunk ? Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc'), Buffer.from([0])]) : Buffer.alloc(0);
  const dataHeader = Buffer.alloc(8);
  dataHeader.write('data', 0, 'latin1');
  dataHeader.writeUInt32LE(opts.dataSize ?? data.length, 4);
  const body = Buffer.concat([Buffer.from('WAVE'), fmt, list, dataHeader, data]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

t.test('reads samples after extra chunks, not at a fixed offset', async (t) => {
  const pcm = parseWav(wav({ samples: [1, -2, 32767, -32768], extraChunk: true }));
  t.equal(pcm.sampleRate, 22050);
  t.same(Array.from(pcm.samples), [1, -2, 32767, -32768]);
});

t.test('a streaming header (data size 0 or 0xFFFFFFFF) means the rest of the file', async (t) => {
  for (const dataSize of [0, 0xffffffff, 1000]) {
    t.same(Array.from(parseWav(wav({ samples: [5, 6, 7], dataSize })).samples), [5, 6, 7], `size ${dataSize}`);
  }
});

t.test('stereo is mixed down to mono', async (t) => {
  t.same(Array.from(parseWav(wav({ samples: [100, 300, -10, -30], channels: 2 })).samples), [200, -20]);
});

t.test('refuses what it cannot read', async (t) => {
  t.throws(() => parseWav(Buffer.from('not a wav file at all')), /RIFF/);
  t.throws(() => parseWav(wav({ samples: [1], bits: 8 })), /8-bit/);
  const noData = wav({ samples: [] }).subarray(0, 12 + 24);
  t.throws(() => parseWav(noData), /no data chunk/);
});
