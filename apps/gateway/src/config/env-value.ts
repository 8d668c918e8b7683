/**
 * A variable of the environment as the gateway reads it: undefined when unset, empty or blank
 * (`REDIS_URL=` or `REDIS_URL=" "` in a .env file says "not set", not "an address of one
 * space"), else its value as given. One rule for every variable `start`, `config validate`
 * and the admin commands read, and for the `${VAR}` references of the config file, so a blank
 * variable never stands in for the file's value or a reference's default. The one exception is
 * a secret of the gateway's own access control: see {@link blankSecretProblem}.
 */
export function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

/**
 * The problem with a secret variable set to whitespace only (`SWITCHYARD_METRICS_TOKEN=" "`),
 * else undefined. Taken as unset, as {@link envValue} takes it, such a variable would fail open:
 * `/metrics` public, the key secret derived from the master key, a gateway without a master
 * key; so where the gateway would read a secret from it, it is refused. An empty variable is
 * unset (what `VAR=` and Compose's substitution of an unset variable give), as it always was.
 */
export function blankSecretProblem(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value !== undefined && value !== '' && value.trim() === ''
    ? `${name} is set but blank: unset it or give a value`
    : undefined;
}

/**
 * Whether a variable is set to the empty string (`VAR=`, or Compose's `${VAR}` of an unset
 * one): unset for {@link envValue}, but worth a warning where unset fails open.
 */
export function isEmptyVariable(env: NodeJS.ProcessEnv, name: string): boolean {
  return env[name] === '';
}

/**
 * A variable as the environment holds it, empty or blank included: only for the config file's
 * `${VAR-default}` and `${VAR?message}`, which a shell, and so their author, reads that way.
 */
export function envValueAsSet(env: NodeJS.ProcessEnv, name: string): string | undefined {
  return env[name];
}
