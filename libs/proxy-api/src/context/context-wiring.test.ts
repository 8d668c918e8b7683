import { createGateway, type GatewayOptions } from '@switchyard/proxy-core';
import { describe, expect, it } from 'vitest';
import { aliasTargets } from './context-wiring';

describe('aliasTargets: the upstream models the condenser sizes each alias for', () => {
  const options: GatewayOptions = {
    providers: [
      { name: 'a', type: 'mock' },
      { name: 'b', type: 'mock' },
    ],
    models: [
      {
        name: 'primary',
        targets: [
          { provider: 'a', model: 'm1' },
          { provider: 'b', model: 'm1' },
        ],
        fallbacks: ['second', 'third'],
      },
      { name: 'second', targets: [{ provider: 'a', model: 'm2' }], fallbacks: ['fourth'] },
      {
        name: 'third',
        targets: [
          { provider: 'a', model: 'm1' },
          { provider: 'a', model: 'm3' },
        ],
      },
      { name: 'fourth', targets: [{ provider: 'a', model: 'm4' }] },
    ],
  };

  it("lists an alias's targets and its own fallback aliases' targets (not theirs), each model once", () => {
    expect(aliasTargets(options)).toEqual({
      primary: ['m1', 'm2', 'm3'],
      second: ['m2', 'm4'],
      third: ['m1', 'm3'],
      fourth: ['m4'],
    });
  });

  it('is the same for gateway options as for the gateway built from them', async () => {
    const gateway = createGateway(options);
    try {
      expect(aliasTargets(gateway)).toEqual(aliasTargets(options));
    } finally {
      await gateway.close();
    }
  });
});
