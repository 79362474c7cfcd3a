// Sigma rule language: loading, validation, compilation and correlation.
export { loadRuleSet, ruleSetFromTexts, SEVERITY_OF, LEVEL_RANK } from './ruleset.ts';
export type { RuleSet, SigmaRule, DetectionRule, CorrelationRule, Severity, PackInfo, LoadOptions } from './ruleset.ts';
export { parseSigmaFile } from './documents.ts';
export type { SigmaDocument } from './documents.ts';
export { compileDetection, compileFieldEntry, MODIFIERS } from './compile.ts';
export type { MatchContext, Predicate, CompiledDetection } from './compile.ts';
export { parseCondition } from './condition.ts';
export type { CondNode } from './condition.ts';
export { CorrelationWindow, parseTimespan } from './correlation.ts';
export { compileGetter } from './fields.ts';
export { parseSigmaString, compileParts } from './strings.ts';
export { SigmaRuleError } from './errors.ts';
export { attackFromTags, tacticSlug, tacticFamily, tacticName, TACTICS } from './attack.ts';
export type { AttackInfo } from './attack.ts';
export { LEVELS } from './schema.ts';
export type { Level, LogSource } from './schema.ts';
