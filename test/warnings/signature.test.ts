/**
 * CAP 1.2 §3.3.4.1 signatures (server/src/warnings/signature.ts): a genuine enveloped signature verifies with
 * the configured certificate or key, and every way of bending it fails with a reason: a changed alert,
 * another key (even one carried in KeyInfo), SHA-1, wrapping (a second Signature, an evil alert carrying a
 * genuine signature, a Reference to part of the alert), a DTD, a missing signature.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyCapSignature } from '../../server/src/warnings/signature.js';
import { readCap } from '../../server/src/warnings/cap-read.js';
import { SAMPLE_XML } from './fixtures/alerts.js';
import { ECDSA_SHA256, ENVELOPED, EXC_C14N, RSA_SHA1, SHA1, signCapAlert } from './helpers/sign.js';

function openssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

if (!openssl()) {
  t.pass('skipped: openssl is not installed, and the certificate tests need it to make a self-signed certificate', { skip: true });
} else {
  const dir = mkdtempSync(join(tmpdir(), 'loaxa-sig-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cert = (name: string, cn: string) => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-days', '30', '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`)], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, `${name}.key`), 'utf8'), cert: readFileSync(join(dir, `${name}.crt`), 'utf8') };
  };
  const kttv = cert('kttv', 'KTTV');
  const mallory = cert('mallory', 'KTTV');
  const signed = signCapAlert(SAMPLE_XML, kttv.key, { certPem: kttv.cert });

  t.test('a genuine signature verifies with the configured certificate, and the alert still reads', async (t) => {
    const v = verifyCapSignature(signed, kttv.cert);
    t.same(v, { ok: true, subject: 'CN=KTTV' });
    const r = readCap(signed);
    t.ok(r.ok && r.signature !== null, 'cap-read sees the signature as the last child');
  });

  t.test('a public key PEM instead of a certificate', async (t) => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const s = signCapAlert(SAMPLE_XML, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    t.same(verifyCapSignature(s, pem), { ok: true, subject: 'public key' });
  });

  t.test('ECDSA P-256 with SHA-256', async (t) => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const s = signCapAlert(SAMPLE_XML, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { signatureAlgorithm: ECDSA_SHA256 });
    t.same(verifyCapSignature(s, pem), { ok: true, subject: 'public key' });
    // The algorithm must fit the key: an "rsa-sha256" signature is not checked with an EC key.
    const rsaLabelled = s.replace(ECDSA_SHA256, 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    t.match(verifyCapSignature(rsaLabelled, pem), { ok: false, reason: /does not fit the configured ec key/ });
  });

  t.test('a changed alert fails', async (t) => {
    const tampered = signed.replace('<severity>Severe</severity>', '<severity>Extreme</severity>');
    t.not(tampered, signed);
    t.match(verifyCapSignature(tampered, kttv.cert), { ok: false, reason: /does not verify/ });
    const area = signed.replace('Lưu vực suối Nậm Mu', 'Toàn tỉnh');
    t.match(verifyCapSignature(area, kttv.cert), { ok: false, reason: /does not verify/ });
  });

  t.test('another key fails, even with a certificate of the same name in KeyInfo', async (t) => {
    const forged = signCapAlert(SAMPLE_XML, mallory.key, { certPem: mallory.cert });
    t.match(forged, /<ds:X509Certificate>/, 'the forger put his certificate in KeyInfo');
    t.match(verifyCapSignature(forged, kttv.cert), { ok: false, reason: /does not verify/ });
    t.match(verifyCapSignature(signed, mallory.cert), { ok: false, reason: /does not verify/ });
  });

  t.test('SHA-1 is refused, in the signature or the digest', async (t) => {
    const s1 = signCapAlert(SAMPLE_XML, kttv.key, { signatureAlgorithm: RSA_SHA1 });
    t.match(verifyCapSignature(s1, kttv.cert), { ok: false, reason: /signature algorithm .*rsa-sha1 is not accepted/ });
    const d1 = signCapAlert(SAMPLE_XML, kttv.key, { digestAlgorithm: SHA1 });
    t.match(verifyCapSignature(d1, kttv.cert), { ok: false, reason: /digest .*sha1 is not accepted/ });
  });

  t.test('the enveloped-signature transform is required, other transforms refused', async (t) => {
    const noEnveloped = signed.replace(`<ds:Transform Algorithm="${ENVELOPED}"/>`, '');
    t.match(verifyCapSignature(noEnveloped, kttv.cert), { ok: false, reason: /enveloped-signature/ });
    const xpathT = signed.replace(`<ds:Transform Algorithm="${EXC_C14N}"/>`, '<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"/>');
    t.match(verifyCapSignature(xpathT, kttv.cert), { ok: false, reason: /transform .*xpath.* is not accepted/ });
  });

  t.test('signature wrapping', async (t) => {
    const sigXml = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(signed)![0];
    // A second Signature inside the alert.
    const twice = signed.replace('<info>', `<info>${sigXml}`);
    t.match(verifyCapSignature(twice, kttv.cert), { ok: false, reason: /2 XML Signatures/ });
    // An evil alert carrying the genuine signature.
    const evil = SAMPLE_XML.replace('vn.kttv.tinhmau.2026-12-07.0042', 'vn.kttv.tinhmau.2026-12-07.9999').replace('</alert>', `${sigXml}</alert>`);
    t.match(verifyCapSignature(evil, kttv.cert), { ok: false, reason: /does not verify/ });
    // A second alert beside the signed one (two roots) or the signed one wrapped in another.
    t.match(verifyCapSignature(`${signed}<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"/>`, kttv.cert), { ok: false, reason: /not accepted as XML/ });
    const wrapped = `<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>evil</identifier><note>x</note>${signed.replace(/^<\?xml[^>]*\?>/, '')}</alert>`;
    t.match(verifyCapSignature(wrapped, kttv.cert), { ok: false, reason: /last element/ });
    // A second Reference beside the genuine one.
    const ref = /<ds:Reference[\s\S]*<\/ds:Reference>/.exec(signed)![0];
    t.match(verifyCapSignature(signed.replace(ref, ref + ref.replace('URI=""', 'URI="#x"')), kttv.cert), { ok: false, reason: /exactly one Reference, not 2/ });
    // A Reference to one element of the alert, not the whole alert.
    const withId = SAMPLE_XML.replace('<info>', '<info Id="i1">');
    const partial = signCapAlert(withId, kttv.key, { xpath: "//*[@Id='i1']" });
    t.match(partial, /URI="#i1"/);
    t.match(verifyCapSignature(partial, kttv.cert), { ok: false, reason: /Reference "#i1" is not to the whole alert/ });
    // "#id" naming the root, but a second element carries the same id.
    const rootId = SAMPLE_XML.replace('<alert xmlns', '<alert Id="a1" xmlns').replace('<info>', '<info Id="a1">');
    const dup = signCapAlert(rootId, kttv.key, { xpath: "/*[@Id='a1']" });
    t.match(verifyCapSignature(dup, kttv.cert), { ok: false, reason: /"a1" is on 2 elements/ });
  });

  t.test('a signature by id on the root alone verifies', async (t) => {
    const rootId = SAMPLE_XML.replace('<alert xmlns', '<alert Id="a1" xmlns');
    const s = signCapAlert(rootId, kttv.key, { xpath: "/*[@Id='a1']" });
    t.match(s, /URI="#a1"/);
    t.same(verifyCapSignature(s, kttv.cert), { ok: true, subject: 'CN=KTTV' });
  });

  t.test('the signature must be the last child', async (t) => {
    const moved = signed.replace(/(<ds:Signature[\s\S]*<\/ds:Signature>)/, '').replace('<info>', () => `${/<ds:Signature[\s\S]*<\/ds:Signature>/.exec(signed)![0]}<info>`);
    t.match(verifyCapSignature(moved, kttv.cert), { ok: false, reason: /last element/ });
  });

  t.test('missing signature, DTD, not CAP, bad certificate', async (t) => {
    t.same(verifyCapSignature(SAMPLE_XML, kttv.cert), { ok: false, reason: 'the alert is not signed (no XML Signature, CAP 1.2 §3.3.4.1)' });
    const dtd = signed.replace('<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE alert [<!ENTITY x "y">]>');
    t.match(verifyCapSignature(dtd, kttv.cert), { ok: false, reason: /not accepted as XML.*doctype/ });
    t.match(verifyCapSignature('<feed xmlns="http://www.w3.org/2005/Atom"/>', kttv.cert), { ok: false, reason: 'not a CAP 1.2 alert' });
    t.match(verifyCapSignature(signed, 'not a pem'), { ok: false, reason: /configured certificate cannot be read/ });
  });
}
