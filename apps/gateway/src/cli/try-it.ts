import { reachableUrl } from '../config/open-mode';

/**
 * The "Try it" lines `switchyard start` prints: a curl of a chat completion against `url`.
 * A gateway with client keys (or a master key) would answer it 401 without one, so the curl
 * then sends `$SWITCHYARD_API_KEY`: the key itself is never printed (a key listed in the
 * config, or one made with `switchyard keys create`, goes in that variable).
 */
export function tryItLines(url: string, model: string, open: boolean): string {
  const auth = open ? '' : ` \\\n    -H "authorization: Bearer $SWITCHYARD_API_KEY"`;
  const keyNote = open
    ? ''
    : "\n  (SWITCHYARD_API_KEY: a client key from the config's keys, or made with `switchyard keys create`)";
  return (
    `Try it:\n  curl ${reachableUrl(url)}/v1/chat/completions -H 'content-type: application/json'${auth} \\\n` +
    `    -d '{"model":"${model}","messages":[{"role":"user","content":"Hello!"}]}'${keyNote}`
  );
}
