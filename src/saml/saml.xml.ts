// Strict XML parsing for everything SAML reads: IdP metadata, responses, logout messages.
// A DOCTYPE (and so any entity declaration) is refused before the parser sees the text, so XXE
// and entity expansion never depend on parser behaviour. Any parser warning is an error.
import { DOMParser, type Document, type Element, type Node } from '@xmldom/xmldom';

export const NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  metadata: 'urn:oasis:names:tc:SAML:2.0:metadata',
  dsig: 'http://www.w3.org/2000/09/xmldsig#',
} as const;

export class XmlRejected extends Error {
  constructor(
    readonly kind: 'doctype' | 'malformed',
    message: string,
  ) {
    super(message);
  }
}

/** True when the text declares a document type or an entity (never legitimate in SAML). */
export function hasDoctype(xml: string): boolean {
  return /<!\s*(DOCTYPE|ENTITY)/i.test(xml);
}

export function parseXmlStrict(xml: string): Document {
  if (hasDoctype(xml)) throw new XmlRejected('doctype', 'the XML declares a DOCTYPE or an entity');
  let problem: string | null = null;
  let doc: Document;
  try {
    doc = new DOMParser({
      onError: (level, msg) => {
        problem ??= `${level}: ${String(msg).split('\n')[0]}`;
      },
    }).parseFromString(xml, 'text/xml');
  } catch (err) {
    throw new XmlRejected('malformed', `the XML does not parse (${(err as Error).message.split('\n')[0]})`);
  }
  if (problem) throw new XmlRejected('malformed', `the XML does not parse (${problem})`);
  if (!doc.documentElement) throw new XmlRejected('malformed', 'the XML has no root element');
  return doc;
}

/** Element children of a node with the given namespace and local name. */
export function childElements(parent: Node, ns: string, localName: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).localName === localName && (n as Element).namespaceURI === ns) out.push(n as Element);
  }
  return out;
}

export function firstChild(parent: Node, ns: string, localName: string): Element | null {
  return childElements(parent, ns, localName)[0] ?? null;
}

/** Every element below (and including) root, in document order. */
export function allElements(root: Node): Element[] {
  const out: Element[] = [];
  const walk = (n: Node) => {
    for (let c = n.firstChild; c; c = c.nextSibling) {
      if (c.nodeType === 1) {
        out.push(c as Element);
        walk(c);
      }
    }
  };
  if (root.nodeType === 1) out.push(root as Element);
  walk(root);
  return out;
}

/** Text of an element that must hold only text: null when it has element, comment or PI children. */
export function pureText(el: Element): string | null {
  let text = '';
  for (let c = el.firstChild; c; c = c.nextSibling) {
    if (c.nodeType === 3 || c.nodeType === 4) text += c.nodeValue ?? '';
    else return null;
  }
  return text;
}
