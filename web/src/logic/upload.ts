/**
 * Checks on a chosen recording before it is sent. They only catch the obvious: the server decides by
 * decoding the file (a text file renamed .mp3 passes here and is refused there, with a 415).
 */

/** The server's default `LOAXA_UPLOAD_LIMIT_BYTES` (100 MiB); a smaller configured limit answers 413. */
export const UPLOAD_MAX_BYTES = 100 * 1024 * 1024;

/** The file picker's filter: any audio, plus the common extensions for systems that do not map them. */
export const RECORDING_ACCEPT = 'audio/*,.mp3,.wav,.m4a';

const AUDIO_EXTENSIONS = new Set(['mp3', 'wav', 'm4a', 'aac', 'ogg', 'oga', 'opus', 'flac', 'wma', 'amr', '3gp', '3ga', 'mp4', 'webm', 'aif', 'aiff', 'caf', 'mka']);
/** Containers some systems label as video or generic although they hold only sound (M4A, OGG, 3GP). */
const AUDIO_LIKE_TYPES = new Set(['video/mp4', 'video/3gpp', 'video/webm', 'video/ogg', 'application/ogg', 'application/octet-stream']);

export type RecordingProblem = 'empty' | 'type' | 'size';

export function fileExtension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/**
 * Why a file is plainly not an uploadable recording, or null when the server should judge it. A file is
 * plainly of the wrong type only when the browser names a non-audio type *and* the name is not an audio one.
 */
export function recordingProblem(file: { name: string; size: number; type: string }, maxBytes = UPLOAD_MAX_BYTES): RecordingProblem | null {
  if (file.size === 0) return 'empty';
  const type = file.type.toLowerCase();
  const audioType = type === '' || type.startsWith('audio/') || AUDIO_LIKE_TYPES.has(type);
  if (!audioType && !AUDIO_EXTENSIONS.has(fileExtension(file.name))) return 'type';
  if (file.size > maxBytes) return 'size';
  return null;
}
