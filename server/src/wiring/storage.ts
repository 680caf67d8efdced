/**
 * Storage, wired for app.ts: the SQLite database with every repository on it, the media files, and the
 * boxes' credentials remembered in memory.
 */
import { join } from 'node:path';
import { openDatabase, type Db } from '../db/database.js';
import { MediaStore } from '../audio/index.js';
import { DeviceCredentialCache } from '../auth/device-credentials.js';
import { AreaRepository } from '../repos/areas.js';
import { UserRepository } from '../repos/users.js';
import { SessionRepository } from '../repos/sessions.js';
import { DeviceRepository } from '../repos/devices.js';
import { BulletinRepository } from '../repos/bulletins.js';
import { BroadcastRepository } from '../repos/broadcasts.js';
import { DictionaryRepository } from '../repos/dictionary.js';
import { OfferRepository } from '../repos/offers.js';
import { FaultRepository } from '../repos/faults.js';
import { OpsCountRepository } from '../repos/ops-counts.js';
import { AsRunRepository } from '../repos/as-run.js';
import { AuditRepository } from '../repos/audit.js';
import { ClaimRepository } from '../repos/claims.js';
import { CoverageSnapshotRepository } from '../repos/coverage.js';
import { DeviceAgendaRepository } from '../repos/agendas.js';
import { SourceRepository } from '../repos/sources.js';
import { RelayLogRepository } from '../repos/relay-log.js';
import { ProgrammeRepository } from '../repos/programmes.js';
import { LiveRepository } from '../repos/live.js';
import { MosquittoHashRepository } from '../repos/mosquitto-hashes.js';
import { MonthlyReportRepository } from '../repos/monthly-report.js';
import { VoiceSettingRepository } from '../repos/voice-settings.js';

export interface Storage {
  db: Db;
  areas: AreaRepository;
  users: UserRepository;
  sessions: SessionRepository;
  devices: DeviceRepository;
  deviceCredentials: DeviceCredentialCache;
  bulletins: BulletinRepository;
  broadcasts: BroadcastRepository;
  media: MediaStore;
  dictionary: DictionaryRepository;
  faults: FaultRepository;
  opsCounts: OpsCountRepository;
  offers: OfferRepository;
  asRun: AsRunRepository;
  audit: AuditRepository;
  claims: ClaimRepository;
  agendas: DeviceAgendaRepository;
  coverageSnapshots: CoverageSnapshotRepository;
  /** Live sources boxes relay, and their latest checks (issue 15). */
  sources: SourceRepository;
  /** What boxes' relays did: starts, failovers, returns, fallbacks, ends (issue 15). */
  relayLog: RelayLogRepository;
  /** Programmes' versions and what boxes reported of their items (issue 15). */
  programmes: ProgrammeRepository;
  /** Live airings (issue 16): who spoke, the stream the boxes pull, how each ended. */
  live: LiveRepository;
  /** Boxes' lines of Mosquitto's password file (issue 21), when the server writes Mosquitto's files. */
  mosquittoHashes: MosquittoHashRepository;
  /** Faults and warnings of a month, for the monthly report (issue 20). */
  monthlyReport: MonthlyReportRepository;
  /** Each area's default voice and speaking rate (issue 20). */
  voiceSettings: VoiceSettingRepository;
}

/** Opens the database under `dataDir` (migrating it) and the media store; nothing else starts. */
export async function openStorage(dataDir: string): Promise<Storage> {
  const db = openDatabase(join(dataDir, 'loaxa.sqlite'));
  const devices = new DeviceRepository(db);
  // Credentials and area of every box in memory (up to 50,000): a connect storm reads none from SQLite.
  // It reads a box it does not know from `devices`, and `devices` tells it of every registration, rotated
  // secret, revocation and deletion: this is the one DeviceRepository, so it sees every such write.
  const deviceCredentials = new DeviceCredentialCache(devices);
  deviceCredentials.remember(devices.allAuthInfo(50_000));
  const areas = new AreaRepository(db);
  const media = new MediaStore(join(dataDir, 'media'));
  await media.init();
  const bulletins = new BulletinRepository(db);
  return {
    db,
    areas,
    users: new UserRepository(db),
    sessions: new SessionRepository(db),
    devices,
    deviceCredentials,
    bulletins,
    broadcasts: new BroadcastRepository(db),
    media,
    dictionary: new DictionaryRepository(db, areas),
    faults: new FaultRepository(db),
    opsCounts: new OpsCountRepository(db),
    offers: new OfferRepository(db),
    asRun: new AsRunRepository(db),
    audit: new AuditRepository(db),
    claims: new ClaimRepository(db, devices),
    agendas: new DeviceAgendaRepository(db),
    coverageSnapshots: new CoverageSnapshotRepository(db),
    sources: new SourceRepository(db),
    relayLog: new RelayLogRepository(db),
    programmes: new ProgrammeRepository(db, bulletins),
    live: new LiveRepository(db),
    mosquittoHashes: new MosquittoHashRepository(db),
    monthlyReport: new MonthlyReportRepository(db),
    voiceSettings: new VoiceSettingRepository(db),
  };
}
