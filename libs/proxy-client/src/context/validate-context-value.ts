import { SwitchyardClientError } from '../errors/switchyard-client-error';

// The gateway's charset for tracing values (it answers 400 to anything else), checked here
// so a bad id fails where it is set rather than on every LLM call made under it.
const ID_PATTERN = /^[A-Za-z0-9._:@-]{1,128}$/;
// `.` and `..` are path segments: a run read back at /admin/runs/<id> would be another route
const DOTS_ONLY = /^\.+$/;

/** Whether an id is only dots, which cannot be read back in a URL path. */
export function isDotsOnly(value: string): boolean {
  return DOTS_ONLY.test(value);
}
// section names may hold spaces but not `/`, the path separator; header values lose leading
// and trailing spaces on the way, so those are refused too
const SECTION_PATTERN = /^[A-Za-z0-9._:@()#+-](?:[A-Za-z0-9 ._:@()#+-]{0,126}[A-Za-z0-9._:@()#+-])?$/;

/** The longest section path the gateway accepts, in characters. */
export const MAX_SECTION_PATH_LENGTH = 512;

/** Checks a run or customer id; throws `invalid_request` naming the argument. */
export function assertValidId(kind: 'runId' | 'customerId', value: unknown): asserts value is string {
  if (typeof value !== 'string' || !ID_PATTERN.test(value) || isDotsOnly(value)) {
    throw new SwitchyardClientError(
      'invalid_request',
      `${kind} must be 1 to 128 letters, digits or ._:@- characters, not only dots.`,
    );
  }
}

/** Checks a section name; throws `invalid_request`. */
export function assertValidSectionName(value: unknown): asserts value is string {
  if (typeof value !== 'string' || !SECTION_PATTERN.test(value)) {
    throw new SwitchyardClientError(
      'invalid_request',
      'A section name must be 1 to 128 letters, digits, spaces or ._:@()#+- characters, with no leading or trailing space.',
    );
  }
}

/** Checks the path a nested section would get; throws `invalid_request`. */
export function assertValidSectionPath(path: string): void {
  if (path.length > MAX_SECTION_PATH_LENGTH) {
    throw new SwitchyardClientError(
      'invalid_request',
      `Sections are nested too deep: the path would exceed ${MAX_SECTION_PATH_LENGTH} characters.`,
    );
  }
}
