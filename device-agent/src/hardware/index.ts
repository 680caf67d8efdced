/**
 * Everything the agent touches on the board, behind interfaces: each has a real implementation here and
 * a simulated twin in `twins.ts` (driven by the firmware simulator's scenarios).
 */
import type { AgentConfig } from '../config.js';
import { FixedAmplifier, GpioAmplifier, type Amplifier } from './amplifier.js';
import { ProcessRunner, type CommandRunner } from './command.js';
import { createGpioBackend, parseGpioSpec, type GpioInput, type GpioOutput } from './gpio.js';
import { AmixerMixer, SoftwareMixer, type Mixer } from './mixer.js';
import { LinuxNetworkReader, type NetworkReader } from './network.js';
import { AplayDeviceProbe, TimedatectlReader, type AudioDeviceProbe, type TimeSyncReader } from './probes.js';
import { ProcSysReader, type SystemReader } from './system-info.js';

/** Sense inputs, each active while its fault is present. */
export const SENSE_INPUTS = ['powerLost', 'ampFault', 'lineOpen', 'lineShort'] as const;
export type SenseInput = (typeof SENSE_INPUTS)[number];

export interface Hardware {
  mixer: Mixer;
  amplifier: Amplifier;
  /** Only the inputs that are wired (configured). */
  inputs: Partial<Record<SenseInput, GpioInput>>;
  system: SystemReader;
  network: NetworkReader;
  timeSync: TimeSyncReader;
  audioDevice: AudioDeviceProbe;
  /** Runs the modem recovery command. */
  runner: CommandRunner;
  /** Lets go of held lines (the amplifier output). */
  close(): Promise<void>;
}

export function createHardware(config: AgentConfig, opts: { env?: NodeJS.ProcessEnv } = {}): Hardware {
  const runner = new ProcessRunner(opts.env ? { env: opts.env } : {});
  const gpio = createGpioBackend(config.gpio, { runner, chip: config.gpioChip, sysRoot: config.sysRoot });
  const specs: Record<SenseInput, string | undefined> = {
    powerLost: config.powerLostGpio,
    ampFault: config.ampFaultGpio,
    lineOpen: config.lineOpenGpio,
    lineShort: config.lineShortGpio,
  };
  const inputs: Partial<Record<SenseInput, GpioInput>> = {};
  if (gpio) for (const name of SENSE_INPUTS) if (specs[name]) inputs[name] = gpio.input(parseGpioSpec(specs[name]));
  let ampOutput: GpioOutput | null = null;
  if (gpio && config.ampPowerGpio) ampOutput = gpio.output(parseGpioSpec(config.ampPowerGpio));
  return {
    mixer: config.mixer === 'amixer' ? new AmixerMixer({ runner, device: config.mixerDevice, control: config.mixerControl }) : new SoftwareMixer(),
    amplifier: ampOutput ? new GpioAmplifier({ output: ampOutput, warmupMs: config.ampWarmupMs }) : new FixedAmplifier(),
    inputs,
    system: new ProcSysReader({ procRoot: config.procRoot, sysRoot: config.sysRoot, diskPath: config.cacheDir }),
    network: new LinuxNetworkReader({ procRoot: config.procRoot, sysRoot: config.sysRoot, runner }),
    timeSync: new TimedatectlReader(runner),
    audioDevice: new AplayDeviceProbe({ runner, device: config.alsaDevice }),
    runner,
    close: async () => {
      await ampOutput?.release();
    },
  };
}

