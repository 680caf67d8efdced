/**
 * The upstream national link (issue 17), wired for app.ts: off (null) unless LOAXA_NATIONAL_URL is set. The
 * mapping (`vi`, `en` or the name of a province's JSON file in the mappings folder) is resolved and checked here, so a bad file stops the start
 * naming the field that is wrong; a password file is read here, bounded.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Logger } from 'pino';
import { resolveMapping } from '@loaxa/shared';
import { nationalMappingsDir, type Config } from '../config.js';
import type { Db } from '../db/database.js';
import type { ServerEvents } from '../services/events.js';
import type { AreaRepository } from '../repos/areas.js';
import type { DeviceRepository } from '../repos/devices.js';
import { NationalOutboxRepository } from '../national/link/outbox.js';
import { NationalLinkReadings } from '../national/link/readings.js';
import { UpstreamClient } from '../national/link/upstream-client.js';
import { NationalLink, type LinkClock } from '../national/link/link-service.js';

const MAX_PASSWORD_FILE_BYTES = 4096;

export function wireNationalLink(
  config: Config,
  deps: { db: Db; events: ServerEvents; areas: AreaRepository; devices: DeviceRepository; logger: Logger; clock?: { now: () => number; schedule?: (fn: () => void, ms: number) => () => void } | undefined },
): NationalLink | null {
  const c = config.national;
  if (!c) return null;
  let mapping;
  try {
    mapping = resolveMapping(c.mapping, nationalMappingsDir(config));
  } catch (e) {
    throw new Error(`LOAXA_NATIONAL_MAPPING: ${(e as Error).message}`, { cause: e });
  }
  let password = c.password;
  if (c.passwordFile) {
    if (statSync(c.passwordFile).size > MAX_PASSWORD_FILE_BYTES) throw new Error(`LOAXA_NATIONAL_PASSWORD_FILE: ${c.passwordFile} is larger than ${MAX_PASSWORD_FILE_BYTES} bytes`);
    password = readFileSync(c.passwordFile, 'utf8').trim();
  }
  // NguonID: as configured, else the installation's top area (a province's or commune's code), found once the
  // areas are imported.
  let sourceId = c.sourceId;
  const source = () => {
    sourceId ??= deps.areas.all().find((a) => a.parentCode === null)?.code;
    return { id: sourceId ?? 'LOAXA', name: c.sourceName };
  };
  const now = deps.clock?.now ?? Date.now;
  const clock: LinkClock = {
    now,
    schedule:
      deps.clock?.schedule ??
      ((fn, ms) => {
        const timer = setTimeout(fn, ms);
        timer.unref();
        return () => clearTimeout(timer);
      }),
  };
  return new NationalLink({
    config: c,
    mapping,
    source,
    vendor: { code: c.vendorCode, name: c.vendorName },
    outbox: new NationalOutboxRepository(deps.db),
    readings: new NationalLinkReadings(deps.db, () => deps.devices.presence.fresh()),
    events: deps.events,
    client: new UpstreamClient({ baseUrl: c.url, mapping, username: c.username, password, timeoutMs: c.timeoutMs, maxAnswerBytes: c.maxAnswerBytes }, now),
    clock,
    logger: deps.logger,
  });
}
