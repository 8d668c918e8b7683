/**
 * Whether a `redis` section (as the file gives it, unchecked) names its address: `url` or
 * `cluster`. Without one, start takes it from REDIS_URL or REDIS_CLUSTER_NODES (`redis` only,
 * never `limiter.redis`). No imports: the config modules that ask (the schema's neighbours) would
 * otherwise import each other in a cycle.
 */
export function namesRedisAddress(section: unknown): boolean {
  if (typeof section !== 'object' || section === null) return false;
  const { url, cluster } = section as { url?: unknown; cluster?: unknown };
  return url !== undefined || cluster !== undefined;
}
