import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BEDROCK_TEST_CREDENTIALS, createMockUpstream, type MockUpstream } from '@switchyard/testing';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { basicRequest, callContext, rejection } from '../../../test/support/provider-test-kit';
import { silentLogger } from '../../options/logger';
import { BedrockAdapter, type BedrockProviderOptions } from './bedrock-adapter';
import {
  BEDROCK_CREDENTIAL_FAILURE_TTL_MS,
  defaultCredentialChain,
  type AwsCredentialSource,
} from './bedrock-credentials';

const CLAUDE = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
// the variables the AWS SDK's chain reads; each test sets its own and restores the rest
const AWS_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_CONFIG_FILE',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
];
const saved = new Map(AWS_VARIABLES.map((name) => [name, process.env[name]]));

let upstream: MockUpstream;
let dispatcher: Agent;
let directory: string;
const make = (options: Partial<BedrockProviderOptions> = {}): BedrockAdapter =>
  new BedrockAdapter(
    { name: 'bedrock', type: 'bedrock', region: 'us-east-1', baseUrl: upstream.url, ...options },
    { dispatcher, logger: silentLogger },
  );

function isolateEnvironment(): void {
  for (const name of AWS_VARIABLES) delete process.env[name];
  // no instance metadata lookups from a test machine, and no real profile files
  process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
  process.env['AWS_SHARED_CREDENTIALS_FILE'] = join(directory, 'absent-credentials');
  process.env['AWS_CONFIG_FILE'] = join(directory, 'absent-config');
}

beforeAll(async () => {
  upstream = await createMockUpstream();
  dispatcher = new Agent();
  directory = mkdtempSync(join(tmpdir(), 'switchyard-aws-'));
});
afterEach(() => {
  upstream.reset();
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});
afterAll(async () => {
  await dispatcher.close();
  await upstream.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('bedrock adapter: the AWS credential chain', () => {
  it('signs with credentials from the environment when no keys are configured', async () => {
    isolateEnvironment();
    process.env['AWS_ACCESS_KEY_ID'] = BEDROCK_TEST_CREDENTIALS.accessKeyId;
    process.env['AWS_SECRET_ACCESS_KEY'] = BEDROCK_TEST_CREDENTIALS.secretAccessKey;
    process.env['AWS_SESSION_TOKEN'] = 'env-session-token';
    const response = await make().chat(basicRequest, callContext(CLAUDE));
    expect(response.choices[0]?.message.content).toBeTruthy();
    const request = upstream.requests.at(-1);
    expect(request?.headers['authorization']).toMatch(
      new RegExp(`^AWS4-HMAC-SHA256 Credential=${BEDROCK_TEST_CREDENTIALS.accessKeyId}/`),
    );
    expect(request?.headers['x-amz-security-token']).toBe('env-session-token');
  });

  it('signs with a named profile from a shared credentials file, and reads it once for many requests', async () => {
    isolateEnvironment();
    const file = join(directory, 'credentials');
    writeFileSync(
      file,
      `[default]\naws_access_key_id = AKIADEFAULTWRONG0000\naws_secret_access_key = wrong\n\n[switchyard-test]\naws_access_key_id = ${BEDROCK_TEST_CREDENTIALS.accessKeyId}\naws_secret_access_key = ${BEDROCK_TEST_CREDENTIALS.secretAccessKey}\n`,
    );
    process.env['AWS_SHARED_CREDENTIALS_FILE'] = file;
    const adapter = make({ profile: 'switchyard-test' });
    await adapter.chat(basicRequest, callContext(CLAUDE));
    // the chain memoizes: a changed file does not matter until the credentials expire
    writeFileSync(
      file,
      '[switchyard-test]\naws_access_key_id = AKIACHANGED000000000\naws_secret_access_key = changed\n',
    );
    await adapter.chat(basicRequest, callContext(CLAUDE));
    expect(upstream.requests).toHaveLength(2);
    for (const request of upstream.requests)
      expect(request.headers['authorization']).toContain(
        `Credential=${BEDROCK_TEST_CREDENTIALS.accessKeyId}/`,
      );
  });

  it('uses AWS_PROFILE when no profile is configured', async () => {
    isolateEnvironment();
    const file = join(directory, 'credentials-env-profile');
    writeFileSync(
      file,
      `[from-env]\naws_access_key_id = ${BEDROCK_TEST_CREDENTIALS.accessKeyId}\naws_secret_access_key = ${BEDROCK_TEST_CREDENTIALS.secretAccessKey}\n`,
    );
    process.env['AWS_SHARED_CREDENTIALS_FILE'] = file;
    process.env['AWS_PROFILE'] = 'from-env';
    await make().chat(basicRequest, callContext(CLAUDE));
    expect(upstream.requests.at(-1)?.headers['authorization']).toContain(
      `Credential=${BEDROCK_TEST_CREDENTIALS.accessKeyId}/`,
    );
  });

  it('fails with upstream_auth_error, before any upstream call, when the chain finds nothing, naming no secret', async () => {
    isolateEnvironment();
    const file = join(directory, 'credentials-other');
    writeFileSync(
      file,
      `[other]\naws_access_key_id = ${BEDROCK_TEST_CREDENTIALS.accessKeyId}\naws_secret_access_key = ${BEDROCK_TEST_CREDENTIALS.secretAccessKey}\n`,
    );
    process.env['AWS_SHARED_CREDENTIALS_FILE'] = file;
    const error = await rejection(make({ profile: 'nowhere' }).chat(basicRequest, callContext(CLAUDE)));
    expect(error).toMatchObject({ code: 'upstream_auth_error', provider: 'bedrock' });
    expect(upstream.requests).toHaveLength(0);
    const told = `${error.message} ${String(error.cause)} ${JSON.stringify(error)}`;
    expect(told).not.toContain(BEDROCK_TEST_CREDENTIALS.secretAccessKey);
  });

  it('refuses a profile together with static keys or an API key', () => {
    expect(() => make({ profile: 'p', ...BEDROCK_TEST_CREDENTIALS })).toThrow(/not both/);
    expect(() => make({ profile: 'p', apiKey: 'ABSK-key' })).toThrow(/not several/);
    expect(() => make({ accessKeyId: BEDROCK_TEST_CREDENTIALS.accessKeyId })).toThrow(/together/);
  });
});

describe('bedrock credential chain: failures are remembered', () => {
  const found = {
    accessKeyId: BEDROCK_TEST_CREDENTIALS.accessKeyId,
    secretAccessKey: BEDROCK_TEST_CREDENTIALS.secretAccessKey,
  };
  // an injected chain whose lookups are counted, and a clock the test moves
  function harness(source: AwsCredentialSource) {
    let time = 1_000_000;
    const lookups = vi.fn(source);
    const loads = vi.fn((_profile: string | undefined) => Promise.resolve<AwsCredentialSource>(lookups));
    const resolve = defaultCredentialChain({ provider: 'bedrock-east', loadChain: loads, now: () => time });
    return { resolve, lookups, loads, advance: (ms: number) => (time += ms) };
  }

  it('does not walk the chain again for each request while a failed lookup is remembered, then looks again', async () => {
    const { resolve, lookups, advance } = harness(() =>
      Promise.reject(new Error('Could not load credentials from any providers')),
    );
    const first = await rejection(resolve());
    advance(BEDROCK_CREDENTIAL_FAILURE_TTL_MS - 1);
    const second = await rejection(resolve());
    const third = await rejection(resolve());
    expect(lookups).toHaveBeenCalledTimes(1);
    for (const error of [first, second, third]) {
      expect(error).toMatchObject({ code: 'upstream_auth_error', provider: 'bedrock-east' });
      // names what to configure
      expect(error.message).toMatch(/accessKeyId\/secretAccessKey/);
      expect(error.message).toMatch(/AWS_ACCESS_KEY_ID/);
      expect(error.message).toMatch(/"default" profile/);
    }
    expect(second).not.toBe(first);
    expect(second.cause).toBe(first.cause);
    advance(1);
    await rejection(resolve());
    expect(lookups).toHaveBeenCalledTimes(2);
  });

  it('signs again as soon as a later lookup finds credentials', async () => {
    let available = false;
    const { resolve, lookups, advance } = harness(() =>
      available ? Promise.resolve(found) : Promise.reject(new Error('nothing')),
    );
    await rejection(resolve());
    available = true;
    await rejection(resolve());
    advance(BEDROCK_CREDENTIAL_FAILURE_TTL_MS);
    await expect(resolve()).resolves.toEqual(found);
    // successes are the chain's to cache (it memoizes until expiry): each request asks it
    await expect(resolve()).resolves.toEqual(found);
    expect(lookups).toHaveBeenCalledTimes(3);
  });

  it('does not remember a failure after the chain once found credentials: a failed refresh fails that request alone', async () => {
    let failing = false;
    const { resolve, lookups } = harness(() =>
      failing ? Promise.reject(new Error('EC2 metadata throttled')) : Promise.resolve(found),
    );
    await expect(resolve()).resolves.toEqual(found);
    failing = true;
    const refresh = await rejection(resolve());
    expect(refresh).toMatchObject({ code: 'upstream_auth_error', provider: 'bedrock-east' });
    expect(refresh.message).toMatch(/could not refresh/);
    failing = false;
    // asked again at once, no clock moved
    await expect(resolve()).resolves.toEqual(found);
    expect(lookups).toHaveBeenCalledTimes(3);
  });

  it('remembers a missing credential-provider package as invalid_options, and loads again later', async () => {
    const loads = vi.fn((_profile: string | undefined) =>
      Promise.reject<AwsCredentialSource>(
        new Error("Cannot find package '@aws-sdk/credential-provider-node'"),
      ),
    );
    let time = 0;
    const resolve = defaultCredentialChain({
      provider: 'bedrock',
      profile: 'team',
      loadChain: loads,
      now: () => time,
    });
    const first = await rejection(resolve());
    expect(first).toMatchObject({ code: 'invalid_options', provider: 'bedrock' });
    expect(first.message).toContain('@aws-sdk/credential-provider-node');
    await rejection(resolve());
    expect(loads).toHaveBeenCalledTimes(1);
    expect(loads).toHaveBeenCalledWith('team');
    time += BEDROCK_CREDENTIAL_FAILURE_TTL_MS;
    await rejection(resolve());
    expect(loads).toHaveBeenCalledTimes(2);
  });

  it('names the configured profile in the failure', async () => {
    const resolve = defaultCredentialChain({
      provider: 'bedrock',
      profile: 'nowhere',
      loadChain: () => Promise.resolve(() => Promise.reject(new Error('Profile nowhere could not be found'))),
      now: () => 0,
    });
    expect((await rejection(resolve())).message).toContain('the profile "nowhere"');
  });
});
