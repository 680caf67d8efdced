/** API failures as sentences for people. */
import { ApiFailure } from '../api/client.js';
import { t } from '../i18n/vi.js';

export function errorMessage(err: unknown): string {
  if (err instanceof ApiFailure) {
    const detail = err.fields.length ? ` ${err.fields.map((f) => `${f.path}: ${f.message}`).join('; ')}` : ` ${err.message}`;
    switch (err.status) {
      case 0:
        return t.errors.network;
      case 400:
        return `${t.errors.invalid}${detail}`;
      case 401:
        return /emergency/i.test(err.message) ? t.errors.reauth : t.errors.unauthorized;
      case 403:
        return `${t.errors.forbidden} (${err.message})`;
      case 404:
        return t.errors.notFound;
      case 409:
        return `${t.errors.conflict} (${err.message})`;
      case 413:
        return t.errors.tooLarge;
      default:
        return err.status >= 500 ? t.errors.server : `${t.errors.generic}${detail}`;
    }
  }
  return t.errors.generic;
}

export function isMissingRoute(err: unknown): boolean {
  return err instanceof ApiFailure && err.status === 404 && /^no route /.test(err.message);
}

/** Why the server refused a recording (its 415 messages are English), in Vietnamese. */
export function recordingRefusal(message: string): string {
  if (/too short/i.test(message)) return t.upload.errors.tooShort;
  if (/longer than/i.test(message)) return t.upload.errors.tooLong;
  if (/not an audio file/i.test(message)) return t.upload.errors.notAudio;
  return t.upload.errors.failed;
}

/** An upload's failure: the server's 413 and 415 in the operator's words, anything else as usual. */
export function uploadErrorMessage(err: unknown): string {
  if (err instanceof ApiFailure) {
    if (err.status === 413) return t.upload.errors.tooLarge;
    if (err.status === 415) return recordingRefusal(err.message);
    if (err.status === 400 && err.fields.some((f) => f.path === 'file')) return t.upload.needFile;
    if (err.status === 400 && err.fields.some((f) => f.path === 'title')) return t.compose.needTitle;
  }
  return errorMessage(err);
}
