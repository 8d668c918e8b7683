import type * as CredentialProviderNode from '@aws-sdk/credential-provider-node';
import { SwitchyardError } from '../../errors/switchyard-error';
import type { BedrockCredentials } from './sign-bedrock-request';

/** Resolves the credentials to sign with; called per request, cached and refreshed by the chain. */
export type BedrockCredentialProvider = () => Promise<BedrockCredentials>;

/** What the default chain is asked for. */
export interface BedrockCredentialChainOptions {
  /** The provider instance name, for error messages. */
  provider: string;
  /** The shared config/credentials profile. @default `AWS_PROFILE`, else "default" */
  profile?: string;
}

/**
 * The AWS SDK's default credential chain, loaded on first use (`@aws-sdk/credential-provider-node`,
 * an optional peer dependency): environment variables, the shared config and credentials
 * files (`AWS_PROFILE`, SSO, `credential_process`), web identity tokens, then the ECS and
 * EC2 instance metadata endpoints. The chain memoizes what it found and refreshes temporary
 * credentials before they expire. Secrets never enter an error message.
 * @see https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/setting-credentials-node.html
 */
export function defaultCredentialChain(options: BedrockCredentialChainOptions): BedrockCredentialProvider {
  let chain: Promise<() => Promise<BedrockCredentials>> | undefined;
  const load = async (): Promise<() => Promise<BedrockCredentials>> => {
    let module: typeof CredentialProviderNode;
    try {
      module = await import('@aws-sdk/credential-provider-node');
    } catch (cause) {
      throw new SwitchyardError(
        'invalid_options',
        `Provider "${options.provider}" (bedrock) has no apiKey or access keys, and the AWS credential chain needs the optional package @aws-sdk/credential-provider-node: install it, or configure credentials.`,
        { provider: options.provider, cause },
      );
    }
    return module.defaultProvider(options.profile === undefined ? {} : { profile: options.profile });
  };
  return async () => {
    chain ??= load();
    let resolve: () => Promise<BedrockCredentials>;
    try {
      resolve = await chain;
    } catch (error) {
      // a later call may find the package installed (or report the same problem again)
      chain = undefined;
      throw error;
    }
    try {
      const found = await resolve();
      return { accessKeyId: found.accessKeyId, secretAccessKey: found.secretAccessKey, ...(found.sessionToken === undefined ? {} : { sessionToken: found.sessionToken }) };
    } catch (cause) {
      throw new SwitchyardError('upstream_auth_error', `Provider "${options.provider}" (bedrock) found no AWS credentials in the default chain (environment, shared files, SSO, web identity, container or instance metadata).`, {
        provider: options.provider,
        cause,
      });
    }
  };
}
