/**
 * Where a live source may be relayed (issue 15), for relay bulletins and for the relay segments of programmes
 * alike: by those who may use the source, only while it exists, and only to targets inside its area.
 * Split from BroadcastService so the rules for both kinds are read in one place.
 */
import { badRequest, conflict, forbidden } from '../http/errors.js';
import type { Principal } from '../auth/scope.js';
import type { ObjectScope } from '../auth/objects.js';
import type { AreaRepository } from '../repos/areas.js';
import type { BroadcastTarget } from '../repos/broadcasts.js';
import type { DeviceRepository } from '../repos/devices.js';
import type { ProgrammeRepository } from '../repos/programmes.js';
import type { SourceRepository } from '../repos/sources.js';

export interface RelayRuleDeps {
  areas: AreaRepository;
  devices: DeviceRepository;
  sources: SourceRepository;
  objects: ObjectScope;
  programmes?: ProgrammeRepository | undefined;
}

/**
 * Issue 15: a relay is broadcast by those who may use its source (its area and those inside it, or the whole
 * installation), and only while the source exists.
 */
export function checkRelaySource(deps: RelayRuleDeps, user: Principal, sourceId: string | null, target: BroadcastTarget, what = 'relay bulletin'): void {
  const source = sourceId ? deps.sources.get(sourceId) : null;
  if (!source) throw conflict(`this ${what} has no source any more; make a new ${what}`);
  if (source.deletedAt !== null) throw conflict(`source ${source.id} (${source.name}) was deleted; make a new ${what} with another source`);
  if (!deps.objects.sourceUsable(user, source)) throw forbidden(`source ${source.id} belongs to another area; you may not relay it`);
  checkRelayTargets(deps, source, target);
}

/** A programme's relay segments (its current version's), each under the rules of a relay of its source. */
export function checkProgrammeSources(deps: RelayRuleDeps, user: Principal, programmeId: string, version: number | null, target: BroadcastTarget): void {
  const v = version ? deps.programmes?.version(programmeId, version) : null;
  if (!v) throw conflict(`programme ${programmeId} has no items; save it again`);
  const seen = new Set<string>();
  for (const r of v.rendered) {
    if (!r.relay || seen.has(r.relay.sourceId)) continue;
    seen.add(r.relay.sourceId);
    checkRelaySource(deps, user, r.relay.sourceId, target, `programme (item ${r.index + 1})`);
  }
}

/**
 * Issue 15 review (4): a source serves its own area and what lies inside it. A user above that area may use
 * the source, but only there: a province operator may not send a commune's source to the whole province.
 * Installation-wide sources (no area) go anywhere.
 */
function checkRelayTargets(deps: RelayRuleDeps, source: { id: string; name: string; areaCode: string | null }, target: BroadcastTarget): void {
  const home = source.areaCode;
  if (home === null) return;
  const { areas, devices } = deps;
  const where = `${home}${areas.get(home)?.name ? ` (${areas.get(home)!.name})` : ''}`;
  target.areaCodes?.forEach((code, i) => {
    if (!areas.ancestry(code).includes(home)) {
      throw badRequest(`source ${source.id} (${source.name}) serves only area ${where}; area ${code} is outside it`, [{ path: `target.areaCodes.${i}`, message: `outside the source's area ${home}` }]);
    }
  });
  target.deviceIds?.forEach((id, i) => {
    const d = devices.get(id);
    if (d && !areas.ancestry(d.areaCode).includes(home)) {
      throw badRequest(`source ${source.id} (${source.name}) serves only area ${where}; device ${id} is outside it`, [{ path: `target.deviceIds.${i}`, message: `outside the source's area ${home}` }]);
    }
  });
}

