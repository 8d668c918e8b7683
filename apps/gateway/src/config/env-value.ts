/**
 * A variable of the environment as the gateway reads it: undefined when unset, empty or blank
 * (`REDIS_URL=` or `REDIS_URL=" "` in a .env file says "not set", not "an address of one
 * space"), else its value as given. One rule for every variable `start`, `config validate`
 * and the admin commands read, so a blank variable never stands in for the file's value.
 */
export function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}
