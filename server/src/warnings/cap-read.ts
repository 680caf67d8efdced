/**
 * CAP 1.2 XML → the model of shared/src/warnings/cap.ts, or an error that names the element it is about
 * ("/alert/info[1]/area[2]/polygon[1]: …", 1-based as in XPath), so a source's operator can fix the sender.
 *
 * Two checks, as the OASIS schema (CAP-v1.2.xsd) makes them: the structure first — only the standard's
 * elements, in the XSD's sequence order, each as often as its cardinality allows, simple elements without
 * children — then every value against the zod model (value lists, DateTime form, polygon rules, scope
 * rules). An enveloped XML Signature (xmldsig, CAP 1.2 §3.3.4.1) is the one foreign element allowed, as the
 * alert's last child(ren); it is handed back untouched for the source's signature check.
 *
 * Leaf text is trimmed of surrounding white space before it is checked: pretty-printed senders put
 * newlines around values, and a space before "Actual" changes nothing a person meant.
 */
import { capAlertSchema, CAP_NAMESPACE, type CapAlert } from '@loaxa/shared';
import { parseXml, XmlRefused, type XmlElement, type XmlLimits, type XmlRefusal } from './xml.js';

export const XMLDSIG_NAMESPACE = 'http://www.w3.org/2000/09/xmldsig#';

export type CapReadFailure =
  | { ok: false; reason: XmlRefusal; path: string; message: string }
  | { ok: false; reason: 'not-cap' | 'structure' | 'invalid'; path: string; message: string };
export type CapReadResult = { ok: true; alert: CapAlert; signature: XmlElement | null } | CapReadFailure;

type Card = '1' | '?' | '*' | '+';
type Group = 'alert' | 'info' | 'resource' | 'area' | 'pair';
/** The XSD's sequences: element, cardinality, and the group a complex child has. */
const SEQUENCES: Record<Group, readonly (readonly [string, Card, Group?])[]> = {
  alert: [
    ['identifier', '1'], ['sender', '1'], ['sent', '1'], ['status', '1'], ['msgType', '1'], ['source', '?'], ['scope', '1'],
    ['restriction', '?'], ['addresses', '?'], ['code', '*'], ['note', '?'], ['references', '?'], ['incidents', '?'], ['info', '*', 'info'],
  ],
  info: [
    ['language', '?'], ['category', '+'], ['event', '1'], ['responseType', '*'], ['urgency', '1'], ['severity', '1'], ['certainty', '1'],
    ['audience', '?'], ['eventCode', '*', 'pair'], ['effective', '?'], ['onset', '?'], ['expires', '?'], ['senderName', '?'], ['headline', '?'],
    ['description', '?'], ['instruction', '?'], ['web', '?'], ['contact', '?'], ['parameter', '*', 'pair'], ['resource', '*', 'resource'], ['area', '*', 'area'],
  ],
  resource: [['resourceDesc', '1'], ['mimeType', '1'], ['size', '?'], ['uri', '?'], ['derefUri', '?'], ['digest', '?']],
  area: [['areaDesc', '1'], ['polygon', '*'], ['circle', '*'], ['geocode', '*', 'pair'], ['altitude', '?'], ['ceiling', '?']],
  pair: [['valueName', '1'], ['value', '1']],
};

class StructureError extends Error {
  constructor(readonly path: string, message: string) {
    super(message);
  }
}

const many = (c: Card) => c === '*' || c === '+';
type Plain = Record<string, unknown>;

/** Checks one element's children against its sequence and returns them as a plain object for zod. */
function walk(el: XmlElement, group: Group, path: string, allowSignature: boolean): { value: Plain; signature: XmlElement | null } {
  const seq = SEQUENCES[group];
  const out: Plain = {};
  const counts = new Map<string, number>();
  let at = 0;
  let signature: XmlElement | null = null;
  for (const child of el.children) {
    if (signature) throw new StructureError(path, `<${child.name}> after the Signature; the Signature must come last`);
    if (allowSignature && child.ns === XMLDSIG_NAMESPACE && child.local === 'Signature') {
      signature = child;
      continue;
    }
    if (child.ns !== CAP_NAMESPACE) throw new StructureError(`${path}/${child.name}`, `<${child.name}> is not a CAP 1.2 element here (namespace "${child.ns}")`);
    const idx = seq.findIndex(([n]) => n === child.local);
    if (idx === -1) throw new StructureError(`${path}/${child.local}`, `<${child.local}> is not allowed in <${el.local}> (CAP 1.2)`);
    if (idx < at) throw new StructureError(`${path}/${child.local}`, `<${child.local}> is out of order: it must come before <${seq[at]![0]}> (CAP 1.2 XML schema sequence)`);
    at = idx;
    const [name, card, sub] = seq[idx]!;
    const n = (counts.get(name) ?? 0) + 1;
    counts.set(name, n);
    const childPath = many(card) ? `${path}/${name}[${n}]` : `${path}/${name}`;
    if (!many(card) && n > 1) throw new StructureError(childPath, `<${name}> may appear only once`);
    let value: unknown;
    if (sub) {
      if (child.text.trim() !== '') throw new StructureError(childPath, `<${name}> holds elements, not text`);
      value = walk(child, sub, childPath, false).value;
    } else {
      if (child.children.length > 0) throw new StructureError(childPath, `<${name}> holds text only, found <${child.children[0]!.name}>`);
      value = child.text.trim();
    }
    if (many(card)) ((out[name] ??= []) as unknown[]).push(value);
    else out[name] = value;
  }
  for (const [name, card] of seq) {
    if ((card === '1' || card === '+') && !counts.has(name)) throw new StructureError(`${path}/${name}`, `<${name}> is required in <${el.local}> (CAP 1.2)`);
  }
  return { value: out, signature };
}

const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)$/;

function num(v: string, path: string, what: string): number {
  if (!NUMBER.test(v)) throw new StructureError(path, `${what}: "${v.slice(0, 40)}" is not a number`);
  return Number(v);
}

function point(pair: string, path: string): [number, number] {
  const parts = pair.split(',');
  if (parts.length !== 2) throw new StructureError(path, `"${pair.slice(0, 40)}" is not a "lat,lon" pair (CAP 1.2 §3.2.4)`);
  return [num(parts[0]!, path, 'latitude'), num(parts[1]!, path, 'longitude')];
}

/** §3.2.1 addresses and incidents: white-space separated, a value with spaces in double quotes. */
export function splitQuotedList(v: string, path: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(v); m; m = re.exec(v)) {
    const item = m[1] ?? m[2]!;
    if (item.includes('"')) throw new StructureError(path, 'unbalanced double quote');
    if (item.trim() !== '') out.push(item);
  }
  return out;
}

/** Turns the CAP strings that pack several values into the model's structures. */
function unpack(a: Plain): void {
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  if (a.addresses !== undefined) a.addresses = splitQuotedList(str(a.addresses), '/alert/addresses');
  if (a.incidents !== undefined) a.incidents = splitQuotedList(str(a.incidents), '/alert/incidents');
  if (a.references !== undefined) {
    a.references = str(a.references).split(/\s+/).filter(Boolean).map((r) => {
      const p = r.split(',');
      if (p.length !== 3) throw new StructureError('/alert/references', `"${r.slice(0, 80)}" is not "sender,identifier,sent" (CAP 1.2 §3.2.1)`);
      return { sender: p[0], identifier: p[1], sent: p[2] };
    });
  }
  for (const [i, info] of ((a.info ?? []) as Plain[]).entries()) {
    const ip = `/alert/info[${i + 1}]`;
    for (const [j, res] of ((info.resource ?? []) as Plain[]).entries()) {
      if (res.size !== undefined) res.size = num(str(res.size), `${ip}/resource[${j + 1}]/size`, 'size');
    }
    for (const [j, area] of ((info.area ?? []) as Plain[]).entries()) {
      const ap = `${ip}/area[${j + 1}]`;
      if (area.polygon) {
        area.polygon = (area.polygon as string[]).map((p, k) => p.split(/\s+/).filter(Boolean).map((pair) => point(pair, `${ap}/polygon[${k + 1}]`)));
      }
      if (area.circle) {
        area.circle = (area.circle as string[]).map((c, k) => {
          const path = `${ap}/circle[${k + 1}]`;
          const m = /^(\S+)\s+(\S+)$/.exec(c);
          if (!m) throw new StructureError(path, `"${c.slice(0, 40)}" is not "lat,lon radius" (CAP 1.2 §3.2.4)`);
          return { center: point(m[1]!, path), radiusKm: num(m[2]!, path, 'radius') };
        });
      }
      if (area.altitude !== undefined) area.altitude = num(str(area.altitude), `${ap}/altitude`, 'altitude');
      if (area.ceiling !== undefined) area.ceiling = num(str(area.ceiling), `${ap}/ceiling`, 'ceiling');
    }
  }
}

/**
 * A zod issue path as the element path: ['info', 0, 'area', 1, 'polygon', 0] → /alert/info[1]/area[2]/polygon[1].
 * Inside a polygon or a circle's centre the numbers are a point and a coordinate: "…/polygon[1] point 3 latitude".
 */
function elementPath(path: readonly PropertyKey[]): string {
  let out = '/alert';
  let inPolygon = -1; // how many numbers seen since 'polygon'
  for (const p of path) {
    if (typeof p === 'number') {
      if (inPolygon === 1) out += ` point ${p + 1}`;
      else if (inPolygon >= 2) out += p === 0 ? ' latitude' : ' longitude';
      else out += `[${p + 1}]`;
      if (inPolygon >= 0) inPolygon++;
    } else {
      if (p === 'center') {
        out += ' centre';
        inPolygon = 2;
        continue;
      }
      out += p === 'radiusKm' ? ' radius' : `/${String(p)}`;
      inPolygon = p === 'polygon' ? 0 : -1;
    }
  }
  return out;
}

/** Reads a CAP 1.2 alert from bytes or text (read with the bounded reader), or from an element already read. */
export function readCap(input: string | Uint8Array | XmlElement, limits?: Partial<XmlLimits>): CapReadResult {
  let root: XmlElement;
  try {
    root = typeof input === 'string' || input instanceof Uint8Array ? parseXml(input, limits) : input;
  } catch (e) {
    if (e instanceof XmlRefused) return { ok: false, reason: e.reason, path: e.line === undefined ? '' : `line ${e.line}, column ${e.column}`, message: e.message };
    throw e;
  }
  if (root.local !== 'alert' || root.ns !== CAP_NAMESPACE) {
    const other = root.ns.startsWith('urn:oasis:names:tc:emergency:cap:') ? ' (another CAP version; only 1.2 is read)' : '';
    return { ok: false, reason: 'not-cap', path: `/${root.name}`, message: `not a CAP 1.2 alert: <${root.name}> in namespace "${root.ns}"${other}` };
  }
  let plain: Plain;
  let signature: XmlElement | null;
  try {
    ({ value: plain, signature } = walk(root, 'alert', '/alert', true));
    unpack(plain);
  } catch (e) {
    if (e instanceof StructureError) return { ok: false, reason: 'structure', path: e.path, message: `${e.path}: ${e.message}` };
    throw e;
  }
  const parsed = capAlertSchema.safeParse(plain);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = elementPath(issue.path);
    return { ok: false, reason: 'invalid', path, message: `${path}: ${issue.message}` };
  }
  return { ok: true, alert: parsed.data, signature };
}
