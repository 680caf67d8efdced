/**
 * `claim`: exchanges a one-time claim code for the box's MQTT credentials and writes them into the agent's
 * config file (LOAXA_AGENT_CONFIG) with mode 0600, atomically. Settings already in the file are kept.
 *
 *   npm run agent -- claim --server https://loa.example.gov.vn --code ABCD-EFGH-JKMN [--config FILE]
 *   npm run agent -- claim --url 'https://loa.example.gov.vn/claim?code=ABCD-EFGH-JKMN'
 */
import { chmod, readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { writeFileAtomic } from './atomic-file.js';
import { parseAgentConfig } from './config.js';

export const DEFAULT_CONFIG_FILE = '/etc/loaxa/agent.json';
export const DEFAULT_STATE_DIR = '/var/lib/loaxa-agent';
export const DEFAULT_CACHE_DIR = '/var/cache/loaxa-agent';

export const CLAIM_USAGE = `Usage: npm run agent -- claim (--server URL --code CODE | --url CLAIM_URL) [options]

Exchanges a one-time claim code (from POST /api/v1/devices/{id}/claim-code) for this box's MQTT
credentials and writes them to the agent's config file (mode 0600). Other settings in the file are kept.

  --server URL      the Loa Xã server, e.g. https://loa.example.gov.vn
  --code CODE       the claim code, e.g. ABCD-EFGH-JKMN (case, spaces and dashes do not matter)
  --url CLAIM_URL   the claim URL (from the QR code) instead of --server and --code
  --config FILE     the config file to write (default: $LOAXA_AGENT_CONFIG, else ${DEFAULT_CONFIG_FILE})
  --state-dir DIR   stateDir when the file does not set one (default ${DEFAULT_STATE_DIR})
  --cache-dir DIR   cacheDir when the file does not set one (default ${DEFAULT_CACHE_DIR})
  --timeout-ms MS   give up after this long (default 30000)
  -h, --help        show this help
`;

const claimAnswerSchema = z.object({
  deviceId: z.string().min(1),
  areaCode: z.string().min(1),
  areaAncestors: z.array(z.string()),
  mqtt: z.object({ url: z.string().min(1), username: z.string().min(1), password: z.string().min(1) }),
});
export type ClaimAnswer = z.infer<typeof claimAnswerSchema>;

export class ClaimError extends Error {
  override name = 'ClaimError';
}

export interface ClaimOptions {
  server: string;
  code: string;
  configFile: string;
  stateDir?: string;
  cacheDir?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Asks the server; the answer's error message is passed on (used, expired, rate-limited …). */
export async function requestClaim(server: string, code: string, opts: { timeoutMs?: number; fetch?: typeof fetch } = {}): Promise<ClaimAnswer> {
  const url = new URL('/api/v1/claim', server);
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code }),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    });
  } catch (err) {
    throw new ClaimError(`cannot reach ${url.origin}: ${(err as Error).message}`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const message = (body as { error?: { message?: string } } | undefined)?.error?.message ?? text.slice(0, 200);
    throw new ClaimError(`the server refused the claim (HTTP ${res.status}): ${message}`);
  }
  const parsed = claimAnswerSchema.safeParse(body);
  if (!parsed.success) throw new ClaimError(`unexpected answer from ${url.origin}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

/** Claims and writes the config file; answers the device id. The file is validated before it is written. */
export async function claimDevice(opts: ClaimOptions): Promise<{ deviceId: string; configFile: string }> {
  let existing: Record<string, unknown> = {};
  const text = await readFile(opts.configFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw new ClaimError(`cannot read ${opts.configFile}: ${err.message}`);
  });
  if (text !== null) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
      existing = parsed as Record<string, unknown>;
    } catch (err) {
      throw new ClaimError(`${opts.configFile} is not a JSON object (${(err as Error).message}); move it away first`);
    }
  }
  const answer = await requestClaim(opts.server, opts.code, opts);
  const config = {
    ...existing,
    deviceId: answer.deviceId,
    mqtt: answer.mqtt,
    areaCode: answer.areaCode,
    areaAncestors: answer.areaAncestors,
    stateDir: existing.stateDir ?? opts.stateDir ?? DEFAULT_STATE_DIR,
    cacheDir: existing.cacheDir ?? opts.cacheDir ?? DEFAULT_CACHE_DIR,
  };
  parseAgentConfig(config, { file: opts.configFile });
  await writeFileAtomic(opts.configFile, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(opts.configFile, 0o600); // the umask may have narrowed it further, never widened; make it exact
  return { deviceId: answer.deviceId, configFile: opts.configFile };
}

/** The command line; answers the exit code. */
export async function claimCli(argv: string[], io: { env: NodeJS.ProcessEnv; out: (s: string) => void; err: (s: string) => void }): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        server: { type: 'string' },
        code: { type: 'string' },
        url: { type: 'string' },
        config: { type: 'string' },
        'state-dir': { type: 'string' },
        'cache-dir': { type: 'string' },
        'timeout-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    io.err(`claim: ${(err as Error).message}\n\n${CLAIM_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.out(CLAIM_USAGE);
    return 0;
  }
  let server = values.server;
  let code = values.code;
  if (values.url) {
    try {
      const u = new URL(values.url);
      code ??= u.searchParams.get('code') ?? undefined;
      server ??= u.origin;
    } catch {
      io.err(`claim: --url is not a URL: ${values.url}\n`);
      return 2;
    }
  }
  if (!server || !code) {
    io.err(`claim: give --server and --code (or --url)\n\n${CLAIM_USAGE}`);
    return 2;
  }
  if (!/^https?:\/\//.test(server)) {
    io.err(`claim: --server must be an http(s) URL, got ${server}\n`);
    return 2;
  }
  const timeoutMs = values['timeout-ms'] ? Number(values['timeout-ms']) : undefined;
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0)) {
    io.err('claim: --timeout-ms must be a positive whole number\n');
    return 2;
  }
  const configFile = values.config ?? io.env.LOAXA_AGENT_CONFIG ?? DEFAULT_CONFIG_FILE;
  try {
    const done = await claimDevice({
      server,
      code,
      configFile,
      ...(values['state-dir'] ? { stateDir: values['state-dir'] } : {}),
      ...(values['cache-dir'] ? { cacheDir: values['cache-dir'] } : {}),
      ...(timeoutMs ? { timeoutMs } : {}),
    });
    io.out(`claimed ${done.deviceId}; credentials written to ${done.configFile} (mode 0600)\n`);
    return 0;
  } catch (err) {
    io.err(`claim: ${(err as Error).message}\n`);
    return 1;
  }
}
