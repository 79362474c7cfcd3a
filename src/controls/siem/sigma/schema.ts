// zod schemas for the three kinds of Sigma documents: detection rules, correlation rules (Sigma v2 correlation
// specification) and global filters (Sigma v2 filters specification). Descriptive attributes are validated for
// type; unknown attributes are kept ("arbitrary custom fields" are allowed by the specification).
import { z } from 'zod';

export const LEVELS = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type Level = (typeof LEVELS)[number];
export const STATUSES = ['stable', 'test', 'experimental', 'deprecated', 'unsupported'] as const;

const idLike = z.union([z.string().min(1), z.number()]).transform(String);
const dateLike = z.union([z.string(), z.date()]).transform((d) => (d instanceof Date ? d.toISOString().slice(0, 10) : d));
const stringOrList = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));
const textList = z
  .union([z.string(), z.array(z.union([z.string(), z.number(), z.boolean(), z.null()]))])
  .transform((v) => (Array.isArray(v) ? v.filter((x) => x !== null).map(String) : [v]));

export const LogSourceSchema = z
  .object({
    category: z.string().optional(),
    product: z.string().optional(),
    service: z.string().optional(),
    definition: z.unknown().optional(),
  })
  .loose();
export type LogSource = { category?: string; product?: string; service?: string };

const common = {
  title: z.string().min(1, { error: 'must not be empty' }).max(256, { error: 'at most 256 characters' }),
  id: idLike.optional(),
  name: z.string().min(1).optional(),
  status: z.enum(STATUSES).optional(),
  description: z.string().optional(),
  license: z.string().optional(),
  author: stringOrList.transform((a) => a.join(', ')).optional(),
  references: textList.optional(),
  date: dateLike.optional(),
  modified: dateLike.optional(),
  tags: z.array(z.string()).optional(),
  level: z.enum(LEVELS).optional(),
  falsepositives: textList.optional(),
  generate: z.boolean().optional(),
};

export const DetectionRuleSchema = z
  .object({
    ...common,
    related: z.array(z.object({ id: idLike, type: z.string() }).loose()).optional(),
    taxonomy: z.string().optional(),
    logsource: LogSourceSchema,
    detection: z.record(z.string(), z.unknown()),
    fields: z.array(z.string()).optional(),
    scope: z.array(z.string()).optional(),
  })
  .loose();
export type DetectionRuleDoc = z.output<typeof DetectionRuleSchema>;

const count = z.number().int({ error: 'must be an integer' });
export const CountConditionSchema = z
  .object({
    gt: count.optional(),
    gte: count.optional(),
    lt: count.optional(),
    lte: count.optional(),
    eq: count.optional(),
    neq: count.optional(),
    field: stringOrList.optional(),
  })
  .strict();
export type CountCondition = z.output<typeof CountConditionSchema>;

export const CorrelationSectionSchema = z
  .object({
    type: z.enum(['event_count', 'value_count', 'temporal', 'temporal_ordered']),
    rules: z
      .union([idLike, z.array(idLike).min(1, { error: 'must name at least one rule' })])
      .transform((v) => (Array.isArray(v) ? v : [v])),
    'group-by': stringOrList.optional(),
    timespan: z.string().optional(),
    /** Some writers use `timeframe`; accepted as a synonym. */
    timeframe: z.string().optional(),
    condition: z.union([CountConditionSchema, z.string()]).optional(),
    field: stringOrList.optional(),
    aliases: z.record(z.string(), z.record(z.string(), z.string())).optional(),
    generate: z.boolean().optional(),
  })
  .loose();

export const CorrelationRuleSchema = z
  .object({
    ...common,
    correlation: CorrelationSectionSchema,
  })
  .loose();
export type CorrelationRuleDoc = z.output<typeof CorrelationRuleSchema>;

export const FilterRuleSchema = z
  .object({
    ...common,
    logsource: LogSourceSchema,
    filter: z
      .object({
        rules: z.union([idLike, z.array(idLike).min(1)]).transform((v) => (Array.isArray(v) ? v : [v])),
        condition: z.union([z.string(), z.array(z.string())]),
      })
      .loose(),
  })
  .loose();
export type FilterRuleDoc = z.output<typeof FilterRuleSchema>;
