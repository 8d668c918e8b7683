import { Type, type Static } from '@sinclair/typebox';
import { ModelPriceSchema } from './pricing-model-price';

/** Defaults of {@link PricingOptions}, in one place. */
export const PRICING_DEFAULTS = {
  /** The bundled catalog consulted after configured prices. */
  catalog: 'genai-prices',
  /** Output tokens assumed by a pre-call estimate when the request sets no `max_tokens`. */
  defaultMaxOutputTokens: 4096,
  /**
   * ASCII characters (other than digits) per token assumed by a pre-call prompt estimate: low, so
   * prose and code are over-counted about twice (a digit or another character counts at least a token).
   */
  charsPerToken: 2,
} as const;

/** A payment fee: a percentage of the amount plus a fixed part per transaction. */
export const PaymentFeeSchema = Type.Object(
  {
    /** Percentage of the transaction amount, e.g. 2.9. */
    percent: Type.Number({ minimum: 0, maximum: 100 }),
    /** Fixed USD per transaction, e.g. 0.30. @default 0 */
    fixedUsd: Type.Optional(Type.Number({ minimum: 0 })),
  },
  { additionalProperties: false },
);

/** Non-token prices of one metered API: USD per unit, plus a payment fee where relevant. */
export const UnitPriceSchema = Type.Object(
  {
    /** USD per unit, by unit name (`characters`, `audio_seconds`, `read_units`, `messages`, ...). */
    perUnit: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.Number({ minimum: 0 }))),
    /** Fee charged on payment transactions (USD amounts only). */
    paymentFee: Type.Optional(PaymentFeeSchema),
  },
  { additionalProperties: false },
);

/** The serialisable pricing options (the gateway's `pricing` config section). */
export const PricingConfigSchema = Type.Object(
  {
    /**
     * Model prices that override or extend the catalog, keyed `<provider>/<model>` (provider
     * instance name or type) or `<model>` alone. @default {}
     */
    models: Type.Optional(Type.Record(Type.String({ minLength: 1 }), ModelPriceSchema)),
    /** Non-token prices keyed by metered provider (`elevenlabs`, `stripe`, ...) or `<provider>/<model>`. @default {} */
    units: Type.Optional(Type.Record(Type.String({ minLength: 1 }), UnitPriceSchema)),
    /** The bundled catalog, or `none` to price only what is configured. @default "genai-prices" */
    catalog: Type.Optional(Type.Union([Type.Literal('genai-prices'), Type.Literal('none')])),
    /** Output tokens assumed by pre-call estimates when a request sets no limit. @default 4096 */
    defaultMaxOutputTokens: Type.Optional(Type.Integer({ minimum: 1 })),
    /**
     * ASCII characters (other than digits) per token assumed by pre-call prompt estimates (budget
     * reservations); a digit or another character counts at least a token. @default 2
     */
    charsPerToken: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  },
  { additionalProperties: false },
);

/** The serialisable pricing options (see {@link PricingConfigSchema}). */
export type PricingConfig = Static<typeof PricingConfigSchema>;
/** Non-token prices of one metered API (see {@link UnitPriceSchema}). */
export type UnitPrice = Static<typeof UnitPriceSchema>;

/** Options of `createPricingRegistry` and `createPricingPlugin`. */
export interface PricingOptions extends PricingConfig {
  /** The clock that selects dated catalog prices. @default () => new Date() */
  now?: () => Date;
  /** Called once per unpriced `<provider>/<model>` (say, to log a warning); the counter counts every occurrence. */
  onUnknownPrice?: (key: string) => void;
}
