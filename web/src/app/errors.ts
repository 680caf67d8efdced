/** API failures as sentences for people. */
import { ApiFailure } from '../api/client.js';
import type { Priority } from '../api/types.js';
import { t } from '../i18n/vi.js';
import { allowedPriorities } from '../logic/live.js';

/**
 * Issue 20 ("no ids or HTTP codes shown"): the server's own text is English and names ids and fields
 * (`offer of_8f…: declined`, `areaCodes.0: unknown area`); people get the sentence for what happened, and the
 * forms that can say which field is wrong map the fields themselves (logic/schedule.ts, relays.ts, settings).
 */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiFailure) {
    switch (err.status) {
      case 0:
        return t.errors.network;
      case 400:
        return t.errors.invalidInput;
      case 401:
        return /emergency/i.test(err.message) ? t.errors.reauth : t.errors.unauthorized;
      case 403:
        return t.errors.forbidden;
      case 404:
        return t.errors.notFound;
      case 409:
        return t.errors.conflict;
      case 413:
        return t.errors.tooLarge;
      default:
        return err.status >= 500 ? t.errors.server : t.errors.generic;
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

/**
 * Why the server refused to go live (`POST /api/v1/live`, server/src/live/live-service.ts), with what to do:
 * the priority not allowed by LOAXA_LIVE_ROLES (and those that are), an emergency without a recent login, a
 * target outside the user's area or without boxes, an airing of theirs still on, a server at its limit.
 */
export function liveRefusal(err: unknown, priority: Priority): string {
  if (!(err instanceof ApiFailure)) return errorMessage(err);
  switch (err.status) {
    case 403: {
      if (/outside your area/i.test(err.message)) return t.golive.errors.outside;
      if (!/go live/i.test(err.message)) return errorMessage(err);
      const allowed = allowedPriorities(err.message).map((p) => t.priorities[p]);
      return `${t.golive.errors.forbidden(t.priorities[priority])}${allowed.length ? ` ${t.golive.errors.allowed(allowed.join(', '))}` : ''}`;
    }
    case 401:
      return /emergency|log in again/i.test(err.message) ? t.golive.errors.reauth : t.errors.unauthorized;
    case 400:
      if (err.fields.some((f) => f.message === 'no box')) return t.golive.errors.noBoxes;
      return `${t.golive.errors.invalid} ${err.fields.length ? err.fields.map((f) => `${f.path}: ${f.message}`).join('; ') : err.message}`;
    case 409:
      return t.golive.errors.busy;
    case 503:
      return t.golive.errors.full;
    default:
      return errorMessage(err);
  }
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
