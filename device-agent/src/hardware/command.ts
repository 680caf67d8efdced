/**
 * Runs the small system programs the hardware readers rely on (`amixer`, `mmcli`, `gpioget`, `aplay`,
 * `timedatectl`): no shell, so nothing from config or the network reaches one; a time limit, so a hung
 * tool cannot stall a heartbeat. Programs are looked up on `env.PATH`, which lets tests put recording
 * fakes first on PATH and check the exact command lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface CommandResult {
  /** Exit code, or null when killed by a signal (timeout included). */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CommandRunner {
  /** Runs to completion; rejects only when the program cannot be started (ENOENT, EACCES). */
  run(cmd: string, args: readonly string[], opts?: { timeoutMs?: number }): Promise<CommandResult>;
  /** Starts a long-running program (a `gpioset` that holds a line); the caller ends it. */
  spawnHolder(cmd: string, args: readonly string[]): ChildProcess;
}

const MAX_OUTPUT = 256 * 1024;

export class ProcessRunner implements CommandRunner {
  constructor(private readonly opts: { env?: NodeJS.ProcessEnv; defaultTimeoutMs?: number } = {}) {}

  run(cmd: string, args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = spawn(cmd, args, { env: this.opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (err) {
        return reject(err);
      }
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (c: Buffer) => {
        if (stdout.length < MAX_OUTPUT) stdout += c.toString('utf8');
      });
      child.stderr?.on('data', (c: Buffer) => {
        if (stderr.length < MAX_OUTPUT) stderr += c.toString('utf8');
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? this.opts.defaultTimeoutMs ?? 5_000);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  spawnHolder(cmd: string, args: readonly string[]): ChildProcess {
    return spawn(cmd, args, { env: this.opts.env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'] });
  }
}

/** True when the error means "this program is not installed here". */
export function isMissingProgram(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

/** Last lines of a tool's stderr, for a log line or a fault detail. */
export function tail(text: string, lines = 2): string {
  return text.trim().split('\n').slice(-lines).join(' | ').slice(0, 300);
}
