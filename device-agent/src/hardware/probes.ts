/**
 * Yes/no checks behind two faults: is the system clock synchronized (`timedatectl show -p NTPSynchronized
 * --value`, which reflects systemd-timesyncd and chrony alike through the kernel's sync flag), and is the
 * configured ALSA card present (`aplay -l` lists the hardware cards). A missing tool answers null (unknown),
 * which never raises a fault by itself.
 */
import { isMissingProgram, tail, type CommandRunner } from './command.js';

export interface TimeSyncReader {
  synchronized(): Promise<boolean | null>;
}

export interface AudioDeviceStatus {
  present: boolean;
  detail: string;
}

export interface AudioDeviceProbe {
  check(): Promise<AudioDeviceStatus | null>;
}

export class TimedatectlReader implements TimeSyncReader {
  constructor(private readonly runner: CommandRunner) {}

  async synchronized(): Promise<boolean | null> {
    try {
      const r = await this.runner.run('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], { timeoutMs: 5_000 });
      const v = r.stdout.trim();
      return r.code === 0 && (v === 'yes' || v === 'no') ? v === 'yes' : null;
    } catch (err) {
      if (isMissingProgram(err)) return null;
      throw err;
    }
  }
}

interface Card {
  index: string;
  id: string;
}

/** Cards from `aplay -l`: "card 1: Device [USB Audio Device], device 0: USB Audio [USB Audio]". */
export function parseAplayCards(text: string): Card[] {
  const cards = new Map<string, Card>();
  for (const m of text.matchAll(/^card (\d+): (\S+) \[/gm)) cards.set(m[1]!, { index: m[1]!, id: m[2]! });
  return [...cards.values()];
}

/** The card an ALSA device name points at (`hw:1,0`, `plughw:CARD=Device,DEV=0`, `hw:Headphones`), if any. */
export function cardOfDevice(device: string): string | null {
  const m = /^(?:plug)?hw:(?:CARD=)?([^,]+)/.exec(device);
  return m ? m[1]! : null;
}

export class AplayDeviceProbe implements AudioDeviceProbe {
  constructor(private readonly opts: { runner: CommandRunner; device: string }) {}

  async check(): Promise<AudioDeviceStatus | null> {
    let r;
    try {
      r = await this.opts.runner.run('aplay', ['-l'], { timeoutMs: 5_000 });
    } catch (err) {
      if (isMissingProgram(err)) return null;
      throw err;
    }
    const cards = parseAplayCards(r.stdout);
    if (cards.length === 0) return { present: false, detail: `no sound card found${r.stderr.trim() ? `: ${tail(r.stderr, 1)}` : ''}` };
    const wanted = cardOfDevice(this.opts.device);
    if (wanted !== null && !cards.some((c) => c.index === wanted || c.id === wanted)) {
      return { present: false, detail: `sound card ${wanted} of ALSA device ${this.opts.device} not found (cards: ${cards.map((c) => `${c.index}:${c.id}`).join(', ')})` };
    }
    return { present: true, detail: cards.map((c) => `${c.index}:${c.id}`).join(', ') };
  }
}
