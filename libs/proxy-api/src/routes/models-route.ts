import { SwitchyardError, type Gateway, type ModelEntry, type ModelList } from '@switchyard/proxy-core';
import type { FastifyInstance } from 'fastify';
import { keyAllowsModel } from '../keys/key-model-match';
import type { VirtualKey } from '../keys/virtual-key';

/** The models `key` may use: a key limited to some models is shown those (a picker offers what is listed). */
function visibleTo(key: VirtualKey | undefined, models: ModelEntry[]): ModelEntry[] {
  if (key === undefined || key.models.length === 0) return models;
  return models.filter((model) => keyAllowsModel(key, model.id));
}

/**
 * `GET /v1/models`: the configured model aliases the caller's key may use; `GET
 * /v1/models/{model}`: one of them, or 404 `model_not_found` (also for one the key may not use,
 * as it is not listed). A model id with a `/` (`openai/gpt-4o`) may be sent as it is or with
 * the `/` encoded, as the SDKs send it.
 * @see https://platform.openai.com/docs/api-reference/models/list
 * @see https://platform.openai.com/docs/api-reference/models/retrieve
 */
export function modelsRoute(app: FastifyInstance, gateway: Gateway): void {
  app.get('/v1/models', async (request): Promise<ModelList> => ({
    object: 'list',
    data: visibleTo(request.switchyardKey, gateway.listModels()),
  }));
  app.get<{ Params: { '*': string } }>('/v1/models/*', async (request): Promise<ModelEntry> => {
    const id = request.params['*'];
    const key = request.switchyardKey;
    const model = gateway.listModels().find((entry) => entry.id === id);
    if (model === undefined || (key !== undefined && !keyAllowsModel(key, id))) {
      throw new SwitchyardError('model_not_found', `The model "${id}" does not exist.`, { param: 'model' });
    }
    return model;
  });
}
