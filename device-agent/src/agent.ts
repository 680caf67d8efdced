/**
 * The composition root of the device agent: wires the MQTT session, the command table, the audio cache,
 * the playout and the agenda, the reports queued on disk, the hardware (mixer, amplifier, sense inputs,
 * health readers), the fault monitor and the heartbeat. The constructor only stores dependencies;
 * `start()` and `stop()` do the work (STYLE.md 1).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { DeviceAgentDeps } from './agent-deps.js';
import { buildAgentParts, type AgentParts } from './agent-parts.js';
import { AgentStateStore } from './agent-state.js';
import { ClockOffsetEstimator } from './clock-offset.js';
import type { AgentConfig } from './config.js';
import { applyOverrides, readOverrides, type ConfigChange } from './config-overrides.js';
import type { FaultTransition } from './faults.js';
import { createHardware } from './hardware/index.js';
import type { DeliveryReport } from './playout.js';
import type { ProgrammeItemReport, RelayReport } from './protocol/deliveries.js';
import { RuntimeSettings } from './runtime-settings.js';
import { withTimeout } from './session.js';
import { systemClock, type Clock } from './timing.js';
import { AGENT_VERSION } from './version.js';

export type { DeviceAgentDeps } from './agent-deps.js';

export interface DeviceAgentEvents {
  /** Connected (again) and announced online. */
  connect: [];
  /** Lost the broker; the agent reconnects by itself. */
  offline: [];
  /** A delivery transition, as reported to the server. */
  delivery: [DeliveryReport];
  /** A relay's change (which URL serves, failover, fallback, interruption, end), as reported (issue 15). */
  relay: [RelayReport];
  /** A programme item's report (issue 15), as reported. */
  'programme-item': [ProgrammeItemReport];
  /** A fault started or ended, as reported to the server. */
  fault: [FaultTransition];
  /**
   * The server asked for a restart (or a setting needs one). With a listener (main.ts) the process exits
   * and systemd starts it again; without one the agent restarts in place.
   */
  'restart-requested': [string];
}

/** Commands remembered for the at-most-once check (a few days of traffic for one box). */
const RECENT_COMMANDS = 2_000;
const DEFAULT_STOP_TIMEOUT_MS = 5_000;

export class DeviceAgent extends EventEmitter<DeviceAgentEvents> {
  private run: AgentParts | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private readonly offset = new ClockOffsetEstimator();
  /** Volume, configuration in force, overrides and recent command ids: written here, read by the parts. */
  private readonly settings: RuntimeSettings;
  private startedAt = 0;
  /** Failed connection attempts of earlier runs of this object (restarts in place). */
  private earlierLinkFailures = 0;
  private stopping = false;
  private readonly log: Logger;
  private readonly clock: Clock;

  constructor(private readonly deps: DeviceAgentDeps) {
    super();
    this.settings = new RuntimeSettings(deps.config, RECENT_COMMANDS);
    this.log = deps.logger.child({ module: 'agent', deviceId: deps.config.deviceId });
    this.clock = deps.clock ?? systemClock;
  }

  get deviceId(): string {
    return this.deps.config.deviceId;
  }

  get connected(): boolean {
    return this.run?.session.connected ?? false;
  }

  get volume(): number {
    return this.settings.volume;
  }

  /** The configuration in force (the installer's plus remote overrides). */
  get effectiveConfig(): AgentConfig {
    return this.settings.config;
  }

  /** Server minus device clock, estimated from commands; null before the first sample. */
  get clockOffsetMs(): number | null {
    return this.offset.offsetMs;
  }

  /** The agenda version held (null before the first `sync-agenda`). */
  get agendaVersion(): number | null {
    return this.run?.agenda.version ?? null;
  }

  /** Reports waiting on disk for the broker. */
  get queuedReports(): number {
    return this.run?.reporter.queued ?? 0;
  }

  get modemRecoveries(): number {
    return this.run?.session.modemRecoveries ?? 0;
  }

  /** Faults active right now. */
  get activeFaults(): FaultTransition[] {
    return (this.run?.faults.active() ?? []).map((f) => ({ fault: f.fault, active: true, at: f.since, ...(f.detail ? { detail: f.detail } : {}) }));
  }

  /** Runs one round of every fault check now (tests, and after a command that changes the hardware). */
  async checkFaults(): Promise<void> {
    await this.run?.faults.poll(true);
  }

  async start(): Promise<void> {
    if (this.run) throw new Error('agent already started');
    this.stopping = false;
    this.startedAt = performance.now();
    const loaded = await readOverrides(this.deps.config.stateDir);
    if (loaded.error) this.log.error({ err: loaded.error }, 'ignoring an unreadable config-overrides.json');
    const settings = this.settings;
    settings.overrides = loaded.overrides;
    settings.config = applyOverrides(this.deps.config, settings.overrides);
    const config = settings.config;

    const stateStore = new AgentStateStore({ dir: config.stateDir, logger: this.log });
    const saved = await stateStore.load();
    settings.volume = saved.volume;
    for (const id of saved.recentCommandIds) settings.recent.set(id, null);

    const hardware = this.deps.hardware ?? createHardware(config, this.deps.env ? { env: this.deps.env } : {});
    await hardware.mixer.setVolume(settings.volume).catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'cannot set the mixer volume'));
    const run = buildAgentParts(this.deps, config, saved, hardware, stateStore, {
      log: this.log,
      clock: this.clock,
      offset: this.offset,
      settings,
      playerVolume: (volume) => this.playerVolume(volume),
      setVolume: (volume) => this.setVolume(volume),
      uptimeMs: () => performance.now() - this.startedAt,
      earlierLinkFailures: () => this.earlierLinkFailures,
      activeFaults: () => this.activeFaults,
      saveState: () => void this.saveState(),
      connected: () => this.onConnected(),
      offline: () => this.emit('offline'),
      delivery: (r) => this.emit('delivery', r),
      relay: (r) => this.emit('relay', r),
      programmeItem: (r) => this.emit('programme-item', r),
      fault: (t) => this.emit('fault', t),
      requestRestart: (reason, delayMs) => this.requestRestart(reason, delayMs),
      applyConfig: (change) => this.applyConfig(change),
    });
    this.run = run;
    const { cache, reporter, agenda, session, faults, heartbeat } = run;

    try {
      await cache.open();
      await reporter.open(this.activeFaults);
      // The stored agenda plays from the box's own clock, whether or not the broker is reachable.
      await agenda.open();
    } catch (err) {
      agenda.close();
      await run.playout.close();
      this.run = null;
      throw err;
    }
    session.start();
    faults.start();
    heartbeat.start();
    this.log.info({ url: config.mqtt.url, areaCode: config.areaCode, version: AGENT_VERSION, agendaVersion: agenda.version }, 'agent started');
  }

  /**
   * Announces offline, leaves the broker and winds everything down within `timeoutMs`. `abrupt` drops the
   * connection without a word, like a power cut (the broker then publishes the will).
   */
  async stop(opts: { timeoutMs?: number; abrupt?: boolean } = {}): Promise<void> {
    const run = this.run;
    if (!run || this.stopping) return;
    this.stopping = true;
    const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
    const left = (): number => Math.max(0, deadline - Date.now());
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    run.heartbeat.stop();
    run.agenda.close();
    await withTimeout(run.faults.stop(), left() / 4);
    await withTimeout(run.playout.close(), left() / 3);
    await withTimeout(run.amplified.shutdown(), left() / 3);
    // Reports not yet acknowledged stay on disk for the next run.
    await withTimeout(run.reporter.close(), left() / 3);
    await run.session.stop({ timeoutMs: left(), abrupt: opts.abrupt });
    this.earlierLinkFailures += run.session.linkFailures;
    await withTimeout(this.saveState().then(() => run.stateStore.flush()), left() + 200);
    if (!this.deps.hardware) await withTimeout(run.hardware.close(), 1_000);
    this.run = null;
    this.log.info('agent stopped');
  }

  private onConnected(): void {
    const run = this.run;
    if (!run || this.stopping) return;
    run.reporter.connected();
    this.emit('connect');
  }

  private async setVolume(volume: number): Promise<void> {
    await this.run!.hardware.mixer.setVolume(volume);
    this.settings.volume = volume;
    void this.saveState();
  }

  /** The level the player applies: the volume itself, or full scale when the hardware mixer sets it. */
  private playerVolume(volume: number): number {
    if (this.run?.hardware.mixer.software !== false) return volume;
    return Math.min(100, Math.round((100 * volume) / Math.max(1, this.settings.volume)));
  }

  private applyConfig(change: ConfigChange): void {
    this.settings.overrides = change.overrides;
    this.settings.config = change.config;
    if (change.changed.includes('heartbeatMs')) this.run?.heartbeat.reschedule();
    if (change.restart) this.requestRestart(`settings changed: ${change.changed.join(', ')}`, 1_000);
  }

  private requestRestart(reason: string, delayMs: number): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.log.warn({ reason, delayMs }, 'restarting');
    // The delay lets the answer leave before the connection closes.
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.listenerCount('restart-requested') > 0) return void this.emit('restart-requested', reason);
      void this.stop()
        .then(() => this.start())
        .catch((err: unknown) => this.log.error({ err }, 'restart failed'));
    }, delayMs);
  }

  private saveState(): Promise<void> {
    const run = this.run;
    if (!run) return Promise.resolve();
    return run.stateStore.save(() => ({
      v: 1,
      volume: this.settings.volume,
      recentCommandIds: this.settings.recent.ids(),
      activeFaults: run.faults.active().map((f) => ({ fault: f.fault, since: f.since, ...(f.detail ? { detail: f.detail.slice(0, 500) } : {}) })),
      finishedDeliveries: run.playout.finishedDeliveries(),
    }));
  }
}
