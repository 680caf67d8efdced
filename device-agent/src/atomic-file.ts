/**
 * Writes that survive a power cut: the data goes to a temp file in the same folder, is flushed to the
 * storage (fsync), and then renamed over the target; the folder is flushed too, so the rename itself is
 * durable. After a cut the target holds either the old or the new content, never a mix or an empty file
 * (ext4's delayed allocation can otherwise leave a zero-length file behind a completed rename).
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Temp files of atomic writes end with this; leftovers from a cut are removed at start. */
export const ATOMIC_TEMP_SUFFIX = '.tmp';

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r').catch(() => null);
  if (!fh) return;
  try {
    await fh.sync().catch(() => undefined);
  } finally {
    await fh.close();
  }
}

export async function writeFileAtomic(file: string, data: string | Buffer, opts: { mode?: number } = {}): Promise<void> {
  const temp = `${file}.${randomBytes(4).toString('hex')}${ATOMIC_TEMP_SUFFIX}`;
  const fh = await open(temp, 'w', opts.mode ?? 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  try {
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dirname(file));
}
