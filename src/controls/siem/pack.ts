// The bundled rule pack: SigmaHQ's AWS CloudTrail rules (verbatim, Detection Rule License 1.1, attribution in
// rules/sigmahq/) and seclab's own rules (rules/seclab/), with the pack's tuning in rules/pack.json.
import { fileURLToPath } from 'node:url';
import { loadRuleSet, type LoadOptions, type RuleSet } from './sigma/ruleset.ts';

/** Folder of the bundled pack. */
export const BUNDLED_RULES_DIR = fileURLToPath(new URL('./rules/', import.meta.url));

let cached: RuleSet | undefined;

/** Loads (once) and returns the bundled rule pack. */
export function loadBundledRules(options?: LoadOptions): RuleSet {
  if (options) return loadRuleSet(BUNDLED_RULES_DIR, options);
  return (cached ??= loadRuleSet(BUNDLED_RULES_DIR));
}
