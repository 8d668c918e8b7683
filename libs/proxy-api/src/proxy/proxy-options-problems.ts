import { createMeterRegistry, type MeterRegistry } from '@switchyard/proxy-logging';
import { injectedKeys } from './injected-keys';
import { proxyConfigProblems, type ProxyOptions } from './proxy-options';

/** The proxy's meters: the registry given, else the built-in meters after the extra ones. */
export function proxyMeterRegistry(proxy: ProxyOptions): MeterRegistry {
  return (
    proxy.meterRegistry ??
    createMeterRegistry({ meters: proxy.meters ?? [], hostProviders: proxy.hostProviders ?? {} })
  );
}

/**
 * Every problem the universal proxy would refuse its options for: the schema's, then, for
 * options that pass it, where each provider key may go (a key whose provider has only wildcard
 * hosts needs `hosts`). Found without opening anything.
 */
export function proxyOptionsProblems(proxy: ProxyOptions): string[] {
  const problems = proxyConfigProblems(proxy);
  if (problems.length > 0) return problems;
  return injectedKeys(proxy.providerKeys ?? {}, proxyMeterRegistry(proxy), proxy.routes ?? {}).problems;
}
