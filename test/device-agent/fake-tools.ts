/**
 * Fake system tools for hardware tests: shell scripts named like the real ones (`amixer`, `mmcli`,
 * `gpioset`, `gpioget`, `aplay`, `timedatectl`, `ffmpeg`) in a temp folder placed first on PATH. Each
 * appends its argv to one log before doing what the test asked, so tests check the real command lines.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers.js';

type Tap = Parameters<typeof tempDir>[0];

export interface FakeTools {
  dir: string;
  /** Environment for the hardware runner: the fakes first on PATH, then the system's. */
  env: NodeJS.ProcessEnv;
  /** Every call so far, as `name arg1 arg2…`, oldest first. */
  calls(): string[];
  /** Adds or replaces a tool; `body` is shell run after the call was logged. */
  add(name: string, body: string): void;
  /** A folder for state the scripts read (`$FAKE_STATE/...`). */
  state: string;
}

export function fakeTools(t: Tap, tools: Record<string, string> = {}): FakeTools {
  const root = tempDir(t);
  const dir = join(root, 'bin');
  const state = join(root, 'state');
  mkdirSync(dir);
  mkdirSync(state);
  const log = join(root, 'calls.log');
  writeFileSync(log, '');
  const add = (name: string, body: string): void => {
    const file = join(dir, name);
    // printf keeps arguments with spaces recognisable; the log is one line per call, written in one go so that
    // a test polling the log never reads half a call (it did: a detached child was still writing its arguments).
    writeFileSync(file, `#!/bin/sh\nFAKE_STATE='${state}'\nline='${name}'\nfor a in "$@"; do line="$line $a"; done\nprintf '%s\\n' "$line" >> '${log}'\n${body}\n`);
    chmodSync(file, 0o755);
  };
  for (const [name, body] of Object.entries(tools)) add(name, body);
  return {
    dir,
    state,
    env: { ...process.env, PATH: `${dir}:/usr/bin:/bin` },
    // Only finished lines: whatever follows the last newline is a call still being written.
    calls: () => readFileSync(log, 'utf8').split('\n').slice(0, -1).filter(Boolean),
    add,
  };
}
