/**
 * The recorded examples of both variants (`test/national/fixtures/{vi,en}/`): `<kind>.json` or
 * `<kind>.<case>.json` holds one body exactly as it travels (no comments, no wrapper), `login.json` the login,
 * and `negatives.json` the refused cases, each breaking one checker rule of one positive fixture.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MESSAGE_KINDS, type MessageKind, type VariantName } from './variants.js';

export const FIXTURES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

export interface Fixture {
  file: string;
  kind: MessageKind;
  body: unknown;
}

export interface NegativeFixture {
  name: string;
  kind: MessageKind;
  body: unknown;
  /** The field the checker must name, and its rule. */
  field: string;
  rule: string;
}

/** The message kind a fixture file holds (`airing-start.relay.json` → airing-start), or null. */
export function kindOfFile(file: string): MessageKind | null {
  if (!file.endsWith('.json')) return null;
  const kind = file.slice(0, -'.json'.length).split('.')[0];
  return (MESSAGE_KINDS as readonly string[]).includes(kind!) ? (kind as MessageKind) : null;
}

export function loadFixtures(variant: VariantName, dir = join(FIXTURES_DIR, variant)): Fixture[] {
  return readdirSync(dir)
    .sort()
    .flatMap((file) => {
      const kind = kindOfFile(file);
      return kind ? [{ file, kind, body: JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown }] : [];
    });
}

export function loadLogin(variant: VariantName): { Username: string; Password: string } {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, variant, 'login.json'), 'utf8')) as { Username: string; Password: string };
}

type Json = Record<string, unknown> | unknown[];

/** Walks `path` (`LichPhat.ThoiDiemBatDau.0`) to the parent of its last step. */
function parentOf(root: Json, path: string): [Json, string] {
  const steps = path.split('.');
  let at: Json = root;
  for (const s of steps.slice(0, -1)) at = (at as Record<string, unknown>)[s] as Json;
  return [at, steps.at(-1)!];
}

export function loadNegatives(variant: VariantName): NegativeFixture[] {
  const dir = join(FIXTURES_DIR, variant);
  const raw = JSON.parse(readFileSync(join(dir, 'negatives.json'), 'utf8')) as Array<{ name: string; fixture: MessageKind; set: Record<string, unknown>; delete: string[]; field: string; rule: string }>;
  return raw.map((n) => {
    const body = structuredClone(JSON.parse(readFileSync(join(dir, `${n.fixture}.json`), 'utf8'))) as Json;
    for (const [path, value] of Object.entries(n.set)) {
      const [parent, key] = parentOf(body, path);
      (parent as Record<string, unknown>)[key] = value;
    }
    for (const path of n.delete) {
      const [parent, key] = parentOf(body, path);
      delete (parent as Record<string, unknown>)[key];
    }
    return { name: n.name, kind: n.fixture, body, field: n.field, rule: n.rule };
  });
}
