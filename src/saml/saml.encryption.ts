// Encrypted assertions (Okta's "Assertion Encryption", Entra ID's token encryption) and encrypted
// NameIDs in logout requests: the IdP encrypts for the SP certificate published in our metadata (the
// same key pair that signs our requests), and node-saml decrypts with the SP key. The algorithms are
// checked first, here, from the document itself: node-saml asks xml-encryption for no restriction,
// which would accept RSA PKCS#1 v1.5 key transport (Bleichenbacher) and Triple DES.
import type { Element } from '@xmldom/xmldom';
import { SamlRefusal } from './saml.refusal.ts';
import { allElements } from './saml.xml.ts';

const XMLENC = 'http://www.w3.org/2001/04/xmlenc#';
const XMLENC11 = 'http://www.w3.org/2009/xmlenc11#';

/** Content encryption: AES, 128 or 256 bits, in CBC or GCM mode. */
export const DATA_ALGORITHMS = [`${XMLENC11}aes256-gcm`, `${XMLENC11}aes128-gcm`, `${XMLENC}aes256-cbc`, `${XMLENC}aes128-cbc`];
/** Key transport: RSA-OAEP (with SHA-1, SHA-256 or SHA-512 as its digest). */
export const KEY_TRANSPORT_ALGORITHMS = [`${XMLENC}rsa-oaep-mgf1p`];
const ALLOWED = new Set([...DATA_ALGORITHMS, ...KEY_TRANSPORT_ALGORITHMS]);

/** Refuses an EncryptedAssertion (or EncryptedID) using any algorithm outside the lists above. */
export function checkEncryptionAlgorithms(encrypted: Element): void {
  // By local name in any namespace, as xml-encryption finds them: an EncryptionMethod in another
  // namespace would otherwise be used without being checked.
  const methods = allElements(encrypted).filter((e) => e.localName === 'EncryptionMethod');
  if (methods.length === 0) throw new SamlRefusal('encrypted_assertion', `the ${encrypted.localName} names no encryption method`);
  for (const m of methods) {
    const alg = m.getAttribute('Algorithm') ?? '';
    if (!ALLOWED.has(alg)) {
      throw new SamlRefusal('weak_algorithm', `encryption algorithm ${alg.slice(0, 100) || '(none)'} is not accepted (AES-CBC or AES-GCM, with RSA-OAEP key transport)`);
    }
  }
}
