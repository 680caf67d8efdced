/**
 * Fetches a bulletin's audio from the *NoiDung.Link* a parent sent down (issue 17). The link is the parent's
 * word, so it is hostile until proved otherwise: http/https only, every address (and every redirect's) checked
 * by the relay address guard (no loopback, link-local or private address unless LOAXA_SOURCE_PRIVATE_NETS
 * names it: issue 15 review, SSRF) and connected to as checked (relay/guarded-fetch.ts: no DNS rebinding), a bound on the bytes and a timeout on the whole download, at most a few
 * redirects, each checked again. The file lands in the uploads folder, then the upload path decodes it
 * (services/recording.ts) — never its name or its Content-Type — and masters it to broadcast loudness.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { StreamAddressGuard } from '../../relay/address-guard.js';
import { guardedGet, GuardedFetchError, type GuardedResponse } from '../../relay/guarded-fetch.js';

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
  guard: Pick<StreamAddressGuard, 'checkedAddresses'>;
  dir: string;
  maxBytes?: number;
  timeoutMs?: number;
}

/** Downloads `link` into a new file under `dir`; answers its path (the caller owns and removes it). */
export async function fetchAudio(link: string, opts: FetchAudioOptions): Promise<string> {
  const maxBytes = opts.maxBytes ?? DEFAULT_AUDIO_MAX_BYTES;
  const signal = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_AUDIO_TIMEOUT_MS);
  let res: GuardedResponse;
  try {
    // Connects only to the address the guard checked, at every redirect hop (issue 17 review: a fetch after a
    // separate check resolved the name again — DNS rebinding — and a name the check could not resolve went through).
    res = await guardedGet(link, { guard: opts.guard, signal, maxRedirects: MAX_REDIRECTS, headers: { accept: 'audio/*, application/octet-stream;q=0.8, */*;q=0.5' } });
  } catch (err) {
    if (!(err instanceof GuardedFetchError)) throw err;
    switch (err.kind) {
      case 'url':
        throw new AudioFetchError('Đường dẫn âm thanh (NoiDung.Link) không phải URL', true);
      case 'scheme':
        throw new AudioFetchError(`Đường dẫn âm thanh phải là http hoặc https (${err.message})`, true);
      case 'redirects':
        throw new AudioFetchError('Đường dẫn âm thanh chuyển hướng quá nhiều lần', true);
      case 'refused':
        throw new AudioFetchError(`Không tải âm thanh từ ${err.host}: ${err.message}`, true);
      default:
        throw new AudioFetchError(`Không tải được âm thanh từ ${err.host}: ${signal.aborted ? 'quá thời gian chờ' : err.message}`, false);
    }
  }
  const body = res.body;
  if (res.status < 200 || res.status >= 300) {
    body.destroy();
    throw new AudioFetchError(`Máy chủ âm thanh trả lời HTTP ${res.status}`, res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429);
  }
  const declared = Number(res.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    body.destroy();
    throw new AudioFetchError(`Tệp âm thanh quá lớn (${declared} byte, tối đa ${maxBytes})`, true);
  }
  let path: string | null = null;
  let out: WriteStream | null = null;
  let bytes = 0;
  try {
    await mkdir(opts.dir, { recursive: true });
    path = join(opts.dir, `${randomUUID()}.upload`);
    const file = createWriteStream(path, { mode: 0o600 });
    out = file;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      bytes += chunk.byteLength;
      if (bytes > maxBytes) throw new AudioFetchError(`Tệp âm thanh quá lớn (hơn ${maxBytes} byte)`, true);
      if (!file.write(chunk)) await new Promise<void>((r) => file.once('drain', r));
    }
    await new Promise<void>((resolve, reject) => file.end((err?: Error | null) => (err ? reject(err) : resolve())));
    if (bytes === 0) throw new AudioFetchError('Tệp âm thanh rỗng', true);
    return path;
  } catch (err) {
    body.destroy();
    out?.destroy();
    if (path) await rm(path, { force: true });
    if (err instanceof AudioFetchError) throw err;
    throw new AudioFetchError(`Không tải hết được âm thanh: ${signal.aborted ? 'quá thời gian chờ' : (err as Error).message}`, false);
  }
}
