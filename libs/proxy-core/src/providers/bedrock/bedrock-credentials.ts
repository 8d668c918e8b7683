import type * as CredentialProviderNode from '@aws-sdk/credential-provider-node';
import { SwitchyardError } from '../../errors/switchyard-error';
import type { BedrockCredentials } from './sign-bedrock-request';

/** Resolves the credentials to sign with; called per request, cached and refreshed by the chain. */
export type BedrockCredentialProvider = () => Promise<BedrockCredentials>;

/** A credential source as the AWS SDK shapes it (`expiration` and other fields are ignored here). */
export type AwsCredentialSource = () => Promise<BedrockCredentials>;

/**
 * How long a failed lookup of the default chain is remembered: requests in that window fail at
 * once with the same error instead of walking the chain again (environment, files, then up
 * to several seconds of instance metadata probes per request). Short, so credentials that
 * appear later (a role attached, a file written) are picked up soon after.
 */
export const BEDROCK_CREDENTIAL_FAILURE_TTL_MS = 10_000;

/** What the default chain is asked for. */
export interface BedrockCredentialChainOptions {
  /** The provider instance name, for error messages. */
  provider: string;
  /** The shared config/credentials profile. @default `AWS_PROFILE`, else "default" */
  profile?: string;
  /**
   * Loads the chain to ask (a test seam). It memoizes what it found itself.
   * @default the AWS SDK's `defaultProvider`, imported on first use
   */
  loadChain?: (profile: string | undefined) => Promise<AwsCredentialSource>;
  /** The clock of the failure memory, in epoch milliseconds. @default Date.now */
  now?: () => number;
}

async function loadDefaultChain(profile: string | undefined): Promise<AwsCredentialSource> {
  const module: typeof CredentialProviderNode = await import('@aws-sdk/credential-provider-node');
  return module.defaultProvider(profile === undefined ? {} : { profile });
}

/**
 * The AWS SDK's default credential chain, loaded on first use (`@aws-sdk/credential-provider-node`,
 * an optional peer dependency): environment variables, the shared config and credentials
 * files (`AWS_PROFILE`, SSO, `credential_process`), web identity tokens, then the ECS and
 * EC2 instance metadata endpoints. The chain memoizes what it found and refreshes temporary
 * credentials before they expire; a failure (nothing found, or the package missing) is
 * remembered for {@link BEDROCK_CREDENTIAL_FAILURE_TTL_MS}, since the SDK keeps none and a
 * misconfigured gateway would walk the chain and probe instance metadata on every request.
 * Secrets never enter an error message.
 * @see https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/setting-credentials-node.html
 */
export function defaultCredentialChain(options: BedrockCredentialChainOptions): BedrockCredentialProvider {
  const loadChain = options.loadChain ?? loadDefaultChain;
  const now = options.now ?? Date.now;
  let chain: Promise<AwsCredentialSource> | undefined;
  let failure: { error: SwitchyardError; until: number } | undefined;
  let succeeded = false;

  // a fresh error per request (each gets its own stack and may be decorated downstream), same code and cause
  const again = (remembered: SwitchyardError): SwitchyardError =>
    new SwitchyardError(remembered.code, remembered.message, {
      provider: options.provider,
      cause: remembered.cause,
    });
  const remember = (error: SwitchyardError): SwitchyardError => {
    failure = { error, until: now() + BEDROCK_CREDENTIAL_FAILURE_TTL_MS };
    return error;
  };
  const retryNote = `Looked up again ${BEDROCK_CREDENTIAL_FAILURE_TTL_MS / 1000} s after this failure.`;

  return async () => {
    if (failure !== undefined) {
      if (now() < failure.until) throw again(failure.error);
      failure = undefined;
    }
    chain ??= loadChain(options.profile);
    let resolve: AwsCredentialSource;
    try {
      resolve = await chain;
    } catch (cause) {
      // a later lookup may find the package installed
      chain = undefined;
      throw remember(
        new SwitchyardError(
          'invalid_options',
          `Provider "${options.provider}" (bedrock) has no apiKey or access keys, and the AWS credential chain needs the optional package @aws-sdk/credential-provider-node: install it, or configure apiKey or accessKeyId/secretAccessKey on the provider. ${retryNote}`,
          { provider: options.provider, cause },
        ),
      );
    }
    let found: BedrockCredentials;
    try {
      found = await resolve();
    } catch (cause) {
      // once the chain has found credentials, a failure is a refresh that failed (instance
      // metadata throttled, STS or SSO briefly down): that request fails alone, and the next
      // asks again, rather than every request for the next seconds
      if (succeeded) {
        throw new SwitchyardError(
          'upstream_auth_error',
          `Provider "${options.provider}" (bedrock) could not refresh its AWS credentials from the default chain.`,
          { provider: options.provider, cause },
        );
      }
      const profile =
        options.profile === undefined
          ? 'AWS_PROFILE or the "default" profile'
          : `the profile "${options.profile}"`;
      throw remember(
        new SwitchyardError(
          'upstream_auth_error',
          `Provider "${options.provider}" (bedrock) found no AWS credentials in the default chain (environment, shared files, SSO, web identity, container or instance metadata): configure apiKey or accessKeyId/secretAccessKey on the provider, set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, define ${profile} in the shared credentials or config file, or give the host an IAM role. ${retryNote}`,
          { provider: options.provider, cause },
        ),
      );
    }
    succeeded = true;
    return {
      accessKeyId: found.accessKeyId,
      secretAccessKey: found.secretAccessKey,
      ...(found.sessionToken === undefined ? {} : { sessionToken: found.sessionToken }),
    };
  };
}
