import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

const MANIFEST = new URL('../../../../deploy/kubernetes/switchyard.yaml', import.meta.url);

interface Manifest {
  kind: string;
  data?: Record<string, string>;
  spec?: { template?: { spec?: { terminationGracePeriodSeconds?: number } } };
}

describe('deploy/kubernetes/switchyard.yaml', () => {
  it('gives a pod more grace than its shutdown can take: delay, drain, closing, the last request-log flush', () => {
    const manifests = parseAllDocuments(readFileSync(MANIFEST, 'utf8')).map((doc) => doc.toJS() as Manifest);
    const gatewayYaml = manifests.find((m) => m.kind === 'ConfigMap')?.data?.['gateway.yaml'] ?? '';
    const config = parse(gatewayYaml) as { server?: { shutdownDelayMs?: number; shutdownTimeoutMs?: number }; requestLog?: { flushTimeoutMs?: number } };
    const graceSeconds = manifests.find((m) => m.kind === 'Deployment')?.spec?.template?.spec?.terminationGracePeriodSeconds;
    // defaults as in docs/operations.md and docs/request-log.md
    const shutdownMs = (config.server?.shutdownDelayMs ?? 0) + (config.server?.shutdownTimeoutMs ?? 10_000) + 1_000 + (config.requestLog?.flushTimeoutMs ?? 10_000);
    expect(shutdownMs).toBe(36_000);
    expect((graceSeconds ?? 30) * 1_000).toBeGreaterThan(shutdownMs);
  });
});
