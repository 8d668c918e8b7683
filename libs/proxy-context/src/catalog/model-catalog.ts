import { Type } from '@sinclair/typebox';
import { SwitchyardError, schemaProblems, type ModelCatalog, type ModelInfo } from '@switchyard/proxy-core';
import { BUILTIN_MODELS } from './catalog-data';
import { vendorModelName } from './model-id';

/** A config entry: facts to add or change for one model id (a new id needs window and output size). */
export const ModelOverrideSchema = Type.Object(
  {
    provider: Type.Optional(Type.String({ minLength: 1 })),
    contextWindow: Type.Optional(Type.Integer({ minimum: 1 })),
    maxOutputTokens: Type.Optional(Type.Integer({ minimum: 1 })),
    inputModalities: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    outputModalities: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    supportsTools: Type.Optional(Type.Boolean()),
    pricing: Type.Optional(
      Type.Object(
        {
          inputPerMTokUsd: Type.Number({ minimum: 0 }),
          outputPerMTokUsd: Type.Number({ minimum: 0 }),
          cachedInputPerMTokUsd: Type.Optional(Type.Number({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** Options of {@link createModelCatalog}. */
export interface ModelCatalogOptions {
  /** Facts to add or override, keyed by model id (as clients or routes name it). @default {} */
  models?: Record<string, Partial<Omit<ModelInfo, 'id'>>>;
  /** Start from the shipped data (`BUILTIN_MODELS`). @default true */
  builtin?: boolean;
}

// `-2024-08-06`, `-20241022` and `-latest` are names of one model; a `-preview` is a model of its
// own (`o1-preview` has a smaller window and output than `o1`), listed when the catalog knows it
const VERSION_SUFFIX = /-(?:\d{4}-\d{2}-\d{2}|\d{8}|latest)$/;
// Google's stable versions of a Gemini model (`gemini-2.0-flash-001`)
const GEMINI_VERSION = /^(gemini-.+)-\d{3}$/;

/**
 * Resolves a requested id to a catalog id: exact, then without a `provider/` prefix, then as
 * its vendor names it (Bedrock's and Vertex AI's ids), then without date, `-latest` or Gemini's
 * `-001` version suffixes.
 */
function candidates(model: string): string[] {
  const names = [model];
  const slash = model.lastIndexOf('/');
  if (slash >= 0) names.push(model.slice(slash + 1));
  const vendor = vendorModelName(model);
  if (!names.includes(vendor)) names.push(vendor);
  for (const name of [...names]) {
    let stripped = name;
    while (VERSION_SUFFIX.test(stripped)) {
      stripped = stripped.replace(VERSION_SUFFIX, '');
      names.push(stripped);
    }
    const gemini = GEMINI_VERSION.exec(stripped);
    if (gemini !== null) names.push(gemini[1]!);
  }
  return names;
}

class StaticModelCatalog implements ModelCatalog {
  readonly #models: ReadonlyMap<string, ModelInfo>;
  // lookups by requested name; bounded because names come from clients
  readonly #resolved = new Map<string, ModelInfo | null>();
  static readonly #maxResolved = 4096;

  constructor(models: ReadonlyMap<string, ModelInfo>) {
    this.#models = models;
  }

  lookup(model: string): ModelInfo | undefined {
    const known = this.#resolved.get(model);
    if (known !== undefined) return known ?? undefined;
    const info = candidates(model)
      .map((name) => this.#models.get(name))
      .find((found) => found !== undefined);
    if (this.#resolved.size >= StaticModelCatalog.#maxResolved) this.#resolved.clear();
    this.#resolved.set(model, info ?? null);
    return info;
  }

  list(): readonly ModelInfo[] {
    return [...this.#models.values()];
  }
}

/** The catalog's models, with every problem of the overrides added to `problems` (each under `prefix`). */
function catalogModels(
  options: ModelCatalogOptions,
  problems: string[],
  prefix = '',
): Map<string, ModelInfo> {
  const models = new Map<string, ModelInfo>();
  if (options.builtin ?? true) for (const info of BUILTIN_MODELS) models.set(info.id, info);
  for (const [id, override] of Object.entries(options.models ?? {})) {
    problems.push(...schemaProblems(ModelOverrideSchema, override, `${prefix}/models/${id}`));
    const base = models.get(id);
    const merged = {
      id,
      provider: 'custom',
      inputModalities: ['text'],
      outputModalities: ['text'],
      supportsTools: false,
      ...base,
      ...override,
    };
    if (merged.contextWindow === undefined || merged.maxOutputTokens === undefined) {
      problems.push(
        `${prefix}/models/${id}: a model the catalog does not know needs contextWindow and maxOutputTokens`,
      );
      continue;
    }
    models.set(
      id,
      Object.freeze({
        ...merged,
        contextWindow: merged.contextWindow,
        maxOutputTokens: merged.maxOutputTokens,
      }),
    );
  }
  return models;
}

/**
 * Every problem {@link createModelCatalog} would refuse the options for, each starting with
 * `prefix` and its path (`catalog/models/my-llama: ...` with prefix `catalog`).
 */
export function modelCatalogProblems(options: ModelCatalogOptions, prefix = ''): string[] {
  const problems: string[] = [];
  catalogModels(options, problems, prefix);
  return problems;
}

/**
 * A model catalog from the shipped data plus config overrides, held in memory. Give it to
 * the gateway as `modelCatalog` (for `/v1/models` and the router) and to the condenser.
 * @example
 * const catalog = createModelCatalog({ models: { 'my-llama': { contextWindow: 8192, maxOutputTokens: 2048 } } });
 * catalog.lookup('gpt-4o-2024-08-06')?.contextWindow; // 128000
 */
export function createModelCatalog(options: ModelCatalogOptions = {}): ModelCatalog {
  const problems: string[] = [];
  const models = catalogModels(options, problems);
  if (problems.length > 0)
    throw new SwitchyardError('invalid_options', `Invalid model catalog options:\n${problems.join('\n')}`);
  return new StaticModelCatalog(models);
}
