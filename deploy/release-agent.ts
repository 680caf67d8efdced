/**
 * Builds the device-agent release a Pi installs (deploy/pi/install-agent.sh) or fetches by self-update:
 *
 *   npm run release:agent -- [--out DIR] [--version V] [--key ed25519-private.pem]
 *
 * The agent (device-agent/src/cli.ts: `run`, `claim`, `rollback-check`) is bundled with esbuild into one
 * ESM file for node20 — mqtt, pino and zod included, no node_modules and no tsx on the box — and packed as
 *
 *   loaxa-agent-<version>.tar.gz
 *     <version>/bin/loaxa-agent.mjs
 *     <version>/VERSION
 *     <version>/deploy/loaxa-agent.service
 *     <version>/deploy/install-agent.sh
 *
 * It prints the tarball's SHA-256 and, with --key, writes `<tarball>.sig`: the base64 Ed25519 signature
 * of the raw 32-byte digest, as the self-update command's `signature` expects.
 */
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, sign } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = resolve(new URL('..', import.meta.url).pathname);

export interface ReleaseResult {
  file: string;
  version: string;
  sha256: string;
  signature?: string;
}

export async function releaseAgent(opts: { out: string; version?: string; keyFile?: string }): Promise<ReleaseResult> {
  const version = opts.version ?? (JSON.parse(readFileSync(join(ROOT, 'device-agent/package.json'), 'utf8')) as { version: string }).version;
  if (!/^[0-9A-Za-z.+-]{1,64}$/.test(version)) throw new Error(`not a release version: ${version}`);
  const stage = mkdtempSync(join(tmpdir(), 'loaxa-release-'));
  try {
    const top = join(stage, version);
    mkdirSync(join(top, 'bin'), { recursive: true });
    mkdirSync(join(top, 'deploy'));
    await build({
      entryPoints: [join(ROOT, 'device-agent/src/cli.ts')],
      outfile: join(top, 'bin/loaxa-agent.mjs'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      legalComments: 'none',
      logLevel: 'warning',
      define: { 'process.env.LOAXA_AGENT_BUNDLED': '"1"' },
      // CommonJS dependencies (mqtt, pino) call require() for Node built-ins; give the ESM bundle one.
      banner: { js: "#!/usr/bin/env node\nimport { createRequire as __loaxaCreateRequire } from 'node:module';\nconst require = __loaxaCreateRequire(import.meta.url);" },
    });
    chmodSync(join(top, 'bin/loaxa-agent.mjs'), 0o755);
    writeFileSync(join(top, 'VERSION'), `${version}\n`);
    copyFileSync(join(ROOT, 'deploy/loaxa-agent.service'), join(top, 'deploy/loaxa-agent.service'));
    copyFileSync(join(ROOT, 'deploy/pi/install-agent.sh'), join(top, 'deploy/install-agent.sh'));
    chmodSync(join(top, 'deploy/install-agent.sh'), 0o755);
    mkdirSync(opts.out, { recursive: true });
    const file = resolve(opts.out, `loaxa-agent-${version}.tar.gz`);
    execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-czf', file, '-C', stage, version]);
    const digest = createHash('sha256').update(readFileSync(file)).digest();
    const result: ReleaseResult = { file, version, sha256: digest.toString('hex') };
    if (opts.keyFile) {
      const key = createPrivateKey(readFileSync(opts.keyFile));
      if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${opts.keyFile} is not an Ed25519 private key`);
      result.signature = sign(null, digest, key).toString('base64');
      writeFileSync(`${file}.sig`, `${result.signature}\n`);
    }
    return result;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const { values } = parseArgs({
    options: { out: { type: 'string' }, version: { type: 'string' }, key: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write('Usage: npm run release:agent -- [--out DIR (default dist)] [--version V] [--key ED25519_PRIVATE_KEY.pem]\n');
    process.exit(0);
  }
  releaseAgent({ out: values.out ?? join(ROOT, 'dist'), ...(values.version ? { version: values.version } : {}), ...(values.key ? { keyFile: values.key } : {}) }).then(
    (r) => {
      process.stdout.write(`${r.file}\nversion ${r.version}\nsha256 ${r.sha256}\n${r.signature ? `signature ${r.signature} (written to ${r.file}.sig)\n` : ''}`);
    },
    (err: unknown) => {
      process.stderr.write(`release-agent: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
