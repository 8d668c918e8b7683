// Provider error messages sometimes echo a (partly masked) credential back; anything
// shaped like a key is masked before a message can reach a client or a log line.
const SECRET_SHAPES =
  /\b(?:sk|pk|rk|sy|key|AIza|xai|gsk|hf|r8)[-_][-_A-Za-z0-9*]{6,}|\bAIza[-_A-Za-z0-9]{20,}|\bBearer\s+[-._~+/A-Za-z0-9]+=*/g;

/** Masks substrings shaped like API keys or bearer tokens. */
export function redactSecrets(text: string): string {
  return text.replace(SECRET_SHAPES, '[redacted]');
}
