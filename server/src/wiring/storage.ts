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
import { AsRunRepository } from '../repos/as-run.js';
import { AuditRepository } from '../repos/audit.js';
import { ClaimRepository } from '../repos/claims.js';
import { CoverageSnapshotRepository } from '../repos/coverage.js';
import { DeviceAgendaRepository } from '../repos/agendas.js';

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
  offers: OfferRepository;
  asRun: AsRunRepository;
  audit: AuditRepository;
  claims: ClaimRepository;
  agendas: DeviceAgendaRepository;
  coverageSnapshots: CoverageSnapshotRepository;
}

/** Opens the database under `dataDir` (migrating it) and the media store; nothing else starts. */
export async function openStorage(dataDir: string): Promise<Storage> {
  const db = openDatabase(join(dataDir, 'loaxa.sqlite'));
  // The credential cache reads a box it does not know from the devices, and the devices tell it of boxes
  // just registered: each needs the other. The devices' notice is a closure over the cache built on the
  // next line; it is only called when a box is registered, long after both exist.
  const devices = new DeviceRepository(db, undefined, (rows) => deviceCredentials.remember(rows));
  // Credentials and area of every box in memory (up to 50,000): a connect storm reads none from SQLite.
  const deviceCredentials = new DeviceCredentialCache(db, (id) => devices.authInfo(id));
  deviceCredentials.remember(devices.allAuthInfo(50_000));
  const media = new MediaStore(join(dataDir, 'media'));
  await media.init();
  return {
    db,
    areas: new AreaRepository(db),
    users: new UserRepository(db),
    sessions: new SessionRepository(db),
    devices,
    deviceCredentials,
    bulletins: new BulletinRepository(db),
    broadcasts: new BroadcastRepository(db),
    media,
    dictionary: new DictionaryRepository(db),
    faults: new FaultRepository(db),
    offers: new OfferRepository(db),
    asRun: new AsRunRepository(db),
    audit: new AuditRepository(db),
    claims: new ClaimRepository(db, devices),
    agendas: new DeviceAgendaRepository(db),
    coverageSnapshots: new CoverageSnapshotRepository(db),
  };
}
