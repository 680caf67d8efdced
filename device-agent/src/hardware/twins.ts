/**
 * Simulated twins of every hardware part, all driven by one `SimBoard`: the firmware simulator's
 * scenarios (power cut, amplifier failure, speaker line cut, disk full, no sound card…) and tests set its
 * fields, and the agent reads them through the same interfaces as on a real board.
 */
import { EventEmitter } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import type { Amplifier } from './amplifier.js';
import type { CommandResult, CommandRunner } from './command.js';
import type { Hardware, SenseInput } from './index.js';
import type { Mixer } from './mixer.js';
import type { NetworkSnapshot } from './network.js';
import type { AudioDeviceStatus } from './probes.js';
import type { DiskSpace, SystemSnapshot } from './system-info.js';

export interface SimBoardEvents {
  /** The amplifier was switched (true = on). */
  amplifier: [boolean];
  /** A command ran through the board's runner (the modem recovery command). */
  command: [string, readonly string[]];
}

export class SimBoard extends EventEmitter<SimBoardEvents> {
  /** Sense inputs (true = fault present). */
  readonly inputs: Record<SenseInput, boolean> = { powerLost: false, ampFault: false, lineOpen: false, lineShort: false };
  volume: number | null = null;
  /** Hardware mixer (players at full scale) instead of software volume. */
  hardwareMixer = true;
  amplifierOn = false;
  /** Switching the amplifier fails while set (a dead relay driver). */
  amplifierSwitchError: string | null = null;
  ampSwitches = 0;
  system: SystemSnapshot = { systemUptimeS: 1_000, cpuTempC: 48.5, load1: 0.2, load5: 0.15, load15: 0.1, memTotalBytes: 1024 ** 3, memAvailableBytes: 600 * 1024 ** 2 };
  disk: DiskSpace = { freeBytes: 20 * 1024 ** 3, totalBytes: 32 * 1024 ** 3 };
  network: NetworkSnapshot = { type: 'cellular', interface: 'wwan0', accessTech: 'lte', signalPct: 70, operator: 'Viettel', modemState: 'connected' };
  clockSynced: boolean | null = true;
  audio: AudioDeviceStatus | null = { present: true, detail: '0:Headphones' };
  /** Commands run through the board (argv), oldest first. */
  readonly commands: Array<{ cmd: string; args: readonly string[] }> = [];
  /** Answer of every command run through the board. */
  commandResult: CommandResult = { code: 0, stdout: '', stderr: '' };

  hardware(): Hardware {
    // The getters below belong to the object literals they are in; `board` is the SimBoard.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const board = this;
    const mixer: Mixer = {
      get software() {
        return !board.hardwareMixer;
      },
      setVolume: async (v) => {
        board.volume = v;
      },
      getVolume: async () => board.volume,
    };
    const amplifier: Amplifier = {
      get on() {
        return board.amplifierOn;
      },
      get lastError() {
        return board.amplifierSwitchError;
      },
      powerOn: async () => board.switchAmp(true),
      powerOff: async () => board.switchAmp(false),
    };
    const runner: CommandRunner = {
      run: async (cmd, args) => {
        board.commands.push({ cmd, args });
        board.emit('command', cmd, args);
        return board.commandResult;
      },
      spawnHolder: (): ChildProcess => {
        throw new Error('the simulated board holds no processes');
      },
    };
    const input = (name: SenseInput) => ({ read: async () => board.inputs[name] });
    return {
      mixer,
      amplifier,
      inputs: { powerLost: input('powerLost'), ampFault: input('ampFault'), lineOpen: input('lineOpen'), lineShort: input('lineShort') },
      system: { read: async () => ({ ...board.system, diskFreeBytes: board.disk.freeBytes, diskTotalBytes: board.disk.totalBytes }), disk: async () => ({ ...board.disk }) },
      network: { read: async () => ({ ...board.network }) },
      timeSync: { synchronized: async () => board.clockSynced },
      audioDevice: { check: async () => (board.audio ? { ...board.audio } : null) },
      runner,
      close: async () => undefined,
    };
  }

  private switchAmp(on: boolean): void {
    if (this.amplifierSwitchError) throw new Error(this.amplifierSwitchError);
    if (this.amplifierOn !== on) {
      this.amplifierOn = on;
      this.ampSwitches += 1;
      this.emit('amplifier', on);
    }
  }
}
