/**
 * Signing CAP alerts for the signature tests (CAP 1.2 §3.3.4.1: an enveloped XML Signature as the alert's
 * last child), with xml-crypto as a sender would. Options let a test make the shapes the verifier refuses.
 */
import { newSignedXml } from '../../../server/src/warnings/signature.js';

export const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
export const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
export const ECDSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256';
export const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
export const SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1';
export const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
export const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';

export interface SignOptions {
  signatureAlgorithm?: string;
  digestAlgorithm?: string;
  transforms?: string[];
  /** XPath of what is signed; default the alert (URI=""). */
  xpath?: string;
  /** Put the certificate in KeyInfo (it must not matter to the verifier). */
  certPem?: string;
}

/** `xml` with an enveloped signature appended to its root element. */
export function signCapAlert(xml: string, privateKeyPem: string, o: SignOptions = {}): string {
  const sig = newSignedXml({
    privateKey: privateKeyPem,
    ...(o.certPem ? { publicCert: o.certPem } : {}),
    signatureAlgorithm: o.signatureAlgorithm ?? RSA_SHA256,
    canonicalizationAlgorithm: EXC_C14N,
  });
  const xpath = o.xpath ?? '/*';
  sig.addReference({ xpath, digestAlgorithm: o.digestAlgorithm ?? SHA256, transforms: o.transforms ?? [ENVELOPED, EXC_C14N], isEmptyUri: xpath === '/*' });
  sig.computeSignature(xml, { prefix: 'ds', location: { reference: '/*', action: 'append' } });
  return sig.getSignedXml();
}
