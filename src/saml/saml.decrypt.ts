// Encrypted assertions (Okta's "Assertion Encryption", Entra ID's token encryption): the IdP encrypts
// the assertion for the SP certificate published in our metadata (the same key pair that signs our
// requests). The ACS decrypts it here to inspect it like a plain one, and node-saml decrypts it again
// to verify its signature. The algorithms are checked first, from the document itself: node-saml asks
// xml-encryption for no restriction, which would accept RSA PKCS#1 v1.5 key transport (Bleichenbacher)
// and Triple DES.
import type { Element } from '@xmldom/xmldom';
import { promisify } from 'node:util';
import xmlenc from 'xml-encryption';
import { SamlRefusal } from './saml.refusal.ts';
import { allElements } from './saml.xml.ts';

const XMLENC = 'http://www.w3.org/2001/04/xmlenc#';
const XMLENC11 = 'http://www.w3.org/2009/xmlenc11#';

/** Content encryption: AES in CBC or GCM mode (Okta offers these four; Entra ID uses AES-256-CBC). */
export const DATA_ALGORITHMS = [`${XMLENC11}aes256-gcm`, `${XMLENC11}aes128-gcm`, `${XMLENC}aes256-cbc`, `${XMLENC}aes128-cbc`];
/** Key transport: RSA-OAEP (with SHA-1, SHA-256 or SHA-512 as its digest). */
export const KEY_TRANSPORT_ALGORITHMS = [`${XMLENC}rsa-oaep-mgf1p`];
const ALLOWED = new Set([...DATA_ALGORITHMS, ...KEY_TRANSPORT_ALGORITHMS]);

/** Refuses an EncryptedAssertion (or EncryptedID) using any algorithm outside the lists above. */
export function checkEncryptionAlgorithms(encrypted: Element): void {
  const methods = allElements(encrypted).filter((e) => e.namespaceURI === XMLENC && e.localName === 'EncryptionMethod');
  if (methods.length === 0) throw new SamlRefusal('encrypted_assertion', `the ${encrypted.localName} names no encryption method`);
  for (const m of methods) {
    const alg = m.getAttribute('Algorithm') ?? '';
    if (!ALLOWED.has(alg)) {
      throw new SamlRefusal('weak_algorithm', `encryption algorithm ${alg.slice(0, 100) || '(none)'} is not accepted (AES-CBC or AES-GCM, with RSA-OAEP key transport)`);
    }
  }
}

const decrypt = promisify(xmlenc.decrypt);

/** The assertion's XML, decrypted with the SP's private key. */
export async function decryptAssertion(encryptedAssertionXml: string, privateKey: string): Promise<string> {
  try {
    return await decrypt(encryptedAssertionXml, { key: privateKey, disallowDecryptionWithInsecureAlgorithm: true, warnInsecureAlgorithm: false });
  } catch (err) {
    // One reason for every failure (wrong key, bad padding, bad tag), so that the answer says nothing
    // about which step failed; the detail is for the audit log only.
    throw new SamlRefusal('encrypted_assertion', `the assertion could not be decrypted with the SP key (was the IdP given this SP's current certificate?): ${(err as Error).message.slice(0, 200)}`);
  }
}
