/** Error codes shared by HTTP answers, MQTT `res` answers and device reports. */
export const ErrorCode = {
  BAD_REQUEST: 'LOAXA_BAD_REQUEST',
  UNAUTHORIZED: 'LOAXA_UNAUTHORIZED',
  FORBIDDEN: 'LOAXA_FORBIDDEN',
  NOT_FOUND: 'LOAXA_NOT_FOUND',
  CONFLICT: 'LOAXA_CONFLICT',
  TOO_LARGE: 'LOAXA_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'LOAXA_UNSUPPORTED_MEDIA_TYPE',
  RATE_LIMITED: 'LOAXA_RATE_LIMITED',
  INTERNAL: 'LOAXA_INTERNAL',
  UNAVAILABLE: 'LOAXA_UNAVAILABLE',
  /** An MQTT payload that is not JSON or fails its schema. */
  BAD_MESSAGE: 'LOAXA_BAD_MESSAGE',
  UNKNOWN_TYPE: 'LOAXA_UNKNOWN_TYPE',
  EXPIRED: 'LOAXA_EXPIRED',
  DUPLICATE: 'LOAXA_DUPLICATE',
  HASH_MISMATCH: 'LOAXA_HASH_MISMATCH',
  DOWNLOAD_FAILED: 'LOAXA_DOWNLOAD_FAILED',
  PLAYBACK_FAILED: 'LOAXA_PLAYBACK_FAILED',
  TTS_FAILED: 'LOAXA_TTS_FAILED',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const errorCodeSchemaValues = Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]];

export interface ErrorFieldDetail {
  path: string;
  message: string;
}

/** The HTTP error body of CONTRACTS.md. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; fields?: ErrorFieldDetail[] };
}

/** Turns zod issues into the `fields` list of the error body (`target.areaCodes.0`). */
export function issuesToFields(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): ErrorFieldDetail[] {
  return issues.map((i) => ({ path: i.path.map((p) => String(p)).join('.'), message: i.message }));
}
