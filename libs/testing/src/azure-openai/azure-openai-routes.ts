import type { MockExchange, MockRoute } from '../mock-upstream';
import { openAIRoutes } from '../openai/openai-routes';
import { sendJson } from '../sse';

// Azure OpenAI serves OpenAI's shapes under /openai/deployments/{deployment}/... with an
// `api-key` header and a required `api-version` query parameter; its own errors look like
// Azure's documented ones (https://learn.microsoft.com/en-us/azure/ai-services/openai/reference).

const DEPLOYMENT = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|completions|embeddings)$/;

function openAIHandler(operation: string): MockRoute['handle'] {
  const route = openAIRoutes.find((r) => r.method === 'POST' && r.path.test(`/${operation}`));
  if (route === undefined) throw new Error(`no OpenAI mock route for ${operation}`);
  return (exchange) => route.handle(exchange);
}

async function deployment(exchange: MockExchange): Promise<void> {
  const { req, res, url } = exchange;
  if (typeof req.headers['api-key'] !== 'string') {
    sendJson(res, 401, {
      error: { code: '401', message: 'Access denied due to invalid subscription key or wrong API endpoint.' },
    });
    return;
  }
  if (!url.searchParams.has('api-version')) {
    sendJson(res, 404, { error: { code: '404', message: 'Resource not found' } });
    return;
  }
  const operation = DEPLOYMENT.exec(url.pathname)?.[2] ?? 'chat/completions';
  await openAIHandler(operation)(exchange);
}

/** Azure OpenAI's deployment endpoints (chat completions, legacy completions, embeddings). */
export const azureOpenAIRoutes: MockRoute[] = [{ method: 'POST', path: DEPLOYMENT, handle: deployment }];
