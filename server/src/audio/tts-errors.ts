// Errors every engine raises the same way, so callers (FallbackEngine, the bulletin service, an operator
// reading the log) can tell a rate limit from a timeout from a bad key without parsing messages.

export type TtsErrorKind =
  | 'rate-limit' // the provider said "too many requests": wait, or use another engine
  | 'timeout' // no (complete) answer in time
  | 'http' // unreachable, or an HTTP error status
  | 'provider' // the provider answered, but with its own error code
  | 'unsupported' // the request is outside what this engine can do (voice, speed, text length)
  | 'config' // the engine is set up wrong (missing key, missing model file)
  | 'audio'; // the audio that came back cannot be decoded

export class TtsError extends Error {
  readonly engine: string;
  readonly kind: TtsErrorKind;
  readonly status: number | undefined;

  constructor(engine: string, kind: TtsErrorKind, message: string, opts: { status?: number; cause?: unknown } = {}) {
    super(`${engine}: ${message}`, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TtsError';
    this.engine = engine;
    this.kind = kind;
    this.status = opts.status;
  }
}

export class TtsRateLimitError extends TtsError {
  /** From the provider's Retry-After header, when it sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(engine: string, message: string, opts: { status?: number; retryAfterMs?: number } = {}) {
    super(engine, 'rate-limit', message, opts);
    this.name = 'TtsRateLimitError';
    this.retryAfterMs = opts.retryAfterMs;
  }
}

export class TtsTimeoutError extends TtsError {
  constructor(engine: string, message: string) {
    super(engine, 'timeout', message);
    this.name = 'TtsTimeoutError';
  }
}
