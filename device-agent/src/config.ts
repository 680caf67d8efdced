/**
 * The agent's configuration: one zod object, read once at start from a JSON file and/or `LOAXA_AGENT_*`
 * variables (variables win), failing fast with a message that names the variable (STYLE.md habit 2).
 * This is the only module of the agent that reads `process.env`.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { areaCodeSchema, idSchema } from '@loaxa/shared';
import { GPIO_BACKENDS, GPIO_SPEC_PATTERN } from './hardware/gpio.js';
import { MIXER_KINDS } from './hardware/mixer.js';

export const PLAYER_KINDS = ['ffmpeg', 'aplay', 'null'] as const;
export type PlayerKind = (typeof PLAYER_KINDS)[number];

export const agentConfigSchema = z.object({
  deviceId: idSchema,
  mqtt: z.object({
    url: z.string().regex(/^(mqtts?|wss?|tcp|tls):\/\/./, 'must be an mqtt://, mqtts://, ws:// or wss:// URL'),
    username: z.string().min(1),
    password: z.string().min(1),
    /**
     * Other nodes of the same broker cluster: each reconnect tries the next one in turn, `url` first, so a
     * box on a dead node comes back on another (issue 21, README § RabbitMQ cluster). Same login everywhere.
     */
    failoverUrls: z.array(z.string().regex(/^(mqtts?|tcp|tls):\/\/[^/]/, 'must be an mqtt:// or mqtts:// URL')).max(16).default([]),
  }),
  areaCode: areaCodeSchema,
  /** Codes of the area's ancestors (province first); the agent listens to their `a/{code}/cmd` too. */
  areaAncestors: z.array(areaCodeSchema).default([]),
  cacheDir: z.string().min(1),
  stateDir: z.string().min(1),
  heartbeatMs: z.number().int().min(50).default(30_000),
  /** Base reconnect period; each outage waits this ± 50 % so a fleet does not reconnect in step. */
  reconnectMs: z.number().int().min(50).default(5_000),
  player: z.enum(PLAYER_KINDS).default('ffmpeg'),
  alsaDevice: z.string().min(1).default('default'),
  ffmpegPath: z.string().min(1).default('ffmpeg'),
  aplayPath: z.string().min(1).default('aplay'),
  /** Upper bound of the audio cache; least recently used files beyond it are evicted. */
  cacheMaxBytes: z.number().int().positive().default(2 * 1024 ** 3),
  /** First retry delay of a failed download; it doubles per attempt up to 30 s. */
  downloadRetryMs: z.number().int().min(10).default(1_000),
  /** One download attempt is abandoned after this long. */
  downloadTimeoutMs: z.number().int().min(100).default(120_000),

  // ---- agenda and reports ----
  /** Agenda items are taken in hand (their audio fetched) at least this long before they start. */
  prefetchLeadMs: z.number().int().min(0).max(7 * 24 * 3600_000).default(10 * 60_000),
  /** Delivery and fault reports waiting on disk for the link; beyond this the oldest are dropped. */
  reportQueueMaxBytes: z.number().int().min(4_096).default(4 * 1024 ** 2),

  // ---- link ----
  /** Longest wait between reconnect attempts; the wait doubles per failed attempt up to this. */
  reconnectMaxMs: z.number().int().min(50).default(300_000),
  /** Run after this many failed connection attempts in a row (e.g. `mmcli -m any --reset`); via /bin/sh. */
  modemRecoveryCommand: z.string().min(1).max(1000).optional(),
  modemRecoveryAfterFailures: z.number().int().min(1).default(6),
  /** At most one recovery per this period. */
  modemRecoveryIntervalMs: z.number().int().min(0).default(15 * 60_000),

  // ---- hardware ----
  /** `amixer`: set the hardware mixer control and play at full scale; `software`: scale in the player. */
  mixer: z.enum(MIXER_KINDS).default('software'),
  mixerDevice: z.string().min(1).default('default'),
  mixerControl: z.string().min(1).default('PCM'),
  /** How GPIO lines are driven: libgpiod v1 CLI (`gpiod`), v2 CLI (`gpiod2`), `/sys/class/gpio`, or not at all. */
  gpio: z.enum(GPIO_BACKENDS).default('none'),
  gpioChip: z.string().min(1).default('gpiochip0'),
  /** Amplifier power output, e.g. `17` (high = on) or `17:low`. */
  ampPowerGpio: gpioSpec().optional(),
  /** Time the amplifier gets to settle after power on, before the first sample. */
  ampWarmupMs: z.number().int().min(0).max(10_000).default(500),
  /** The amplifier stays on this long after the last item (back-to-back items do not cycle the relay). */
  ampHoldMs: z.number().int().min(0).default(15_000),
  /** Sense inputs, active when the fault is present: mains lost (UPS HAT), amplifier fault, speaker line open / short. */
  powerLostGpio: gpioSpec().optional(),
  ampFaultGpio: gpioSpec().optional(),
  lineOpenGpio: gpioSpec().optional(),
  lineShortGpio: gpioSpec().optional(),
  sysRoot: z.string().min(1).default('/sys'),
  procRoot: z.string().min(1).default('/proc'),

  // ---- faults ----
  /** How often fault inputs are read; slower checks (disk, clock, sound card) run every 6th time. */
  faultPollMs: z.number().int().min(10).default(5_000),
  /** Consecutive equal readings before a fault starts or ends (filters contact bounce and one-off misreads). */
  faultDebounce: z.number().int().min(1).max(20).default(2),
  /** Disk fault below this much free space on the cache's file system. */
  diskMinFreeBytes: z.number().int().nonnegative().default(256 * 1024 ** 2),
  /** Clock fault beyond this difference to the server's clock. */
  clockMaxOffsetMs: z.number().int().min(100).default(30_000),
  /** A clock not synchronized this long after the agent started is a fault (NTP needs a while after boot). */
  clockSyncGraceMs: z.number().int().min(0).default(10 * 60_000),
  /** The process is killed (and restarted by systemd) when its event loop stalls this long; 0 disables. */
  watchdogMs: z.number().int().min(0).default(60_000),
  /** Log lines kept in memory for the fetch-logs command. */
  logRingLines: z.number().int().min(10).max(100_000).default(2_000),
});

function gpioSpec() {
  return z.string().regex(GPIO_SPEC_PATTERN, 'must be a GPIO line number, optionally with :low for active low (e.g. 17 or 17:low)');
}

export type AgentConfig = z.infer<typeof agentConfigSchema>;
/** What a caller writes before defaults are applied (the simulator and tests build configs this way). */
export type AgentConfigInput = z.input<typeof agentConfigSchema>;

type EnvKind = 'string' | 'int' | 'list';
/** Environment variable → config path. */
const ENV_VARS: ReadonlyArray<[name: string, path: readonly string[], kind: EnvKind]> = [
  ['LOAXA_AGENT_DEVICE_ID', ['deviceId'], 'string'],
  ['LOAXA_AGENT_MQTT_URL', ['mqtt', 'url'], 'string'],
  ['LOAXA_AGENT_MQTT_USERNAME', ['mqtt', 'username'], 'string'],
  ['LOAXA_AGENT_MQTT_PASSWORD', ['mqtt', 'password'], 'string'],
  ['LOAXA_AGENT_MQTT_FAILOVER_URLS', ['mqtt', 'failoverUrls'], 'list'],
  ['LOAXA_AGENT_AREA_CODE', ['areaCode'], 'string'],
  ['LOAXA_AGENT_AREA_ANCESTORS', ['areaAncestors'], 'list'],
  ['LOAXA_AGENT_CACHE_DIR', ['cacheDir'], 'string'],
  ['LOAXA_AGENT_STATE_DIR', ['stateDir'], 'string'],
  ['LOAXA_AGENT_HEARTBEAT_MS', ['heartbeatMs'], 'int'],
  ['LOAXA_AGENT_RECONNECT_MS', ['reconnectMs'], 'int'],
  ['LOAXA_AGENT_PLAYER', ['player'], 'string'],
  ['LOAXA_AGENT_ALSA_DEVICE', ['alsaDevice'], 'string'],
  ['LOAXA_AGENT_FFMPEG_PATH', ['ffmpegPath'], 'string'],
  ['LOAXA_AGENT_APLAY_PATH', ['aplayPath'], 'string'],
  ['LOAXA_AGENT_CACHE_MAX_BYTES', ['cacheMaxBytes'], 'int'],
  ['LOAXA_AGENT_DOWNLOAD_RETRY_MS', ['downloadRetryMs'], 'int'],
  ['LOAXA_AGENT_DOWNLOAD_TIMEOUT_MS', ['downloadTimeoutMs'], 'int'],
  ['LOAXA_AGENT_PREFETCH_LEAD_MS', ['prefetchLeadMs'], 'int'],
  ['LOAXA_AGENT_REPORT_QUEUE_MAX_BYTES', ['reportQueueMaxBytes'], 'int'],
  ['LOAXA_AGENT_RECONNECT_MAX_MS', ['reconnectMaxMs'], 'int'],
  ['LOAXA_AGENT_MODEM_RECOVERY_COMMAND', ['modemRecoveryCommand'], 'string'],
  ['LOAXA_AGENT_MODEM_RECOVERY_AFTER_FAILURES', ['modemRecoveryAfterFailures'], 'int'],
  ['LOAXA_AGENT_MODEM_RECOVERY_INTERVAL_MS', ['modemRecoveryIntervalMs'], 'int'],
  ['LOAXA_AGENT_MIXER', ['mixer'], 'string'],
  ['LOAXA_AGENT_MIXER_DEVICE', ['mixerDevice'], 'string'],
  ['LOAXA_AGENT_MIXER_CONTROL', ['mixerControl'], 'string'],
  ['LOAXA_AGENT_GPIO', ['gpio'], 'string'],
  ['LOAXA_AGENT_GPIO_CHIP', ['gpioChip'], 'string'],
  ['LOAXA_AGENT_AMP_POWER_GPIO', ['ampPowerGpio'], 'string'],
  ['LOAXA_AGENT_AMP_WARMUP_MS', ['ampWarmupMs'], 'int'],
  ['LOAXA_AGENT_AMP_HOLD_MS', ['ampHoldMs'], 'int'],
  ['LOAXA_AGENT_POWER_LOST_GPIO', ['powerLostGpio'], 'string'],
  ['LOAXA_AGENT_AMP_FAULT_GPIO', ['ampFaultGpio'], 'string'],
  ['LOAXA_AGENT_LINE_OPEN_GPIO', ['lineOpenGpio'], 'string'],
  ['LOAXA_AGENT_LINE_SHORT_GPIO', ['lineShortGpio'], 'string'],
  ['LOAXA_AGENT_FAULT_POLL_MS', ['faultPollMs'], 'int'],
  ['LOAXA_AGENT_FAULT_DEBOUNCE', ['faultDebounce'], 'int'],
  ['LOAXA_AGENT_DISK_MIN_FREE_BYTES', ['diskMinFreeBytes'], 'int'],
  ['LOAXA_AGENT_CLOCK_MAX_OFFSET_MS', ['clockMaxOffsetMs'], 'int'],
  ['LOAXA_AGENT_CLOCK_SYNC_GRACE_MS', ['clockSyncGraceMs'], 'int'],
  ['LOAXA_AGENT_LOG_RING_LINES', ['logRingLines'], 'int'],
  ['LOAXA_AGENT_WATCHDOG_MS', ['watchdogMs'], 'int'],
];
/** Every variable the agent reads (besides LOAXA_AGENT_CONFIG and LOAXA_AGENT_LOG_LEVEL, read by main.ts). */
export const AGENT_ENV_VARS: readonly string[] = ENV_VARS.map(([name]) => name);

/** Names the JSON file to read first; variables override its values. */
export const CONFIG_FILE_VAR = 'LOAXA_AGENT_CONFIG';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function envValue(name: string, raw: string, kind: EnvKind): unknown {
  if (kind === 'string') return raw;
  if (kind === 'list') return raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name}: must be a whole number, got ${JSON.stringify(raw)}`);
  return Number(raw.trim());
}

/** Where a bad value came from, for the error message: the variable(s) and the file key. */
function describePath(path: ReadonlyArray<PropertyKey>, env: NodeJS.ProcessEnv, file: string | undefined): string {
  const key = path.map(String).join('.');
  // The variable for this field, or every variable below it when a whole object is missing (mqtt).
  const exact = ENV_VARS.find(([, p]) => p.join('.') === path.slice(0, p.length).map(String).join('.'));
  const names = exact ? [exact[0]] : ENV_VARS.filter(([, p]) => p.join('.').startsWith(`${key}.`)).map(([n]) => n);
  if (exact && env[exact[0]] !== undefined) return `${exact[0]} (${key})`;
  const vars = names.join(', ') || key;
  return file ? `${vars} (${key} in ${file})` : `${vars} (${key})`;
}

function describeIssue(message: string): string {
  return /received undefined$/.test(message) ? 'is required but not set' : message;
}

/** Reads the config: the JSON file named by `LOAXA_AGENT_CONFIG` (or `opts.file`), then the variables. */
export function loadAgentConfig(env: NodeJS.ProcessEnv = process.env, opts: { file?: string } = {}): AgentConfig {
  const file = opts.file ?? env[CONFIG_FILE_VAR];
  let raw: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`${CONFIG_FILE_VAR}: cannot read ${file}: ${(err as Error).message}`);
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
      raw = parsed as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`${CONFIG_FILE_VAR}: ${file} is not a JSON object: ${(err as Error).message}`);
    }
  }
  for (const [name, path, kind] of ENV_VARS) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(raw, path, envValue(name, value, kind));
  }
  return parseAgentConfig(raw, { env, file });
}

/** Validates a config object; the message names the variable (or file key) of every bad field. */
export function parseAgentConfig(input: unknown, ctx: { env?: NodeJS.ProcessEnv; file?: string | undefined } = {}): AgentConfig {
  const parsed = agentConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `${describePath(i.path, ctx.env ?? {}, ctx.file)}: ${describeIssue(i.message)}`);
  throw new ConfigError(`invalid device-agent configuration:\n  ${lines.join('\n  ')}`);
}

/** The config without secrets, for logs (STYLE.md: secrets stripped before logging). */
export function redactConfig(config: AgentConfig): AgentConfig {
  return { ...config, mqtt: { ...config.mqtt, password: '***' } };
}
