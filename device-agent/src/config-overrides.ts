/**
 * Settings changed remotely (`update-config`), kept in `<stateDir>/config-overrides.json` (mode 0600,
 * written atomically) and applied over the installer's file and variables at every start. Only the keys
 * below may be changed from the server: identity, credentials, folders, executables, GPIO wiring and the
 * modem recovery command (a shell command line) stay under the installer's control, so a compromised
 * server cannot make a box run arbitrary programs or drive arbitrary pins.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from './atomic-file.js';
import { agentConfigSchema, type AgentConfig } from './config.js';

export const CONFIG_OVERRIDES_FILE = 'config-overrides.json';

/** Keys the server may change, and whether a change takes effect without restarting the agent. */
export const REMOTE_CONFIG_KEYS = {
  heartbeatMs: 'live',
  downloadRetryMs: 'live',
  downloadTimeoutMs: 'live',
  prefetchLeadMs: 'live',
  diskMinFreeBytes: 'live',
  clockMaxOffsetMs: 'live',
  clockSyncGraceMs: 'live',
  reconnectMs: 'restart',
  reconnectMaxMs: 'restart',
  cacheMaxBytes: 'restart',
  player: 'restart',
  alsaDevice: 'restart',
  mixer: 'restart',
  mixerDevice: 'restart',
  mixerControl: 'restart',
  ampWarmupMs: 'restart',
  ampHoldMs: 'restart',
  faultPollMs: 'restart',
  faultDebounce: 'restart',
  modemRecoveryAfterFailures: 'restart',
  modemRecoveryIntervalMs: 'restart',
} as const satisfies Partial<Record<keyof AgentConfig, 'live' | 'restart'>>;

export type RemoteConfigKey = keyof typeof REMOTE_CONFIG_KEYS;
export const REMOTE_CONFIG_KEY_NAMES = Object.keys(REMOTE_CONFIG_KEYS) as [RemoteConfigKey, ...RemoteConfigKey[]];

/** The field's own schema without its default: an absent key must stay absent, not become the default. */
function withoutDefault(schema: z.ZodType): z.ZodType {
  return schema instanceof z.ZodDefault ? (schema.unwrap() as z.ZodType) : schema;
}
const remoteShape = Object.fromEntries(REMOTE_CONFIG_KEY_NAMES.map((k) => [k, withoutDefault(agentConfigSchema.shape[k]).optional()])) as {
  [K in RemoteConfigKey]: z.ZodOptional<z.ZodType<AgentConfig[K]>>;
};
/** The overrides file: only remotely changeable keys, each valid on its own. */
export const configOverridesSchema = z.strictObject(remoteShape);
export type ConfigOverrides = z.infer<typeof configOverridesSchema>;

export function overridesFile(stateDir: string): string {
  return join(stateDir, CONFIG_OVERRIDES_FILE);
}

/** The saved overrides; an unreadable file is reported and ignored (the installer's settings still hold). */
export async function readOverrides(stateDir: string): Promise<{ overrides: ConfigOverrides; error?: string }> {
  let text: string;
  try {
    text = await readFile(overridesFile(stateDir), 'utf8');
  } catch {
    return { overrides: {} };
  }
  try {
    return { overrides: configOverridesSchema.parse(JSON.parse(text)) };
  } catch (err) {
    return { overrides: {}, error: (err as Error).message.slice(0, 500) };
  }
}

export async function writeOverrides(stateDir: string, overrides: ConfigOverrides): Promise<void> {
  await writeFileAtomic(overridesFile(stateDir), `${JSON.stringify(configOverridesSchema.parse(overrides), null, 2)}\n`, { mode: 0o600 });
}

export function applyOverrides(base: AgentConfig, overrides: ConfigOverrides): AgentConfig {
  return agentConfigSchema.parse({ ...base, ...overrides });
}

export interface ConfigChange {
  config: AgentConfig;
  overrides: ConfigOverrides;
  changed: RemoteConfigKey[];
  restart: boolean;
}

/**
 * Validates a change (`set` values, `unset` keys back to the installer's value) against the whole schema.
 * Throws with a message naming the key when a value is refused.
 */
export function planConfigChange(base: AgentConfig, current: ConfigOverrides, change: { set?: Record<string, unknown>; unset?: string[] }): ConfigChange {
  const allowed = new Set<string>(REMOTE_CONFIG_KEY_NAMES);
  const bad = [...Object.keys(change.set ?? {}), ...(change.unset ?? [])].filter((k) => !allowed.has(k));
  if (bad.length > 0) throw new Error(`not remotely changeable: ${bad.join(', ')} (allowed: ${REMOTE_CONFIG_KEY_NAMES.join(', ')})`);
  const next: Record<string, unknown> = { ...current, ...change.set };
  for (const k of change.unset ?? []) delete next[k];
  const parsed = configOverridesSchema.safeParse(next);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const before = applyOverrides(base, current);
  const config = applyOverrides(base, parsed.data);
  const changed = REMOTE_CONFIG_KEY_NAMES.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(config[k]));
  return { config, overrides: parsed.data, changed, restart: changed.some((k) => REMOTE_CONFIG_KEYS[k] === 'restart') };
}
