import {
  BEDROCK_TEST_API_KEY,
  BEDROCK_TEST_CREDENTIALS,
  createMockUpstream,
  type MockUpstream,
} from '@switchyard/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, validateConfig } from '../src/config/load-config';
import { startGateway, type RunningGateway } from '../src/start-gateway';

let upstream: MockUpstream;
const running: RunningGateway[] = [];
beforeAll(async () => {
  upstream = await createMockUpstream();
});
afterEach(async () => {
  upstream.reset();
  await Promise.all(running.splice(0).map(async (gateway) => gateway.shutdown()));
});
afterAll(() => upstream.close());

const file = (provider: Record<string, unknown> = {}) => ({
  providers: [{ name: 'aws', type: 'bedrock', baseUrl: upstream.url, ...provider }],
  models: [
    { name: 'claude', targets: [{ provider: 'aws', model: 'us.anthropic.claude-3-5-sonnet-20240620-v1:0' }] },
  ],
  // no ./switchyard.db in the working directory (the repository)
  requestLog: { store: 'none' },
});
const AWS_ENV = {
  AWS_REGION: 'us-west-2',
  AWS_ACCESS_KEY_ID: BEDROCK_TEST_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: BEDROCK_TEST_CREDENTIALS.secretAccessKey,
};

async function ask(gateway: RunningGateway): Promise<Response> {
  return fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'claude', messages: [{ role: 'user', content: 'Hello!' }] }),
  });
}

describe('bedrock providers in the config file', () => {
  it('fills region and credentials from the standard AWS variables and answers through the signed Converse API', async () => {
    const config = await validateConfig(
      file(),
      { ...AWS_ENV, AWS_SESSION_TOKEN: 'IQoJb3JpZ2luX2VjEXAMPLE' },
      'test.yaml',
    );
    expect(config.providers[0]).toMatchObject({
      region: 'us-west-2',
      accessKeyId: AWS_ENV.AWS_ACCESS_KEY_ID,
      sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE',
    });
    const gateway = await startGateway({ config, port: 0, host: '127.0.0.1', logLevel: 'silent' });
    running.push(gateway);
    const response = await ask(gateway);
    expect(response.status).toBe(200);
    expect(
      ((await response.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message
        .content,
    ).toBe('\n\nHello there, how may I assist you today?');
    expect(upstream.requests[0]?.headers['authorization']).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/us-west-2\/bedrock\/aws4_request/,
    );
    // starting a whole gateway is slow on a loaded machine; nothing here waits on a timer
  }, 60_000);

  it('lets values in the file win, and uses AWS_BEARER_TOKEN_BEDROCK when the file names no credentials', async () => {
    const fromFile = await validateConfig(
      file({ region: 'eu-central-1', ...BEDROCK_TEST_CREDENTIALS }),
      { ...AWS_ENV, AWS_BEARER_TOKEN_BEDROCK: 'ignored' },
      'test.yaml',
    );
    expect(fromFile.providers[0]).toMatchObject({
      region: 'eu-central-1',
      accessKeyId: BEDROCK_TEST_CREDENTIALS.accessKeyId,
    });
    expect(fromFile.providers[0]?.['apiKey']).toBeUndefined();
    const bearer = await validateConfig(
      file(),
      { ...AWS_ENV, AWS_BEARER_TOKEN_BEDROCK: BEDROCK_TEST_API_KEY },
      'test.yaml',
    );
    expect(bearer.providers[0]).toMatchObject({ apiKey: BEDROCK_TEST_API_KEY });
    expect(bearer.providers[0]?.['accessKeyId']).toBeUndefined();
  });

  it('reports a bedrock provider without region or credentials as a config problem', async () => {
    const missing = await validateConfig(file(), {}, 'test.yaml').catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(ConfigError);
    expect((missing as ConfigError).problems.join('\n')).toMatch(/region/);
    const halfKeys = await validateConfig(
      file({ region: 'us-east-1', accessKeyId: BEDROCK_TEST_CREDENTIALS.accessKeyId }),
      {},
      'test.yaml',
    ).catch((error: unknown) => error);
    expect(halfKeys).toBeInstanceOf(ConfigError);
    expect((halfKeys as ConfigError).problems).toEqual([
      expect.stringMatching(/provider "aws" \(bedrock\): give accessKeyId and secretAccessKey together/),
    ]);
  });

  it('leaves a provider without credentials, or with a profile, to the AWS credential chain', async () => {
    const chain = await validateConfig(file({ region: 'us-east-1' }), {}, 'test.yaml');
    expect(chain.providers[0]?.['accessKeyId']).toBeUndefined();
    const profile = await validateConfig(file({ profile: 'bedrock-prod' }), AWS_ENV, 'test.yaml');
    expect(profile.providers[0]).toMatchObject({ region: 'us-west-2', profile: 'bedrock-prod' });
    expect(profile.providers[0]?.['accessKeyId']).toBeUndefined();
  });
});
