/**
 * The mappings peers speak (issue 17): `vi`, `en`, or the name of a province's JSON file in the mappings folder
 * (LOAXA_NATIONAL_MAPPINGS_DIR: a name, never a path — issue 17 review), read and checked once
 * (`resolveMapping`: a size bound and the mapping schema) and then kept. A peer is saved only with a mapping
 * that resolves, so the served interface never meets a bad one at request time.
 */
import { resolveMapping, SHIPPED_MAPPINGS, type Mapping } from '@loaxa/shared';

export class PeerMappings {
  private readonly cache = new Map<string, Mapping>();

  constructor(private readonly dir: string) {}

  /** The mapping, or an Error naming what is wrong with it (the admin's 400). */
  get(name: string): Mapping {
    const hit = this.cache.get(name);
    if (hit) return hit;
    const m = resolveMapping(name, this.dir);
    this.cache.set(name, m);
    return m;
  }

  /** The shipped ones and those of `names` that resolve: the candidates for a request not yet tied to a peer. */
  candidates(names: Iterable<string>): Mapping[] {
    const out: Mapping[] = [SHIPPED_MAPPINGS.vi, SHIPPED_MAPPINGS.en];
    for (const n of new Set(names)) {
      try {
        const m = this.get(n);
        if (!out.includes(m)) out.push(m);
      } catch {
        /* a file gone since the peer was saved: its peer gets the shipped answer form */
      }
    }
    return out;
  }
}
