/**
 * Builds the components of one agent run (start → stop) and wires them to each other and to the agent
 * (the host) through callbacks: no component imports another's instance, and nothing starts here —
 * agent.ts opens and starts them in order (STYLE.md habit 1). The settings in force (volume, config,
 * overrides, recent command ids) come as one object the agent updates (runtime-settings.ts); what the
 * agent is built from comes from agent-deps.ts, so this file does not import agent.ts.
 */
import type { Logger } from 'pino';
import { topics } from '@loaxa/shared';
import { Agenda } from './agenda.js';
import { AgendaStore } from './agenda-store.js';
import type { DeviceAgentDeps } from './agent-deps.js';
import type { AgentState, AgentStateStore } from './agent-state.js';
import type { ClockOffsetEstimator } from './clock-offset.js';
import { buildCommandTable } from './command-table.js';
import { CommandDispatcher } from './commands.js';
import type { AgentConfig } from './config.js';
import type { ConfigChange } from './config-overrides.js';
import { FaultMonitor, buildFaultChecks, type FaultTransition } from './faults.js';
import { AmplifiedPlayer } from './hardware/amplifier.js';
import type { Hardware } from './hardware/index.js';
import { Heartbeat } from './heartbeat.js';
import { MediaCache, basicAuth } from './media-cache.js';
import { createSink, type PcmSink } from './hardware/sink.js';
import { createPlayer } from './player.js';
import { Playout, type DeliveryReport } from './playout.js';
import type { ProgrammeItemReport, RelayReport } from './protocol/deliveries.js';
import { StreamRelay } from './relay/stream-relay.js';
import { Reporter } from './reporter.js';
import type { SettingsView } from './runtime-settings.js';
import { Session } from './session.js';
import type { Clock } from './timing.js';

/** Slow fault checks (tools, statfs) run once per this many polls. */
const SLOW_CHECK_EVERY = 6;

/** What the components need from the agent that owns them. */
export interface AgentHost {
  log: Logger;
  clock: Clock;
  offset: ClockOffsetEstimator;
  /** Volume, configuration in force, overrides and recent command ids; the agent changes them. */
  settings: SettingsView;
  playerVolume(volume: number): number;
  setVolume(volume: number): Promise<void>;
  uptimeMs(): number;
  earlierLinkFailures(): number;
  activeFaults(): FaultTransition[];
  saveState(): void;
  connected(): void;
  offline(): void;
  delivery(r: DeliveryReport): void;
  relay(r: RelayReport): void;
  programmeItem(r: ProgrammeItemReport): void;
  fault(t: FaultTransition): void;
  requestRestart(reason: string, delayMs: number): void;
  applyConfig(change: ConfigChange): void;
}

export interface AgentParts {
  hardware: Hardware;
  amplified: AmplifiedPlayer;
  sink: PcmSink;
  cache: MediaCache;
  playout: Playout;
  agenda: Agenda;
  reporter: Reporter;
  faults: FaultMonitor;
  session: Session;
  heartbeat: Heartbeat;
  stateStore: AgentStateStore;
}

export function buildAgentParts(deps: DeviceAgentDeps, config: AgentConfig, saved: AgentState, hardware: Hardware, stateStore: AgentStateStore, host: AgentHost): AgentParts {
  const child = (module: string): Logger => host.log.child({ module });
  const { settings } = host;
  const amplified = new AmplifiedPlayer(deps.player ?? createPlayer(config), hardware.amplifier, { holdMs: config.ampHoldMs, logger: child('amplifier'), clock: host.clock });

  // Built before their users, wired through closures: the cache protects the agenda's upcoming audio.
  let agenda: Agenda | null = null;
  const cache = new MediaCache({
    dir: config.cacheDir,
    maxBytes: config.cacheMaxBytes,
    authorization: basicAuth(config.mqtt.username, config.mqtt.password),
    fetch: deps.fetch ?? globalThis.fetch,
    logger: child('cache'),
    downloadTimeoutMs: () => settings.config.downloadTimeoutMs,
    freeBytes: async () => (await hardware.system.disk())?.freeBytes ?? null,
    protect: () => agenda?.upcomingHashes() ?? [],
  });
  const session: Session = new Session({
    config,
    runner: hardware.runner,
    clock: host.clock,
    logger: child('link'),
    offset: host.offset,
    clockSampleSettleMs: deps.clockSampleSettleMs,
    onConnected: host.connected,
    onOffline: () => {
      reporter.disconnected();
      host.offline();
    },
    onCommand: (payload, topic) => void dispatcher.handle(payload, topic),
    heldAgenda: () => agenda?.held,
  });
  const reporter = new Reporter({
    deviceId: config.deviceId,
    stateDir: config.stateDir,
    maxQueueBytes: () => settings.config.reportQueueMaxBytes,
    clock: host.clock,
    logger: child('reports'),
    connected: () => session.connected,
    publish: (topic, body) => session.publishAcked(topic, body),
  });
  const sink = deps.sink ?? createSink(config, child('sink'));
  const fetchStream = deps.fetch ?? globalThis.fetch;
  const playout = new Playout({
    cache,
    player: amplified,
    clock: host.clock,
    logger: child('playout'),
    report: (r) => {
      reporter.delivery(r);
      host.delivery(r);
    },
    volume: () => host.playerVolume(settings.volume),
    downloadRetryMs: () => settings.config.downloadRetryMs,
    onFinished: host.saveState,
    // Relays (issue 15): the box pulls the stream itself, with its own credentials for the server's restream.
    startRelay: (stream, fallbackFile, onChange) => {
      const relay = new StreamRelay({
        urls: stream.urls,
        fallbackFile,
        sink,
        ffmpegPath: settings.config.ffmpegPath,
        fetch: fetchStream,
        authorization: stream.deviceAuth ? basicAuth(config.mqtt.username, config.mqtt.password) : null,
        clock: host.clock,
        logger: child('relay').child({ sourceId: stream.sourceId }),
        volume: () => host.playerVolume(settings.volume),
        onChange,
        ...(deps.relayTuning ? { tuning: deps.relayTuning } : {}),
        // A live voice (issue 16): one URL, a short buffer, and it ends with its stream.
        live: stream.live === true,
      });
      return {
        play: (endAt, signal) => amplified.hold(signal, () => relay.play(endAt, signal)),
        get airedMs() {
          return relay.airedMs;
        },
        get liveEnded() {
          return relay.liveEnded;
        },
      };
    },
    relayChange: (r) => {
      reporter.relay(r);
      host.relay(r);
    },
    // Programmes (issue 15): per-item reports through the same outbox, and the amplifier held for the whole.
    programmeItem: (r) => {
      reporter.programmeItem(r);
      host.programmeItem(r);
    },
    holdOutput: (signal, fn) => amplified.hold(signal, fn),
  });
  playout.restore(saved.finishedDeliveries);
  agenda = new Agenda({ store: new AgendaStore({ dir: config.stateDir, logger: child('agenda') }), playout, clock: host.clock, logger: child('agenda'), prefetchLeadMs: () => settings.config.prefetchLeadMs });
  const faults = new FaultMonitor({
    checks: buildFaultChecks({ hardware, config: () => settings.config, uptimeMs: host.uptimeMs, clockOffsetMs: () => host.offset.offsetMs }),
    pollMs: config.faultPollMs,
    debounce: config.faultDebounce,
    slowEvery: SLOW_CHECK_EVERY,
    clock: host.clock,
    logger: child('faults'),
    onChange: (t) => {
      host.saveState();
      reporter.fault(t);
      host.fault(t);
    },
    initial: saved.activeFaults,
  });
  const dispatcher = new CommandDispatcher({
    table: buildCommandTable({
      playout,
      agenda,
      setVolume: host.setVolume,
      settings,
      playTone: (file, durationMs, volume) => playout.playLocal('test-tone', file, durationMs, host.playerVolume(volume)),
      logs: deps.logs,
      requestRestart: host.requestRestart,
      applyConfig: host.applyConfig,
      selfUpdate: deps.selfUpdate,
      logger: child('commands'),
    }),
    clock: host.clock,
    logger: child('commands'),
    answer: (body) => session.publish(topics.deviceRes(config.deviceId), body, { qos: 1 }),
    recent: settings.recent,
    onRecorded: host.saveState,
  });
  const heartbeat = new Heartbeat({
    hardware,
    clock: host.clock,
    logger: child('heartbeat'),
    periodMs: () => settings.config.heartbeatMs,
    connected: () => session.connected,
    publish: (body) => session.publish(topics.deviceTelemetry(config.deviceId), body, { qos: 0 }),
    status: () => ({
      uptimeS: Math.floor(host.uptimeMs() / 1000),
      volume: settings.volume,
      cacheBytes: cache.bytes,
      cacheItems: cache.items,
      playing: playout.playing,
      clockOffsetMs: host.offset.offsetMs,
      faults: host.activeFaults().map((f) => f.fault),
      linkFailures: host.earlierLinkFailures() + session.linkFailures,
      modemRecoveries: session.modemRecoveries,
    }),
  });
  return { hardware, amplified, sink, cache, playout, agenda, reporter, faults, session, heartbeat, stateStore };
}
