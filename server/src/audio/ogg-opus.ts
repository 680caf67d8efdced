// Just enough Ogg (RFC 3533) and Ogg Opus (RFC 7845) to join Opus streams that were encoded separately
// (segments of one bulletin, encoded on several cores) into one ordinary single-stream file.
//
// Joining rule: the packets of every segment follow each other in one logical stream, under the first
// segment's headers. A later segment's packets start with its encoder's priming (pre-skip samples), which
// now play instead of being skipped; the encoder (opus-encode.ts) cuts segments inside pauses and drops that
// many samples of silence from each later segment's input, so the joined file keeps the input's length.
// Only the final page's granule position trims the last segment's padding (RFC 7845 §4.4).

export interface OggOpusStream {
  head: Buffer;
  tags: Buffer;
  /** Audio packets in order. */
  packets: Buffer[];
  /** Samples (at 48 kHz) the encoder put before the audio; from OpusHead. */
  preSkip: number;
  /** Granule position of the last page: pre-skip + samples meant to be played. */
  finalGranule: number;
}

const CAPTURE = Buffer.from('OggS', 'latin1');
const HEADER_BYTES = 27;
const FLAG_BOS = 0x02;
const FLAG_EOS = 0x04;
const PAGE_SAMPLES = 48_000; // one page per second of audio, as ffmpeg's muxer writes them
const MAX_SEGMENTS = 255;

/** Reads the logical stream of an Ogg Opus file (the first one, if it were multiplexed). */
export function readOggOpus(file: Buffer): OggOpusStream {
  const packets: Buffer[] = [];
  let partial: Buffer[] = [];
  let finalGranule = 0;
  let serial: number | null = null;
  for (let at = 0; at < file.length; ) {
    if (!file.subarray(at, at + 4).equals(CAPTURE)) throw new Error(`not an Ogg page at byte ${at}`);
    const segments = file[at + 26]!;
    const table = file.subarray(at + HEADER_BYTES, at + HEADER_BYTES + segments);
    let body = at + HEADER_BYTES + segments;
    const pageSerial = file.readUInt32LE(at + 14);
    serial ??= pageSerial;
    if (pageSerial === serial) {
      const granule = Number(file.readBigInt64LE(at + 6));
      if (granule >= 0) finalGranule = granule;
      for (const lace of table) {
        partial.push(file.subarray(body, body + lace));
        body += lace;
        if (lace < 255) {
          packets.push(Buffer.concat(partial));
          partial = [];
        }
      }
    }
    at = at + HEADER_BYTES + segments + table.reduce((n, v) => n + v, 0);
  }
  const [head, tags, ...audio] = packets;
  if (!head || head.subarray(0, 8).toString('latin1') !== 'OpusHead') throw new Error('no OpusHead packet');
  if (!tags || tags.subarray(0, 8).toString('latin1') !== 'OpusTags') throw new Error('no OpusTags packet');
  return { head, tags, packets: audio, preSkip: head.readUInt16LE(10), finalGranule };
}

/** Samples (at 48 kHz) one Opus packet decodes to, from its TOC byte (RFC 6716 §3.1). */
export function opusPacketSamples(packet: Buffer): number {
  if (packet.length === 0) return 0;
  const toc = packet[0]!;
  const config = toc >> 3;
  let frame: number;
  if (config < 12) frame = [480, 960, 1920, 2880][config & 3]!; // SILK: 10, 20, 40, 60 ms
  else if (config < 16) frame = (config & 1) === 0 ? 480 : 960; // hybrid: 10, 20 ms
  else frame = [120, 240, 480, 960][config & 3]!; // CELT: 2.5, 5, 10, 20 ms
  const code = toc & 3;
  const frames = code === 0 ? 1 : code < 3 ? 2 : (packet[1] ?? 0) & 0x3f;
  return frame * frames;
}

/**
 * Joins separately encoded segments into one stream. `playSamples` is how many samples the joined file
 * should play (the input length); the final granule position trims whatever the last packet adds after it.
 */
export function joinOggOpus(segments: readonly OggOpusStream[], playSamples: number): Buffer {
  const first = segments[0];
  if (!first) throw new Error('nothing to join');
  const writer = new OggOpusWriter(first);
  const pages = [writer.header()];
  for (const s of segments) pages.push(writer.add(s.packets));
  pages.push(writer.finish(playSamples));
  return Buffer.concat(pages);
}

/**
 * Writes one Ogg Opus stream a piece at a time, so a decoder can start on the first segments while later
 * ones are still being encoded. The concatenation of everything it returns is the file joinOggOpus makes.
 */
export class OggOpusWriter {
  readonly #first: Pick<OggOpusStream, 'head' | 'tags' | 'preSkip'>;
  #sequence = 0;
  #decoded = 0; // a page's granule: samples decoded through its last packet, pre-skip included
  #batch: Buffer[] = [];
  #batchSamples = 0;
  #laces = 0;

  constructor(first: Pick<OggOpusStream, 'head' | 'tags' | 'preSkip'>) {
    this.#first = first;
  }

  /** The two header pages (OpusHead, OpusTags of the first segment). */
  header(): Buffer {
    return Buffer.concat([this.#page([this.#first.head], 0, FLAG_BOS), this.#page([this.#first.tags], 0, 0)]);
  }

  /** Audio packets; returns the pages they completed (the last, partial page waits for more). */
  add(packets: readonly Buffer[]): Buffer {
    const pages: Buffer[] = [];
    for (const packet of packets) {
      const need = Math.floor(packet.length / 255) + 1;
      if (this.#batch.length > 0 && (this.#laces + need > MAX_SEGMENTS || this.#batchSamples >= PAGE_SAMPLES)) {
        pages.push(this.#page(this.#batch, this.#decoded, 0));
        this.#batch = [];
        this.#batchSamples = 0;
        this.#laces = 0;
      }
      this.#batch.push(packet);
      this.#laces += need;
      const n = opusPacketSamples(packet);
      this.#decoded += n;
      this.#batchSamples += n;
    }
    return Buffer.concat(pages);
  }

  /** The last page, marked end of stream, its granule trimming the output to `playSamples`. */
  finish(playSamples: number): Buffer {
    const end = this.#first.preSkip + playSamples;
    return this.#page(this.#batch, Math.min(this.#decoded, end), FLAG_EOS);
  }

  #page(packets: Buffer[], granule: number, flags: number): Buffer {
    return oggPage(packets, granule, SERIAL, this.#sequence++, flags);
  }
}

const SERIAL = 0x4c6f6158; // "LoaX": any value serves a file with one logical stream

function oggPage(packets: Buffer[], granule: number, serial: number, sequence: number, flags: number): Buffer {
  const laces: number[] = [];
  for (const p of packets) {
    for (let left = p.length; ; left -= 255) {
      if (left >= 255) laces.push(255);
      else {
        laces.push(left);
        break;
      }
    }
  }
  const header = Buffer.alloc(HEADER_BYTES + laces.length);
  CAPTURE.copy(header, 0);
  header[4] = 0; // version
  header[5] = flags; // packets never span pages here, so "continued" is never set
  header.writeBigInt64LE(BigInt(granule), 6);
  header.writeUInt32LE(serial, 14);
  header.writeUInt32LE(sequence, 18);
  header[26] = laces.length;
  Buffer.from(laces).copy(header, HEADER_BYTES);
  const page = Buffer.concat([header, ...packets]);
  page.writeUInt32LE(oggCrc(page), 22);
  return page;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let j = 0; j < 8; j++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

/** Ogg's CRC-32: polynomial 0x04c11db7, not reflected, initial value 0, over the page with its CRC field zeroed. */
export function oggCrc(page: Buffer): number {
  let crc = 0;
  for (let i = 0; i < page.length; i++) {
    const byte = i >= 22 && i < 26 ? 0 : page[i]!;
    crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  }
  return crc;
}
