/**
 * PLACEHOLDER (issue 18): the XML Signature check of CAP 1.2 §3.3.4.1 is written by another change. Until it
 * lands, a source that requires signatures has every message refused (the check throws), never accepted
 * unchecked.
 */
export type CapSignatureResult = { ok: true; subject: string } | { ok: false; reason: string };

export function verifyCapSignature(_xml: string, _certificatePem: string): CapSignatureResult {
  throw new Error('not implemented');
}
