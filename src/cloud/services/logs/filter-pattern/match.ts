// The result of matching one log event.

/** Resolves a metric-value or dimension reference (`$.a.b`, `$name`, `$3`) against the matched event. */
export type Resolver = (ref: string) => string | number | undefined;

export class FilterMatch {
  /** The shared result of every event that does not match. */
  static readonly NONE = new FilterMatch(false);

  readonly matched: boolean;
  /**
   * What TestMetricFilter would report as extractedValues: space-delimited patterns give `$name` for
   * named fields and `$N` (1-based position in the event) for unnamed ones and those an ellipsis
   * covers; JSON patterns give the value of each property selector of the pattern (`$.a.b`) that
   * points at a value; term patterns give nothing.
   */
  readonly fields?: Record<string, string | number>;
  readonly #resolve: Resolver | undefined;

  constructor(matched: boolean, fields?: Record<string, string | number>, resolve?: Resolver) {
    this.matched = matched;
    if (fields !== undefined) this.fields = fields;
    this.#resolve = resolve;
  }

  /**
   * The value a reference names in the matched event, also for references the pattern does not
   * mention (`$.bytes` under `{ $.action = "REJECT" }`, `$10` under `[..., action = REJECT, status]`).
   */
  value(ref: string): string | number | undefined {
    if (!this.matched) return undefined;
    const own = this.fields?.[ref];
    if (own !== undefined) return own;
    return this.#resolve?.(ref);
  }
}
