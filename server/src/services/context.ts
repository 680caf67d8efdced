/**
 * What the composition root (app.ts) built, by name. Each route plugin declares the few fields it uses as a
 * `Pick` of this and is handed exactly those (wiring/http.ts); tests and tools reach all of it, and the
 * database under it, through `LoaxaServer.ctx`. There is no database here: all SQL lives in repos/.
 */
import type { StreamAddressGuard } from '../relay/address-guard.js';
import type { Config } from '../config.js';
import type { AreaRepository } from '../repos/areas.js';
import type { BroadcastRepository } from '../repos/broadcasts.js';
import type { BulletinRepository } from '../repos/bulletins.js';
import type { DeviceRepository } from '../repos/devices.js';
import type { SessionRepository } from '../repos/sessions.js';
import type { UserRepository } from '../repos/users.js';
import type { MediaStore } from '../audio/index.js';
import type { BulletinService, SpeechRenderer } from './bulletin-service.js';
import type { SpeechService } from './speech.js';
import type { DictionaryRepository } from '../repos/dictionary.js';
import type { VoiceSettingRepository } from '../repos/voice-settings.js';
import type { FaultRepository } from '../repos/faults.js';
import type { DeliveryService } from './delivery-service.js';
import type { Scheduler } from './scheduler.js';
import type { AgendaService } from './agenda-service.js';
import type { CoverageService } from './coverage-service.js';
import type { ServerEvents } from './events.js';
import type { RequestCorrelator } from './requests.js';
import type { MessageBus } from '../broker/bus.js';
import type { BrokerIdentities } from '../broker/identities.js';
import type { BroadcastService } from './broadcast-service.js';
import type { DeviceCredentialCache } from '../auth/device-credentials.js';
import type { ObjectScope } from '../auth/objects.js';
import type { OfferRepository } from '../repos/offers.js';
import type { AsRunRepository } from '../repos/as-run.js';
import type { MonthlyReportRepository } from '../repos/monthly-report.js';
import type { AuditRepository } from '../repos/audit.js';
import type { ClaimRepository } from '../repos/claims.js';
import type { MisbehaviourMeter } from './misbehaviour.js';
import type { SourceRepository } from '../repos/sources.js';
import type { RelayLogRepository } from '../repos/relay-log.js';
import type { SourceChecker } from './source-checker.js';
import type { ProgrammeRepository } from '../repos/programmes.js';
import type { ProgrammeService } from './programme-service.js';
import type { LiveService } from '../live/live-service.js';
import type { OpsCountRepository } from '../repos/ops-counts.js';
import type { BackupService } from '../backup/backup-service.js';

export interface AppContext {
  config: Config;
  areas: AreaRepository;
  users: UserRepository;
  sessions: SessionRepository;
  devices: DeviceRepository;
  /** Boxes' credentials and area, remembered (broker authentication, media downloads). */
  deviceCredentials: DeviceCredentialCache;
  bulletins: BulletinRepository;
  broadcasts: BroadcastRepository;
  media: MediaStore;
  dictionary: DictionaryRepository;
  /** Each area's default voice and speaking rate (issue 20). */
  voiceSettings: VoiceSettingRepository;
  faults: FaultRepository;
  speech: SpeechService;
  /** The renderer bulletins and previews use (the speech service's, unless a test replaces it). */
  render: SpeechRenderer;
  bulletinService: BulletinService;
  deliveryService: DeliveryService;
  scheduler: Scheduler;
  agenda: AgendaService;
  coverage: CoverageService;
  events: ServerEvents;
  requests: RequestCorrelator;
  bus: MessageBus;
  /** Device identities in an external broker's own store (Mosquitto dynamic security or files), when one is used. */
  brokerIdentities: BrokerIdentities | null;
  /** Runs `fn` when the server begins to shut down (to end long-lived responses). */
  onShutdown(fn: () => void): void;
  broadcastService: BroadcastService;
  /** Whether a user may see one object (device, broadcast, bulletin, offer, user): one place per kind. */
  objects: ObjectScope;
  offers: OfferRepository;
  /** The as-run log (reports). */
  asRun: AsRunRepository;
  /** Faults and warnings of a month (the monthly report, issue 20). */
  monthlyReport: MonthlyReportRepository;
  /** The audit log, and the stored state of audited objects. */
  audit: AuditRepository;
  /** One-time claim codes for installing boxes. */
  claims: ClaimRepository;
  /** Live sources boxes relay (issue 15). */
  sources: SourceRepository;
  /** Checks live sources with ffmpeg, periodically and on demand. */
  sourceChecker: SourceChecker;
  /** Which addresses the server may open as live sources (LOAXA_SOURCE_PRIVATE_NETS; issue 15 review, SSRF). */
  streamAddressGuard: StreamAddressGuard;
  /** What boxes' relays did (the as-run of relays). */
  relayLog: RelayLogRepository;
  /** Programmes' versions and their items' reports (issue 15). */
  programmes: ProgrammeRepository;
  /** Saves programmes (checks, files, versions) and makes their previews. */
  programmeService: ProgrammeService;
  /** Live voice (issue 16): airings made, running, ended, and the boxes' streams of them. */
  live: LiveService;
  /** Boxes over their malformed-message budget, refused at connect for their penalty (embedded and external broker). */
  misbehaviour: MisbehaviourMeter;
  /** The port the MQTT broker actually listens on (it may be ephemeral in tests). */
  mqttPort(): number;
  /** Disconnects a device's live MQTT session at once. */
  disconnectDevice(deviceId: string): void;
  /** The counts `GET /metrics` reads from the database (boxes by province, faults, deliveries, outbox). */
  opsCounts: OpsCountRepository;
  /** Whether the server has its broker, and the boxes' connections when it can count them (`GET /metrics`). */
  brokerHealth(): { up: boolean; deviceConnections: number | null };
  /** Nightly backups (LOAXA_BACKUP_DIR); null when none is configured. */
  backups: BackupService | null;
}
