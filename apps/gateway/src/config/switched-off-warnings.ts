/**
 * A switch of the config file and the fields it turns off: `fields` (undefined: every other field
 * of the section) are read only while `section.field` is not `off`.
 */
interface ConfigSwitch {
  section: string;
  field: string;
  off: boolean;
  fields?: readonly string[];
  /** What the switch turns off, for the warning. */
  what: string;
}

// a switch listed before another of the same section wins: the cache turned off says it of the
// Redis tier's fields too, once
const SWITCHES: readonly ConfigSwitch[] = [
  { section: 'cache', field: 'enabled', off: false, what: 'the response cache' },
  // compressAboveBytes: the memory tier keeps entries as they are, only the Redis tier gzips
  {
    section: 'cache',
    field: 'redis',
    off: false,
    fields: ['compressAboveBytes', 'redisCommandTimeoutMs', 'redisBreaker'],
    what: "the cache's Redis tier",
  },
  { section: 'condenser', field: 'enabled', off: false, what: 'the condenser' },
  { section: 'metrics', field: 'enabled', off: false, what: 'the /metrics endpoint' },
  { section: 'breaker', field: 'enabled', off: false, what: 'the circuit breakers' },
];

/**
 * Fields set under a switch the file turns off (`cache.enabled: false` with `cache.ttlMs`,
 * `metrics.enabled: false` with `metrics.token`): they would be ignored, so their author would
 * believe them applied. A warning, not a refusal, and none at all when `chosenByEnv` says the
 * environment turns the switch (`enabled: "${CACHE_ENABLED:-true}"`): the fields are then meant
 * for the environments that turn it on. The request log's `store: none` is the request log's own
 * (`requestLogWarnings`).
 */
export function switchedOffWarnings(value: unknown, chosenByEnv: (path: string) => boolean): string[] {
  const record = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  const warned = new Set<string>();
  return SWITCHES.flatMap(({ section, field, off, fields, what }) => {
    const fieldsOf = record[section];
    // a section the schema refused is reported there
    if (typeof fieldsOf !== 'object' || fieldsOf === null || Array.isArray(fieldsOf)) return [];
    const set = fieldsOf as Record<string, unknown>;
    if (set[field] !== off || chosenByEnv(`/${section}/${field}`)) return [];
    return (fields ?? Object.keys(set))
      .filter((name) => name !== field && set[name] !== undefined && !warned.has(`${section}/${name}`))
      .map((name) => {
        warned.add(`${section}/${name}`);
        return `/${section}/${name}: is for ${what}, which ${section}.${field}: ${String(off)} turns off`;
      });
  });
}
