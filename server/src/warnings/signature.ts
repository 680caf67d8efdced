/**
 * Checking a CAP alert's XML Signature against the certificate configured for its source (issue 18).
 *
 * CAP 1.2 §3.3.4.1 lets a sender sign the whole alert with an enveloped XML Signature (W3C XML Signature
 * Syntax and Processing, "xmldsig") placed as the alert's last child. An alert that turns every loudspeaker
 * of a province on at emergency volume is worth forging, so for a source configured with a certificate the
 * signature is required and must be exactly the shape we expect; anything more flexible is where XML
 * signature attacks live:
 *
 * - The document is first read by our own hardened parser (xml.ts: no DTD, no entities, bounded), so
 *   xml-crypto's DOM parser (xmldom) only ever sees documents that already passed it.
 * - Exactly one ds:Signature in the whole document, the alert's last child element (§3.3.4.1). A second one
 *   elsewhere (inside a parameter, say) is refused rather than ignored: "which signature was checked?" is the
 *   question signature wrapping attacks exploit (McIntyre et al., "On Breaking SAML", 2012).
 * - Exactly one Reference, to the whole alert: URI="" (the document, xmldsig §4.4.3.2) or "#id" naming the
 *   root element and no other. A Reference to some inner element would leave the rest of the alert unsigned.
 * - Its transforms include enveloped-signature (xmldsig §6.6.4; required for a signature inside what it
 *   signs) and are otherwise canonicalizations only: no XPath or XSLT transforms.
 * - Algorithms from an allow-list: SHA-256 or stronger digests, RSA or ECDSA with SHA-256 or stronger
 *   (RFC 6931). SHA-1 is refused (collisions are practical: SHAttered 2017), as is HMAC (a shared secret is not
 *   the sender's identity). The algorithm must match the key's type.
 * - The key is the configured certificate's, never one carried in the message's KeyInfo: anyone can put a
 *   certificate in KeyInfo; trust comes from configuration.
 * - After the cryptographic check, what was signed (the canonical reference xml-crypto hands back) must
 *   itself read as a CAP alert with the same identifier, so the verdict is about this alert.
 */
import { createPrivateKey, createPublicKey, createSign, createVerify, KeyObject, X509Certificate, type BinaryLike, type KeyLike } from 'node:crypto';
import { createRequire } from 'node:module';
import { CAP_NAMESPACE } from '@loaxa/shared';
import { attribute, parseXml, XmlRefused, type XmlElement } from './xml.js';
import { XMLDSIG_NAMESPACE } from './cap-read.js';

// xml-crypto and @xmldom/xmldom are loaded with require and typed here by the little we use, not imported:
// their type declarations pull in TypeScript's DOM library (`/// <reference lib="dom" />`), which would
// change global types (fetch's BodyInit, timers…) for the whole server program.
interface SignedXml {
  SignatureAlgorithms: Record<string, unknown>;
  loadSignature(signatureNode: unknown): void;
  checkSignature(xml: string): boolean;
  getSignedReferences(): string[];
  addReference(ref: { xpath: string; digestAlgorithm: string; transforms: string[]; isEmptyUri?: boolean }): void;
  computeSignature(xml: string, options?: { prefix?: string; location?: { reference: string; action: 'append' | 'prepend' | 'before' | 'after' } }): void;
  getSignedXml(): string;
}
interface SignedXmlOptions {
  privateKey?: string;
  publicCert?: string;
  signatureAlgorithm?: string;
  canonicalizationAlgorithm?: string;
  getCertFromKeyInfo?: () => string | null;
}
interface DomDocument {
  getElementsByTagNameNS(ns: string, local: string): { length: number; [i: number]: unknown };
}
const load = createRequire(import.meta.url);
const { SignedXml: SignedXmlClass } = load('xml-crypto') as { SignedXml: new (options?: SignedXmlOptions) => SignedXml };
const { DOMParser } = load('@xmldom/xmldom') as { DOMParser: new () => { parseFromString(xml: string, mime: string): DomDocument } };

/** An xml-crypto SignedXml with the ECDSA algorithms added (for verifying here, and for signing in tests). */
export function newSignedXml(options: SignedXmlOptions): SignedXml {
  return withEcdsa(new SignedXmlClass(options));
}

export type SignatureVerdict = { ok: true; subject: string } | { ok: false; reason: string };

const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
/** Canonicalizations (xmldsig §6.5): inclusive and exclusive, with or without comments. */
const CANONICALIZATIONS = new Set([
  'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
  'http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments',
  'http://www.w3.org/2001/10/xml-exc-c14n#',
  'http://www.w3.org/2001/10/xml-exc-c14n#WithComments',
]);
/** Digests (RFC 6931 §2.1) xml-crypto implements, SHA-256 or stronger. */
const DIGESTS = new Set(['http://www.w3.org/2001/04/xmlenc#sha256', 'http://www.w3.org/2001/04/xmlenc#sha512']);
/** Signature algorithms (RFC 6931 §2.3) and the key type each needs. */
const SIGNATURES = new Map<string, 'rsa' | 'ec'>([
  ['http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', 'rsa'],
  ['http://www.w3.org/2001/04/xmldsig-more#rsa-sha512', 'rsa'],
  ['http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256', 'ec'],
  ['http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384', 'ec'],
  ['http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512', 'ec'],
]);

/**
 * ECDSA for xml-crypto, which ships RSA only. XML Signature 1.1 §6.4.3 (and RFC 4050) write an ECDSA
 * SignatureValue as the raw r‖s pair, not DER: hence dsaEncoding "ieee-p1363".
 */
function ecdsa(uri: string, hash: 'SHA256' | 'SHA384' | 'SHA512') {
  return class {
    getSignature(signedInfo: BinaryLike, privateKey: KeyLike): string {
      return createSign(hash).update(signedInfo).sign({ key: privateKey instanceof KeyObject ? privateKey : createPrivateKey(privateKey), dsaEncoding: 'ieee-p1363' }, 'base64');
    }
    verifySignature(material: string, key: KeyLike, signatureValue: string): boolean {
      return createVerify(hash).update(material).verify({ key: createPublicKey(key), dsaEncoding: 'ieee-p1363' }, signatureValue, 'base64');
    }
    getAlgorithmName(): string {
      return uri;
    }
  };
}

function withEcdsa(sig: SignedXml): SignedXml {
  const algorithms = sig.SignatureAlgorithms;
  algorithms['http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256'] = ecdsa('http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256', 'SHA256');
  algorithms['http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384'] = ecdsa('http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384', 'SHA384');
  algorithms['http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512'] = ecdsa('http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512', 'SHA512');
  return sig;
}

/** The configured key and how to name it: an X.509 certificate's subject, or "public key" for a bare key. */
function configuredKey(pem: string): { key: KeyObject; subject: string } {
  if (/-----BEGIN CERTIFICATE-----/.test(pem)) {
    const cert = new X509Certificate(pem);
    return { key: cert.publicKey, subject: cert.subject.replace(/\n/g, ', ') };
  }
  const key = createPublicKey(pem);
  return { key, subject: 'public key' };
}

const ds = (el: XmlElement, local: string) => el.children.filter((c) => c.ns === XMLDSIG_NAMESPACE && c.local === local);

function* walk(el: XmlElement): Generator<XmlElement> {
  yield el;
  for (const c of el.children) yield* walk(c);
}

/** The alert's CAP identifier, or null. */
const identifierOf = (alert: XmlElement) => alert.children.find((c) => c.ns === CAP_NAMESPACE && c.local === 'identifier')?.text.trim() ?? null;

const ID_ATTRIBUTES = ['Id', 'ID', 'id'];

/**
 * Whether `xml` is a CAP 1.2 alert signed (CAP 1.2 §3.3.4.1, enveloped XML Signature) by the key of
 * `certificatePem` (an X.509 certificate or a public key, PEM). Never throws: a refusal says why.
 */
export function verifyCapSignature(xml: string, certificatePem: string): SignatureVerdict {
  let configured: { key: KeyObject; subject: string };
  try {
    configured = configuredKey(certificatePem);
  } catch (err) {
    return { ok: false, reason: `the configured certificate cannot be read: ${(err as Error).message}` };
  }

  // 1. Our own parser first: whatever xmldom would do with a DTD or entities never comes into play.
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (err) {
    if (err instanceof XmlRefused) return { ok: false, reason: `not accepted as XML: ${err.message}` };
    throw err;
  }
  if (root.ns !== CAP_NAMESPACE || root.local !== 'alert') return { ok: false, reason: 'not a CAP 1.2 alert' };

  // 2. The shape: one Signature, the alert's last child, one Reference to the whole alert.
  const signatures = [...walk(root)].filter((e) => e.ns === XMLDSIG_NAMESPACE && e.local === 'Signature');
  if (signatures.length === 0) return { ok: false, reason: 'the alert is not signed (no XML Signature, CAP 1.2 §3.3.4.1)' };
  if (signatures.length > 1) return { ok: false, reason: `${signatures.length} XML Signatures in the alert; exactly one is accepted` };
  const signature = signatures[0]!;
  if (root.children[root.children.length - 1] !== signature) return { ok: false, reason: 'the XML Signature must be the last element of the alert (CAP 1.2 §3.3.4.1)' };
  const signedInfo = ds(signature, 'SignedInfo');
  if (signedInfo.length !== 1) return { ok: false, reason: 'the signature must have exactly one SignedInfo' };
  const si = signedInfo[0]!;
  if (ds(signature, 'SignatureValue').length !== 1) return { ok: false, reason: 'the signature must have exactly one SignatureValue' };
  /** The Algorithm of the one `local` child of `el`; null when there is not exactly one. */
  const algorithm = (el: XmlElement, local: string): string | null => {
    const found = ds(el, local);
    return found.length === 1 ? (attribute(found[0]!, 'Algorithm') ?? null) : null;
  };
  const c14n = algorithm(si, 'CanonicalizationMethod');
  if (!c14n || !CANONICALIZATIONS.has(c14n)) return { ok: false, reason: `canonicalization ${c14n ?? '(none)'} is not accepted` };
  const method = algorithm(si, 'SignatureMethod') ?? '';
  const keyType = SIGNATURES.get(method);
  if (!keyType) return { ok: false, reason: `signature algorithm ${method || '(none)'} is not accepted (RSA or ECDSA with SHA-256 or stronger only; SHA-1 is refused)` };
  if (configured.key.asymmetricKeyType !== keyType) return { ok: false, reason: `signature algorithm ${method} does not fit the configured ${configured.key.asymmetricKeyType ?? 'unknown'} key` };
  const references = ds(si, 'Reference');
  if (references.length !== 1) return { ok: false, reason: `the signature must have exactly one Reference, not ${references.length}` };
  const ref = references[0]!;
  const uri = attribute(ref, 'URI');
  if (uri === undefined) return { ok: false, reason: 'the Reference has no URI; it must be "" (the whole alert)' };
  if (uri !== '') {
    const id = uri.startsWith('#') ? uri.slice(1) : null;
    const rootId = ID_ATTRIBUTES.map((a) => attribute(root, a)).find((v) => v !== undefined);
    if (id === null || id === '' || id !== rootId) return { ok: false, reason: `the Reference "${uri}" is not to the whole alert` };
    // One element carrying that id, or "#id" could be resolved to another (wrapping).
    const carriers = [...walk(root)].filter((e) => ID_ATTRIBUTES.some((a) => attribute(e, a) === id));
    if (carriers.length !== 1) return { ok: false, reason: `the id "${id}" is on ${carriers.length} elements` };
  }
  if (ds(ref, 'Transforms').length !== 1 || ds(ref, 'DigestValue').length !== 1) return { ok: false, reason: 'the Reference must have one Transforms and one DigestValue' };
  const transforms = ds(ds(ref, 'Transforms')[0]!, 'Transform').map((t) => attribute(t, 'Algorithm') ?? '');
  if (!transforms.includes(ENVELOPED)) return { ok: false, reason: 'the Reference lacks the enveloped-signature transform' };
  const otherTransform = transforms.find((t) => t !== ENVELOPED && !CANONICALIZATIONS.has(t));
  if (otherTransform !== undefined) return { ok: false, reason: `transform ${otherTransform || '(none)'} is not accepted` };
  const digest = algorithm(ref, 'DigestMethod') ?? '';
  if (!DIGESTS.has(digest)) return { ok: false, reason: `digest ${digest || '(none)'} is not accepted (SHA-256 or stronger only; SHA-1 is refused)` };

  // 3. The cryptography, by xml-crypto, with the configured key and nothing from KeyInfo.
  const publicPem = configured.key.export({ type: 'spki', format: 'pem' }).toString();
  const verifier = newSignedXml({ publicCert: publicPem, getCertFromKeyInfo: () => null });
  let valid: boolean;
  try {
    const doc = new DOMParser().parseFromString(xml, 'text/xml');
    const nodes = doc.getElementsByTagNameNS(XMLDSIG_NAMESPACE, 'Signature');
    if (nodes.length !== 1) return { ok: false, reason: 'the XML Signature could not be located' };
    verifier.loadSignature(nodes[0]);
    valid = verifier.checkSignature(xml);
  } catch (err) {
    return { ok: false, reason: `the signature does not verify: ${(err as Error).message.replace(/the signature value \S+ is/, 'the signature value is').slice(0, 300)}` };
  }
  if (!valid) return { ok: false, reason: 'the signature does not verify: the alert was changed after it was signed (digest mismatch)' };

  // 4. What was signed is this alert.
  const signed = verifier.getSignedReferences();
  if (signed.length !== 1) return { ok: false, reason: 'the signature does not cover exactly one reference' };
  try {
    const signedRoot = parseXml(signed[0]!);
    if (signedRoot.ns !== CAP_NAMESPACE || signedRoot.local !== 'alert' || identifierOf(signedRoot) !== identifierOf(root)) {
      return { ok: false, reason: 'what the signature covers is not this alert' };
    }
  } catch {
    return { ok: false, reason: 'what the signature covers cannot be read' };
  }
  return { ok: true, subject: configured.subject };
}
