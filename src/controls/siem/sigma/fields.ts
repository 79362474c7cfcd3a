// Field lookup in nested JSON events. Sigma field names with dots (`userIdentity.type`,
// `requestParameters.bucketName`) are resolved as paths; a literal key containing the dots wins when present
// (flattened events). Arrays met on the way are traversed: `a.b` over `{a: [{b: 1}, {b: 2}]}` gives `[1, 2]`,
// and a field holding an array matches when any element matches.

export type Getter = (record: unknown) => unknown;

const own = Object.prototype.hasOwnProperty;

/** Compiles a field name into a getter returning the value, an array of values, or undefined when absent. */
export function compileGetter(name: string): Getter {
  if (!name.includes('.')) {
    const segs = [name];
    return (rec) => {
      if (rec === null || typeof rec !== 'object') return undefined;
      if (Array.isArray(rec)) return resolve(rec, segs, segs, 0);
      const v = (rec as Record<string, unknown>)[name];
      return typeof v === 'function' ? undefined : v;
    };
  }
  const segs = name.split('.');
  const rests = segs.map((_, i) => segs.slice(i).join('.'));
  return (rec) => resolve(rec, segs, rests, 0);
}

function resolve(cur: unknown, segs: readonly string[], rests: readonly string[], start: number): unknown {
  for (let i = start; i < segs.length; i++) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (Array.isArray(cur)) {
      const out: unknown[] = [];
      for (const el of cur) {
        const r = resolve(el, segs, rests, i);
        if (r === undefined) continue;
        if (Array.isArray(r)) for (const x of r) out.push(x);
        else out.push(r);
      }
      return out.length ? out : undefined;
    }
    const obj = cur as Record<string, unknown>;
    if (i < segs.length - 1 && own.call(obj, rests[i]!)) return obj[rests[i]!];
    const key = segs[i]!;
    if (!own.call(obj, key)) return undefined;
    cur = obj[key];
  }
  return cur;
}

/** All primitive leaf values of a record as strings (keyword searches run over these). */
export function leafStrings(rec: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 32) return out;
  if (typeof rec === 'string') out.push(rec);
  else if (typeof rec === 'number' || typeof rec === 'boolean') out.push(String(rec));
  else if (Array.isArray(rec)) for (const v of rec) leafStrings(v, out, depth + 1);
  else if (rec !== null && typeof rec === 'object') for (const v of Object.values(rec)) leafStrings(v, out, depth + 1);
  return out;
}

/** Sets a value at a dotted path, creating objects on the way (used to build records for chained correlations). */
export function setPath(target: Record<string, unknown>, name: string, value: unknown): void {
  const segs = name.split('.');
  let cur = target;
  for (let i = 0; i < segs.length - 1; i++) {
    const next = cur[segs[i]!];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) cur[segs[i]!] = {};
    cur = cur[segs[i]!] as Record<string, unknown>;
  }
  cur[segs[segs.length - 1]!] = value;
}
