/** Public API of the device agent (used by main.ts, the firmware simulator and tests). */
export { DeviceAgent, type DeviceAgentDeps, type DeviceAgentEvents } from './agent.js';
export {
  agentConfigSchema,
  loadAgentConfig,
  parseAgentConfig,
  redactConfig,
  ConfigError,
  CONFIG_FILE_VAR,
  AGENT_ENV_VARS,
  PLAYER_KINDS,
  type AgentConfig,
  type AgentConfigInput,
  type PlayerKind,
} from './config.js';
export { REMOTE_CONFIG_KEYS, CONFIG_OVERRIDES_FILE, planConfigChange, readOverrides, type ConfigOverrides } from './config-overrides.js';
export { NullPlayer, FfmpegAlsaPlayer, AplayPlayer, createPlayer, type Player, type PlayOptions, type PreparedPlay } from './player.js';
export { MediaCache, HashMismatchError, DownloadError, basicAuth, hashFile, type FetchLike, type MediaCacheDeps } from './media-cache.js';
export { SpeakerBusyError } from './playout.js';
export { deliveryKey, FinishedDeliveries, FINISHED_CAPACITY, type DeliveryReport, type FinishedDelivery } from './deliveries.js';
export { AgendaStore, AGENDA_FILE, type SyncAgenda, type AgendaItem } from './agenda-store.js';
export { ReportOutbox, OUTBOX_DIR } from './report-outbox.js';
export { CommandDispatcher, type CommandTable, type CommandHandler, type CommandResult } from './commands.js';
export { AgentStateStore, RecentIds, agentStateSchema, STATE_FILE, DEFAULT_VOLUME, type AgentState } from './agent-state.js';
export { systemClock, jitter, type Clock } from './timing.js';
export { AGENT_VERSION } from './version.js';
export { writeFileAtomic } from './atomic-file.js';
export { ClockOffsetEstimator } from './clock-offset.js';
export { FaultMonitor, buildFaultChecks, type FaultCheck, type FaultKind, type FaultTransition, type ActiveFault } from './faults.js';
export { collectHealth } from './health.js';
export { ReconnectPolicy, ModemRecovery } from './link.js';
// The protocol's pure pieces, shared with the firmware simulator's fleet boxes (issue 14).
export * from './protocol/index.js';
export { LogRing } from './log-ring.js';
export { sineWav, testToneFile } from './test-tone.js';
// Hardware: interfaces, real implementations and the simulated twins.
export { createHardware, SENSE_INPUTS, type Hardware, type SenseInput } from './hardware/index.js';
export { ProcessRunner, type CommandRunner, type CommandResult as ToolResult } from './hardware/command.js';
export { GpiodCliBackend, SysfsGpioBackend, createGpioBackend, parseGpioSpec, GPIO_BACKENDS, type GpioBackend, type GpioInput, type GpioOutput, type GpioLineSpec } from './hardware/gpio.js';
export { AmixerMixer, SoftwareMixer, MIXER_KINDS, type Mixer } from './hardware/mixer.js';
export { AmplifiedPlayer, GpioAmplifier, FixedAmplifier, type Amplifier } from './hardware/amplifier.js';
export { ProcSysReader, type SystemReader, type SystemSnapshot, type DiskSpace } from './hardware/system-info.js';
export { LinuxNetworkReader, defaultRouteInterface, parseMmcliKeys, type NetworkReader, type NetworkSnapshot } from './hardware/network.js';
export { TimedatectlReader, AplayDeviceProbe, parseAplayCards, cardOfDevice, type TimeSyncReader, type AudioDeviceProbe, type AudioDeviceStatus } from './hardware/probes.js';
export { SimBoard } from './hardware/twins.js';
export { CountingSink, AplaySink, FfmpegAlsaSink, createSink, type PcmSink, type PcmOutput, type SinkWrite } from './hardware/sink.js';
// Relays (issue 15): the stream player, and its pure parts (shared/src/relay/, one copy with the server's restream).
export { StreamRelay, DEFAULT_TUNING, type RelayChange, type RelayTuning, type StreamRelayDeps, type RelayRunner, type StartRelay } from './relay/stream-relay.js';
export { StreamDecoder, isHlsUrl, type DecoderInput, type DecoderSpec } from './relay/decoder.js';
export { FailoverPlan, DEFAULT_RETRY, type FailCause, type RetryPolicy } from '@loaxa/shared';
export { JitterBuffer, type JitterOptions } from '@loaxa/shared';
export { LevelMeter, levelDbfs, applyVolume, pcmMs, PCM_RATE, PCM_BYTES_PER_MS, SILENCE_DBFS, BLOCK_MS, type LevelBlock } from '@loaxa/shared';
export { startLoopWatchdog, type LoopWatchdog } from './loop-watchdog.js';
