// Decoding of AWS query-protocol forms (IAM, STS, SNS, CloudWatch query, SQS query) and the EC2
// variant into nested parameters, the inverse of the SDKs' serializers:
//   Tags.member.1.Key=a&Tags.member.1.Value=b      -> { Tags: [{ Key: 'a', Value: 'b' }] }
//   Attributes.entry.1.key=k&Attributes.entry.1.value=v -> { Attributes: { k: 'v' } }
//   Filter.1.Name=n&Filter.1.Value.1=x (EC2)       -> { Filter: [{ Name: 'n', Value: ['x'] }] }
//   Attribute.1.Name=k&Attribute.1.Value=v (SQS flattened map) -> { Attribute: [{ Name, Value }] }
// Scalars stay strings (PolicyDocument stays the JSON text it was); an empty list is sent as `Name=`
// and stays ''.

import { formFields } from './wire.ts';

type Node = { value?: string; children: Map<string, Node> };

const isIndex = (s: string): boolean => /^[1-9][0-9]*$/.test(s);

function newNode(): Node {
  return { children: new Map() };
}

/** Decode form fields (without Action/Version) into nested objects and lists. */
export function decodeQueryParams(fields: Iterable<[string, string]>): Record<string, unknown> {
  const root = newNode();
  for (const [name, value] of fields) {
    let node = root;
    for (const seg of name.split('.')) {
      let next = node.children.get(seg);
      if (!next) {
        next = newNode();
        node.children.set(seg, next);
      }
      node = next;
    }
    node.value = value;
  }
  const out = convert(root);
  return out !== null && typeof out === 'object' && !Array.isArray(out) ? (out as Record<string, unknown>) : {};
}

function convert(node: Node): unknown {
  if (node.children.size === 0) return node.value ?? '';
  const keys = [...node.children.keys()];
  // Wrapped list: X.member.N...
  if (keys.length === 1 && keys[0] === 'member') {
    return convert(node.children.get('member')!);
  }
  // Wrapped map: X.entry.N.key / X.entry.N.value
  if (keys.length === 1 && keys[0] === 'entry') {
    const entries = node.children.get('entry')!;
    if ([...entries.children.keys()].every(isIndex)) {
      const map: Record<string, unknown> = {};
      for (const idx of sortedIndexes(entries)) {
        const e = entries.children.get(idx)!;
        const k = e.children.get('key')?.value;
        const v = e.children.get('value');
        if (k !== undefined) map[k] = v ? convert(v) : '';
      }
      return map;
    }
  }
  // Flattened list (EC2, SNS/SQS flattened members): X.N...
  if (keys.every(isIndex)) {
    return sortedIndexes(node).map((i) => convert(node.children.get(i)!));
  }
  const obj: Record<string, unknown> = {};
  for (const [k, child] of node.children) obj[k] = convert(child);
  return obj;
}

function sortedIndexes(node: Node): string[] {
  return [...node.children.keys()].filter(isIndex).sort((a, b) => Number(a) - Number(b));
}

/**
 * Fields of a query-protocol request as the target reads them: the form body when it is
 * form-encoded (media type in any case) and has fields, otherwise the URL query; never both (a
 * request with parameters in both places is refused by wireProblem()). First value of a repeated
 * name, as werkzeug's MultiDict (repetitions are refused too).
 */
export function queryFields(body: Buffer, contentType: string | undefined, query: URLSearchParams): Map<string, string> {
  const form = formFields(body, contentType);
  const fields = new Map<string, string>();
  for (const [k, v] of form.length > 0 ? form : query) if (!fields.has(k)) fields.set(k, v);
  return fields;
}

/** Query string parameters that carry a signature rather than API input. */
export function isSigningParam(name: string): boolean {
  return /^X-Amz-(Algorithm|Credential|Date|Expires|SignedHeaders|Signature|Security-Token)$/i.test(name) ||
    name === 'AWSAccessKeyId' || name === 'Signature' || name === 'SignatureMethod' ||
    name === 'SignatureVersion' || name === 'Timestamp' || name === 'Expires' || name === 'SecurityToken';
}
