import { SwitchyardClientError } from '../errors/switchyard-client-error';

// ids travel as HTTP header values: visible ASCII only, no spaces
const ID_PATTERN = /^[\x21-\x7e]{1,256}$/;
// section names may hold spaces but not `/`, the path separator
const SECTION_PATTERN = /^[\x21-\x2e\x30-\x7e](?:[\x20-\x2e\x30-\x7e]{0,126}[\x21-\x2e\x30-\x7e])?$/;

/** Checks a run or customer id; throws `invalid_request` naming the argument. */
export function assertValidId(kind: 'runId' | 'customerId', value: unknown): asserts value is string {
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
    throw new SwitchyardClientError(
      'invalid_request',
      `${kind} must be 1 to 256 visible ASCII characters (no spaces).`,
    );
  }
}

/** Checks a section name; throws `invalid_request`. */
export function assertValidSectionName(value: unknown): asserts value is string {
  if (typeof value !== 'string' || !SECTION_PATTERN.test(value)) {
    throw new SwitchyardClientError(
      'invalid_request',
      'A section name must be 1 to 128 printable ASCII characters, without "/" and without leading or trailing spaces.',
    );
  }
}
