/** What a location hash (`#/runs/<id>`) names: a view and what follows it, decoded. */
export interface Route {
  /** The view (`overview` when the hash names none). */
  view: string;
  /** What follows the view, percent-decoded; undefined when nothing does or it is `malformed`. */
  rest: string | undefined;
  /** What follows the view is not valid percent-encoding (`#/runs/%`): a link made wrong. */
  malformed: boolean;
}

/** Reads a location hash as the UI's route; never throws, whatever the hash holds. */
export function readRoute(hash: string): Route {
  const [, view = 'overview', ...parts] = hash.replace(/^#/, '').split('/');
  const raw = parts.join('/');
  if (raw === '') return { view, rest: undefined, malformed: false };
  try {
    return { view, rest: decodeURIComponent(raw), malformed: false };
  } catch {
    // a URIError: decodeURIComponent throws on a `%` not followed by two hex digits
    return { view, rest: undefined, malformed: true };
  }
}
