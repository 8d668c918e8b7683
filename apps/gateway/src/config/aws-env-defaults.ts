import type { ProviderConfig } from '@switchyard/proxy-core';
import { envValue } from './env-value';

/**
 * Fills what a `bedrock` provider leaves out from the standard AWS variables, as the AWS
 * SDKs do: `region` from AWS_REGION (else AWS_DEFAULT_REGION); when the entry has neither
 * keys nor `apiKey` nor `profile`, a Bedrock API key from AWS_BEARER_TOKEN_BEDROCK, else
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN (with none of them, the
 * adapter's AWS credential chain finds credentials). A value in the file wins.
 */
export function withAwsEnvDefaults(providers: ProviderConfig[], env: NodeJS.ProcessEnv): ProviderConfig[] {
  return providers.map((provider) => {
    if (provider.type !== 'bedrock') return provider;
    const filled: ProviderConfig = { ...provider };
    const region = envValue(env, 'AWS_REGION') ?? envValue(env, 'AWS_DEFAULT_REGION');
    if (filled['region'] === undefined && region !== undefined) filled['region'] = region;
    // an entry with credentials of its own, or a profile for the AWS credential chain, is left as it is
    if (
      filled['apiKey'] !== undefined ||
      filled['accessKeyId'] !== undefined ||
      filled['secretAccessKey'] !== undefined ||
      filled['profile'] !== undefined
    )
      return filled;
    const bearer = envValue(env, 'AWS_BEARER_TOKEN_BEDROCK');
    const accessKeyId = envValue(env, 'AWS_ACCESS_KEY_ID');
    const secretAccessKey = envValue(env, 'AWS_SECRET_ACCESS_KEY');
    const sessionToken = envValue(env, 'AWS_SESSION_TOKEN');
    if (bearer !== undefined) filled['apiKey'] = bearer;
    else if (accessKeyId !== undefined && secretAccessKey !== undefined) {
      filled['accessKeyId'] = accessKeyId;
      filled['secretAccessKey'] = secretAccessKey;
      if (sessionToken !== undefined && filled['sessionToken'] === undefined)
        filled['sessionToken'] = sessionToken;
    }
    return filled;
  });
}
