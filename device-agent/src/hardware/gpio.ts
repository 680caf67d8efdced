/**
 * GPIO lines: inputs (mains, amplifier fault, speaker-line sense) and one output (amplifier power).
 * Backends: libgpiod's CLI, v1 (`gpioget <chip> <line>`, Raspberry Pi OS Bookworm) or v2
 * (`gpioget --numeric -c <chip> <line>`, Debian Trixie), and the legacy `/sys/class/gpio` interface.
 *
 * A libgpiod line keeps its output value only while the process that set it is running ("the line output
 * state is maintained until the process exits, but after that is not guaranteed", gpioset(1)), so an output
 * is held by a long-running `gpioset` that is replaced on every change. When the agent dies, the line is
 * released and the amplifier relay drops: a dead agent never leaves an amplifier powered all day.
 */
import type { ChildProcess } from 'node:child_process';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tail, type CommandRunner } from './command.js';

export const GPIO_BACKENDS = ['none', 'gpiod', 'gpiod2', 'sysfs'] as const;
export type GpioBackendKind = (typeof GPIO_BACKENDS)[number];

/** `17` (active high) or `17:low` (active low). */
export const GPIO_SPEC_PATTERN = /^\d{1,4}(:low)?$/;

export interface GpioLineSpec {
  line: number;
  activeLow: boolean;
}

export function parseGpioSpec(spec: string): GpioLineSpec {
  if (!GPIO_SPEC_PATTERN.test(spec)) throw new Error(`not a GPIO line spec: ${JSON.stringify(spec)} (expected e.g. 17 or 17:low)`);
  const [line, level] = spec.split(':');
  return { line: Number(line), activeLow: level === 'low' };
}

export interface GpioInput {
  /** True when the signal is at its active level. */
  read(): Promise<boolean>;
}

export interface GpioOutput {
  set(active: boolean): Promise<void>;
  /** Lets the line go (stops a holding process). */
  release(): Promise<void>;
}

export interface GpioBackend {
  input(spec: GpioLineSpec): GpioInput;
  output(spec: GpioLineSpec): GpioOutput;
}

const physical = (active: boolean, spec: GpioLineSpec): 0 | 1 => (active !== spec.activeLow ? 1 : 0);

function parseLevel(text: string, what: string): 0 | 1 {
  const v = text.trim().split(/\s+/)[0];
  if (v === '0' || v === '1') return Number(v) as 0 | 1;
  throw new Error(`${what}: unexpected output ${JSON.stringify(text.trim().slice(0, 80))}`);
}

/** How long a freshly started `gpioset` must stay up to count as holding its line. */
const HOLD_CONFIRM_MS = 150;

export class GpiodCliBackend implements GpioBackend {
  constructor(private readonly opts: { runner: CommandRunner; chip: string; version: 1 | 2 }) {}

  input(spec: GpioLineSpec): GpioInput {
    const { runner, chip, version } = this.opts;
    const args = version === 1 ? [chip, String(spec.line)] : ['--numeric', '-c', chip, String(spec.line)];
    return {
      read: async () => {
        const r = await runner.run('gpioget', args, { timeoutMs: 3_000 });
        if (r.code !== 0) throw new Error(`gpioget ${args.join(' ')} exited with ${r.code}: ${tail(r.stderr)}`);
        return parseLevel(r.stdout, 'gpioget') === physical(true, spec);
      },
    };
  }

  output(spec: GpioLineSpec): GpioOutput {
    const { runner, chip, version } = this.opts;
    let holder: ChildProcess | null = null;
    const stop = async (): Promise<void> => {
      const p = holder;
      holder = null;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => (p.kill('SIGKILL'), resolve()), 1_000);
        p.once('close', () => (clearTimeout(timer), resolve()));
        p.kill('SIGTERM');
      });
    };
    return {
      set: async (active) => {
        await stop();
        const assignment = `${spec.line}=${physical(active, spec)}`;
        // v1 exits at once unless told to wait; v2 holds until signalled by default.
        const args = version === 1 ? ['--mode=signal', chip, assignment] : ['-c', chip, assignment];
        const p = runner.spawnHolder('gpioset', args);
        holder = p;
        let stderr = '';
        p.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-1000)));
        await new Promise<void>((resolve, reject) => {
          const onError = (err: Error): void => {
            clearTimeout(timer);
            if (holder === p) holder = null;
            reject(new Error(`cannot start gpioset: ${err.message}`));
          };
          const onClose = (code: number | null): void => {
            clearTimeout(timer);
            if (holder === p) holder = null;
            reject(new Error(`gpioset ${args.join(' ')} exited with ${code}: ${tail(stderr)}`));
          };
          const timer = setTimeout(() => {
            p.off('close', onClose);
            p.off('error', onError);
            p.on('error', () => undefined);
            resolve();
          }, HOLD_CONFIRM_MS);
          p.once('error', onError);
          p.once('close', onClose);
        });
      },
      release: stop,
    };
  }
}

/** The legacy sysfs interface; `root` is `/sys/class/gpio` (a fixture tree in tests). */
export class SysfsGpioBackend implements GpioBackend {
  constructor(private readonly opts: { root: string }) {}

  private async exported(line: number): Promise<string> {
    const dir = join(this.opts.root, `gpio${line}`);
    try {
      await access(dir);
    } catch {
      await writeFile(join(this.opts.root, 'export'), String(line));
      // udev may need a moment to hand the new files to the gpio group.
      for (let i = 0; i < 20; i++) {
        if (await access(join(dir, 'value')).then(() => true, () => false)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    return dir;
  }

  input(spec: GpioLineSpec): GpioInput {
    let ready: Promise<string> | null = null;
    return {
      read: async () => {
        ready ??= this.exported(spec.line).then(async (dir) => {
          await writeFile(join(dir, 'direction'), 'in');
          return dir;
        });
        const dir = await ready.catch((err: unknown) => {
          ready = null;
          throw err;
        });
        return parseLevel(await readFile(join(dir, 'value'), 'utf8'), `gpio${spec.line}/value`) === physical(true, spec);
      },
    };
  }

  output(spec: GpioLineSpec): GpioOutput {
    let dir: string | null = null;
    return {
      set: async (active) => {
        const level = physical(active, spec);
        if (!dir) {
          const d = await this.exported(spec.line);
          // Writing "high"/"low" makes the line an output with that value in one step (no glitch).
          await writeFile(join(d, 'direction'), level ? 'high' : 'low');
          dir = d;
          return;
        }
        await writeFile(join(dir, 'value'), String(level));
      },
      release: async () => undefined,
    };
  }
}

export function createGpioBackend(kind: GpioBackendKind, opts: { runner: CommandRunner; chip: string; sysRoot: string }): GpioBackend | null {
  switch (kind) {
    case 'none':
      return null;
    case 'gpiod':
      return new GpiodCliBackend({ runner: opts.runner, chip: opts.chip, version: 1 });
    case 'gpiod2':
      return new GpiodCliBackend({ runner: opts.runner, chip: opts.chip, version: 2 });
    case 'sysfs':
      return new SysfsGpioBackend({ root: join(opts.sysRoot, 'class/gpio') });
  }
}
