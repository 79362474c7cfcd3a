// Grammar checks for policy documents, so that malformed policies are refused (MalformedPolicyDocument)
// instead of silently evaluating to something surprising.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
import { parseOperator } from './conditions.ts';

export interface ValidateOptions {
  /**
   * identity (also boundary and session policies): Principal/NotPrincipal are refused and Resource is required;
   * resource: Principal or NotPrincipal is required and Resource may be omitted.
   * Without a kind, only the checks common to both apply.
   */
  kind?: 'identity' | 'resource';
}

const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Principal', 'NotPrincipal', 'Condition']);
const DOCUMENT_KEYS = new Set(['Version', 'Id', 'Statement']);
const PRINCIPAL_TYPES = new Set(['AWS', 'Service', 'Federated', 'CanonicalUser']);

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isStringList = (v: unknown) => typeof v === 'string' || (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string'));
const isConditionValue = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** Human-readable problems with a policy document (object or JSON text); empty when it is well formed. */
export function validatePolicyDocument(doc: unknown, options: ValidateOptions = {}): string[] {
  if (typeof doc === 'string') {
    try {
      doc = JSON.parse(doc);
    } catch {
      return ['the policy document is not valid JSON'];
    }
  }
  if (!isObject(doc)) return ['the policy document must be a JSON object'];
  const problems: string[] = [];
  for (const key of Object.keys(doc)) if (!DOCUMENT_KEYS.has(key)) problems.push(`unknown top-level element "${key}"`);
  if (doc.Version !== undefined && doc.Version !== '2012-10-17' && doc.Version !== '2008-10-17') {
    problems.push(`Version must be "2012-10-17" or "2008-10-17", not ${JSON.stringify(doc.Version)}`);
  }
  if (doc.Statement === undefined) return [...problems, 'missing Statement'];
  const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  if (statements.length === 0) problems.push('Statement must not be empty');
  const sids = new Set<string>();
  statements.forEach((st, i) => {
    const where = `Statement ${i + 1}`;
    if (!isObject(st)) {
      problems.push(`${where} must be a JSON object`);
      return;
    }
    const at = typeof st.Sid === 'string' && st.Sid ? `${where} (Sid ${st.Sid})` : where;
    for (const key of Object.keys(st)) if (!STATEMENT_KEYS.has(key)) problems.push(`${at}: unknown element "${key}"`);
    if (st.Sid !== undefined) {
      if (typeof st.Sid !== 'string') problems.push(`${at}: Sid must be a string`);
      else if (sids.has(st.Sid)) problems.push(`${at}: duplicate Sid "${st.Sid}"`);
      else sids.add(st.Sid);
    }
    if (st.Effect === undefined) problems.push(`${at}: missing Effect`);
    else if (st.Effect !== 'Allow' && st.Effect !== 'Deny') problems.push(`${at}: Effect must be "Allow" or "Deny", not ${JSON.stringify(st.Effect)}`);

    pair(problems, at, st, 'Action', 'NotAction', true);
    for (const a of [st.Action ?? st.NotAction].flat()) {
      if (typeof a === 'string' && a !== '*' && !/^[A-Za-z0-9-]+:[^:\s]*$/.test(a)) {
        problems.push(`${at}: action "${a}" must be "*" or "service:action"`);
      }
    }
    pair(problems, at, st, 'Resource', 'NotResource', options.kind === 'identity');

    const hasPrincipal = st.Principal !== undefined || st.NotPrincipal !== undefined;
    if (options.kind === 'identity' && hasPrincipal) {
      problems.push(`${at}: Principal and NotPrincipal are not allowed in identity-based policies`);
    } else {
      if (st.Principal !== undefined && st.NotPrincipal !== undefined) problems.push(`${at}: has both Principal and NotPrincipal`);
      else if (options.kind === 'resource' && !hasPrincipal) problems.push(`${at}: missing Principal`);
      for (const name of ['Principal', 'NotPrincipal'] as const) {
        const block = st[name];
        if (block === undefined || block === '*') continue;
        if (!isObject(block) || Object.keys(block).length === 0) {
          problems.push(`${at}: ${name} must be "*" or an object such as {"AWS": "123456789012"}`);
          continue;
        }
        for (const [type, values] of Object.entries(block)) {
          if (!PRINCIPAL_TYPES.has(type)) problems.push(`${at}: unknown ${name} type "${type}"`);
          else if (!isStringList(values)) problems.push(`${at}: ${name} ${type} must be a string or a list of strings`);
        }
      }
    }

    if (st.Condition !== undefined) {
      if (!isObject(st.Condition)) problems.push(`${at}: Condition must be an object`);
      else {
        for (const [operator, keys] of Object.entries(st.Condition)) {
          if (!parseOperator(operator)) problems.push(`${at}: unknown condition operator "${operator}"`);
          if (!isObject(keys) || Object.keys(keys).length === 0) {
            problems.push(`${at}: condition ${operator} must map condition keys to values`);
            continue;
          }
          for (const [key, value] of Object.entries(keys)) {
            const ok = isConditionValue(value) || (Array.isArray(value) && value.every(isConditionValue));
            if (!ok) problems.push(`${at}: condition ${operator} ${key} must be a string, number, boolean or a list of them`);
          }
        }
      }
    }
  });
  return problems;
}

/** Exactly one of two alternative elements (Action/NotAction, Resource/NotResource), each a string or list. */
function pair(problems: string[], at: string, st: Record<string, unknown>, a: string, notA: string, required: boolean): void {
  if (st[a] !== undefined && st[notA] !== undefined) problems.push(`${at}: has both ${a} and ${notA}`);
  else if (st[a] === undefined && st[notA] === undefined) {
    if (required) problems.push(`${at}: missing ${a} or ${notA}`);
  }
  for (const name of [a, notA]) {
    if (st[name] !== undefined && !isStringList(st[name])) problems.push(`${at}: ${name} must be a string or a non-empty list of strings`);
  }
}
