/**
 * The simulator's state file: the server it provisioned against and the credentials of every box it
 * created (a device password is shown once by the server, so losing it means provisioning again).
 * Read through zod; written to a temp file with mode 0600 and renamed, so it is never half-written.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { z } from 'zod';
import { areaCodeSchema, idSchema } from '@loaxa/shared';

export const simDeviceSchema = z.object({
  id: idSchema,
  name: z.string().min(1),
  areaCode: areaCodeSchema,
  /** Kept so a later run needs no login to know which area topics to follow. */
  areaAncestors: z.array(areaCodeSchema),
  mqtt: z.object({ url: z.string().min(1), username: z.string().min(1), password: z.string().min(1) }),
});
export type SimDevice = z.infer<typeof simDeviceSchema>;

export const simStateSchema = z.object({
  serverUrl: z.string().url(),
  devices: z.array(simDeviceSchema),
});
export type SimState = z.infer<typeof simStateSchema>;

export class SimError extends Error {
  override name = 'SimError';
}

/** The state, or null when the file does not exist; a damaged file is an error (it holds secrets). */
export async function readSimState(file: string): Promise<SimState | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new SimError(`cannot read the state file ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SimError(`the state file ${file} is not valid JSON; move it away to provision new boxes`);
  }
  const parsed = simStateSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new SimError(`the state file ${file} is not a simulator state (${first?.path.join('.') || '(root)'}: ${first?.message}); move it away to provision new boxes`);
  }
  return parsed.data;
}

export async function writeSimState(file: string, state: SimState): Promise<void> {
  const valid = simStateSchema.parse(state);
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, `${JSON.stringify(valid, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, file);
}

/** Where the boxes of a state file keep their caches: `<dir>/<name>.boxes/<deviceId>/`. */
export function boxDir(stateFile: string, deviceId: string): string {
  const name = basename(stateFile, extname(stateFile));
  return join(dirname(stateFile), `${name}.boxes`, deviceId);
}
