import { Type } from '@sinclair/typebox';
import { SwitchyardError, schemaProblems, type Logger, type ModelCatalog } from '@switchyard/proxy-core';
import { CONDENSE_STRATEGIES, type CondenseStrategy } from './condense-strategies';

/** Defaults of {@link CondenserOptions}, in one place. */
export const CONDENSER_DEFAULTS = {
  /** Condense automatically when a request would overflow its model's window. */
  auto: true,
  /** The strategy used when a request overflows and nothing else is asked. */
  strategy: 'middle-out',
  /** Tokens kept free for the answer when the request sets no `max_tokens`. */
  outputReserveTokens: 1024,
  /** `truncate-long` never cuts a message below this many tokens. */
  minKeepTokens: 64,
  /** Tokens charged per image part and per page image of a PDF file part. */
  imageTokens: 1105,
  /** Largest summary asked of the summary model. */
  summaryMaxTokens: 512,
  /** Largest transcript sent to the summary model. */
  summaryInputMaxTokens: 16_000,
} as const;

const StrategySchema = Type.Union(CONDENSE_STRATEGIES.map((name) => Type.Literal(name)));

/** The serialisable options, validated once. */
export const CondenserConfigSchema = Type.Object(
  {
    auto: Type.Optional(Type.Boolean()),
    strategy: Type.Optional(StrategySchema),
    outputReserveTokens: Type.Optional(Type.Integer({ minimum: 0 })),
    minKeepTokens: Type.Optional(Type.Integer({ minimum: 1 })),
    imageTokens: Type.Optional(Type.Integer({ minimum: 0 })),
    models: Type.Optional(
      Type.Record(
        Type.String({ minLength: 1 }),
        Type.Object(
          {
            strategy: Type.Optional(StrategySchema),
            maxInputTokens: Type.Optional(Type.Integer({ minimum: 1 })),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    aliases: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }))),
    ),
    summary: Type.Optional(
      Type.Object(
        {
          model: Type.String({ minLength: 1 }),
          maxTokens: Type.Optional(Type.Integer({ minimum: 16 })),
          inputMaxTokens: Type.Optional(Type.Integer({ minimum: 256 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** Options of {@link createCondenser}. */
export interface CondenserOptions {
  /** Where context windows come from; a model it does not know is never condensed (unless `models` sets `maxInputTokens`). */
  catalog: ModelCatalog;
  /** Condense whenever a request would overflow its model's window. @default true */
  auto?: boolean;
  /** Strategy for overflowing requests when neither the client nor `models` names one. @default "middle-out" */
  strategy?: CondenseStrategy;
  /** Tokens kept free for the answer when a request sets no `max_tokens`. @default 1024 */
  outputReserveTokens?: number;
  /** `truncate-long` never cuts a message below this many tokens. @default 64 */
  minKeepTokens?: number;
  /** Tokens charged per image part and per page image of a PDF file part. @default 1105 */
  imageTokens?: number;
  /** Per requested model: a strategy to apply always, and/or a smaller input budget in tokens. @default {} */
  models?: Record<string, { strategy?: CondenseStrategy; maxInputTokens?: number }>;
  /** Upstream model ids behind each alias (the smallest window among them is used). @default {} */
  aliases?: Record<string, string[]>;
  /** The model `summarize` asks, through the gateway itself (call `connect(gateway)`). @default none: `summarize` is refused */
  summary?: {
    model: string;
    /** Largest summary in tokens. @default 512 */
    maxTokens?: number;
    /** Largest transcript sent for summarising, in tokens. @default 16000 */
    inputMaxTokens?: number;
  };
  /** Where each condensation is logged (tokens before and after). @default a silent logger */
  logger?: Logger;
}

/** Every problem of the condenser's settings (all but `catalog` and `logger`), each starting with `prefix` and its path. */
export function condenserConfigProblems(
  options: Omit<CondenserOptions, 'catalog' | 'logger'>,
  prefix = '',
): string[] {
  return schemaProblems(CondenserConfigSchema, options, prefix);
}

/** Checks options once and reports every problem in one `invalid_options` error. */
export function validateCondenserOptions(options: CondenserOptions): void {
  const { catalog, logger: _logger, ...config } = options;
  const problems = condenserConfigProblems(config);
  if (typeof catalog?.lookup !== 'function') problems.push('/catalog: a ModelCatalog is required');
  if (problems.length > 0)
    throw new SwitchyardError('invalid_options', `Invalid condenser options:\n${problems.join('\n')}`);
}
