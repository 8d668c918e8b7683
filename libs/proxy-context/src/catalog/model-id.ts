/** Bedrock's cross-region inference profiles prefix a model id with a geography (`us.anthropic.claude-…`). */
const BEDROCK_GEOGRAPHY = /^(?:us|us-gov|eu|apac|jp|au|ca|global)\./;
/** Bedrock names a model after its vendor (`anthropic.claude-…`, `meta.llama3-…`). */
const BEDROCK_VENDOR = /^(?:anthropic|meta|mistral|amazon|cohere|ai21|deepseek|openai|qwen|writer)\./;
/** Bedrock's model version, and the context size of a provisioned model (`-v1:0`, `-v2:0`, `-v1:0:200k`). */
const BEDROCK_VERSION = /-v\d+:\d+(?::\d+k)?$/;
/** Vertex AI's Claude ids: `claude-sonnet-4@20250514`, `claude-3-5-sonnet-v2@20241022`. */
const VERTEX_VERSION = /(?:-v\d+)?@[^@]*$/;

/**
 * The vendor's own name of a model a hosting platform names its own way: the part after the
 * last `/` (a `provider/` prefix, a Bedrock ARN), without Bedrock's geography and vendor
 * prefixes and version suffix (`us.anthropic.claude-sonnet-4-20250514-v1:0` →
 * `claude-sonnet-4-20250514`) or Vertex AI's `@version` (`claude-3-5-sonnet-v2@20241022` →
 * `claude-3-5-sonnet`). Other ids come back as they are, after the last `/`.
 */
export function vendorModelName(model: string): string {
  let name = model.slice(model.lastIndexOf('/') + 1);
  if (name.includes('@')) return name.replace(VERTEX_VERSION, '');
  const geography = BEDROCK_GEOGRAPHY.exec(name);
  const rest = geography === null ? name : name.slice(geography[0].length);
  const vendor = BEDROCK_VENDOR.exec(rest);
  // a geography alone is no Bedrock id (`eu.` could begin anything); the version goes with the vendor
  if (vendor !== null) name = rest.slice(vendor[0].length).replace(BEDROCK_VERSION, '');
  return name;
}
