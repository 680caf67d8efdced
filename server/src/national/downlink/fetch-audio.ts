/**
 * Fetches a bulletin's audio from the *NoiDung.Link* a parent sent down (issue 17). The link is the parent's
 * word, so it is hostile until proved otherwise: http/https only, every address (and every redirect's) checked
 * by the relay address guard (no loopback, link-local or private address unless LOAXA_SOURCE_PRIVATE_NETS
 * names it: issue 15 review, SSRF), a bound on the bytes and a timeout on the whole download, at most a few
 * redirects, each checked again. The file lands in the uploads folder, then the upload path decodes it
 * (services/recording.ts) — never its name or its Content-Type — and masters it to broadcast loudness.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { StreamAddressGuard } from '../../relay/address-guard.js';

export const DEFAULT_AUDIO_MAX_BYTES = 64 * 1024 * 1024;
export const DEFAULT_AUDIO_TIMEOUT_MS = 60_000;
const MAX_REDIRECTS = 3;

/** Why a link was not fetched; `permanent` when sending it again will not help (the parent's body is wrong). */
export class AudioFetchError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

export interface FetchAudioOptions {
  guard: Pick<StreamAddressGuard, 'refusal'>;
  dir: string;
  maxBytes?: number;
  timeoutMs?: number;
}

/** Downloads `link` into a new file under `dir`; answers its path (the caller owns and removes it). */
export async function fetchAudio(link: string, opts: FetchAudioOptions): Promise<string> {
  const maxBytes = opts.maxBytes ?? DEFAULT_AUDIO_MAX_BYTES;
  const signal = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_AUDIO_TIMEOUT_MS);
  let url = link;
  let res: Response;
  for (let hop = 0; ; hop++) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new AudioFetchError('Đường dẫn âm thanh (NoiDung.Link) không phải URL', true);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new AudioFetchError(`Đường dẫn âm thanh phải là http hoặc https, không phải ${u.protocol}`, true);
    const refused = await opts.guard.refusal(url);
    if (refused) throw new AudioFetchError(`Không tải âm thanh từ ${u.host}: ${refused}`, true);
    try {
      res = await fetch(url, { redirect: 'manual', signal, headers: { accept: 'audio/*, application/octet-stream;q=0.8, */*;q=0.5' } });
    } catch (err) {
      throw new AudioFetchError(`Không tải được âm thanh từ ${u.host}: ${signal.aborted ? 'quá thời gian chờ' : (err as Error).message}`, false);
    }
    if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
      await res.body?.cancel().catch(() => undefined);
      if (hop >= MAX_REDIRECTS) throw new AudioFetchError('Đường dẫn âm thanh chuyển hướng quá nhiều lần', true);
      url = new URL(res.headers.get('location')!, url).toString();
      continue;
    }
    break;
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => undefined);
    throw new AudioFetchError(`Máy chủ âm thanh trả lời HTTP ${res.status}`, res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429);
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body.cancel().catch(() => undefined);
    throw new AudioFetchError(`Tệp âm thanh quá lớn (${declared} byte, tối đa ${maxBytes})`, true);
  }
  await mkdir(opts.dir, { recursive: true });
  const path = join(opts.dir, `${randomUUID()}.upload`);
  const out = createWriteStream(path, { mode: 0o600 });
  let bytes = 0;
  try {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (bytes > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new AudioFetchError(`Tệp âm thanh quá lớn (hơn ${maxBytes} byte)`, true);
      }
      if (!out.write(value)) await new Promise<void>((r) => out.once('drain', r));
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    if (bytes === 0) throw new AudioFetchError('Tệp âm thanh rỗng', true);
    return path;
  } catch (err) {
    out.destroy();
    await rm(path, { force: true });
    if (err instanceof AudioFetchError) throw err;
    throw new AudioFetchError(`Không tải hết được âm thanh: ${signal.aborted ? 'quá thời gian chờ' : (err as Error).message}`, false);
  }
}
