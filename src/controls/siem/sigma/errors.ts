// Errors raised while loading and compiling Sigma rules. Every message names the file and the field:
//   rules/x.yml: detection.selection.eventName|foo: unknown modifier "foo"

/** A field path inside a rule document, e.g. ['detection', 'selection', 0, 'eventName|contains']. */
export type FieldPath = ReadonlyArray<string | number>;

export function formatPath(path: FieldPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${part}` : part;
  }
  return out;
}

export class SigmaRuleError extends Error {
  override readonly name = 'SigmaRuleError';
  constructor(
    /** The rule file (as given to the loader), with `#n` appended for the n-th document of a multi-document file. */
    readonly file: string,
    /** The field inside the document, e.g. `detection.selection.eventName|foo`; empty for document-level problems. */
    readonly field: string,
    /** What is wrong, e.g. `unknown modifier "foo"`. */
    readonly detail: string,
    /** 1-based line in the file when known. */
    readonly line?: number,
  ) {
    super(`${file}: ${field ? `${field}: ` : ''}${detail}${line ? ` (line ${line})` : ''}`);
  }
}

/** Thrown inside the compiler with a path relative to the document; the loader adds the file. */
export class CompileError extends Error {
  constructor(
    readonly path: FieldPath,
    readonly detail: string,
  ) {
    super(`${formatPath(path)}: ${detail}`);
  }
}
