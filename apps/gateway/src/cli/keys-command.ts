import { parseIsoTime } from '@switchyard/proxy-api';
import {
  amountFlag,
  choiceFlag,
  integerFlag,
  parseCommandArgs,
  positionalArgs,
  runSubcommand,
} from './cli-args';
import { UsageError } from './cli-errors';
import {
  asRecord,
  asRecords,
  formatCount,
  formatTime,
  formatUsd,
  numberField,
  printJson,
  printLine,
  renderTable,
  text,
} from './cli-output';
import { CONNECTION_HELP, CONNECTION_OPTIONS, connect } from './gateway-connection';

/** Usage of `switchyard keys`. */
export const KEYS_USAGE = `Usage:
  switchyard keys create [--name NAME] [--customer ID] [--owner WHO] [--models a,b*]
                         [--rpm N] [--tpm N] [--max-parallel N] [--budget USD]
                         [--budget-period day|week|month|total] [--expires ISO-DATE]
  switchyard keys update KEY_ID [the flags of create] [--enable | --disable]
  switchyard keys list
  switchyard keys revoke KEY_ID
  switchyard keys rotate KEY_ID

create and rotate print the secret (sk-sy-...) once; it cannot be read back later.
update changes only the flags given; "none" clears a limit, the budget, the expiry, the
customer or the owner (--rpm none).

${CONNECTION_HELP}`;

const CREATE_OPTIONS = {
  ...CONNECTION_OPTIONS,
  name: { type: 'string' },
  customer: { type: 'string' },
  owner: { type: 'string' },
  models: { type: 'string' },
  rpm: { type: 'string' },
  tpm: { type: 'string' },
  'max-parallel': { type: 'string' },
  budget: { type: 'string' },
  'budget-period': { type: 'string' },
  expires: { type: 'string' },
} as const;

const UPDATE_OPTIONS = {
  ...CREATE_OPTIONS,
  enable: { type: 'boolean' },
  disable: { type: 'boolean' },
} as const;

const PERIODS = ['day', 'week', 'month', 'total'] as const;
const MAX_LIMIT = 1_000_000_000;

function help(): number {
  printLine(KEYS_USAGE);
  return 0;
}

function keyState(key: Readonly<Record<string, unknown>>): string {
  if (key['revoked'] === true) return 'revoked';
  if (key['enabled'] === false) return 'disabled';
  const expires = typeof key['expires_at'] === 'string' ? Date.parse(key['expires_at']) : Number.NaN;
  if (Number.isFinite(expires) && expires <= Date.now()) return 'expired';
  return 'active';
}

function limits(key: Readonly<Record<string, unknown>>): string {
  const parts = [
    ['rpm', numberField(key, 'rpm')],
    ['tpm', numberField(key, 'tpm')],
    ['parallel', numberField(key, 'max_parallel')],
  ] as const;
  const set = parts
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name} ${formatCount(value)}`);
  return set.length === 0 ? '-' : set.join(', ');
}

function modelsOf(key: Readonly<Record<string, unknown>>): string {
  return Array.isArray(key['models']) && key['models'].length > 0 ? key['models'].join(',') : '*';
}

function budget(key: Readonly<Record<string, unknown>>): string {
  const usd = numberField(key, 'budget_usd');
  return usd === undefined ? '-' : `${formatUsd(usd)}/${text(key, 'budget_period')}`;
}

function describeKey(key: Readonly<Record<string, unknown>>): string {
  const customer = text(key, 'customer_id', '');
  return `${text(key, 'id')} "${text(key, 'name', '')}"${customer === '' ? '' : ` (customer ${customer})`}`;
}

function printSecret(verb: string, key: Readonly<Record<string, unknown>>): void {
  printLine(`${verb} key ${describeKey(key)}.`);
  printLine('Secret (shown once, store it now; the gateway keeps only a hash):');
  printLine(`  ${text(key, 'key')}`);
}

/** A flag that "none" clears (sent as null), else read by `read`; undefined when not given. */
function clearable<T>(value: string | undefined, read: (value: string) => T): T | null | undefined {
  if (value === undefined) return undefined;
  return value === 'none' ? null : read(value);
}

type KeyFlags = { [K in keyof typeof CREATE_OPTIONS]?: string | boolean | undefined };

/**
 * The admin API's key fields from the flags of `create` and `update`: only the flags given,
 * "none" as null (no limit, budget, expiry, customer or owner).
 */
function keyFields(values: KeyFlags): Record<string, unknown> {
  const flag = (name: keyof typeof CREATE_OPTIONS): string | undefined => {
    const value = values[name];
    return typeof value === 'string' ? value : undefined;
  };
  const given = flag('models');
  const models = given
    ?.split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '');
  // no models is every model to the gateway: `--models ""` (an unset variable, say) must not grant them
  if (models !== undefined && models.length === 0)
    throw new UsageError(
      '--models: name at least one model or pattern (a,b*); leave --models out for every model.',
    );
  const fields: Record<string, unknown> = {
    name: flag('name'),
    customer_id: clearable(flag('customer'), (value) => value),
    owner: clearable(flag('owner'), (value) => value),
    models,
    rpm: clearable(flag('rpm'), (value) => integerFlag(value, '--rpm', 1, MAX_LIMIT)),
    tpm: clearable(flag('tpm'), (value) => integerFlag(value, '--tpm', 1, MAX_LIMIT)),
    max_parallel: clearable(flag('max-parallel'), (value) =>
      integerFlag(value, '--max-parallel', 1, MAX_LIMIT),
    ),
    budget_usd: clearable(flag('budget'), (value) => amountFlag(value, '--budget')),
    budget_period: choiceFlag(flag('budget-period'), '--budget-period', PERIODS),
    // read as the gateway reads expires_at: a date that does not exist is refused, no offset is UTC
    expires_at: clearable(flag('expires'), (value) => {
      const ms = parseIsoTime(value);
      if (ms === undefined)
        throw new UsageError(
          `--expires: "${value}" is not an ISO 8601 date or date-time (2027-01-31, 2027-01-31T18:00:00Z) or none.`,
        );
      return new Date(ms).toISOString();
    }),
  };
  for (const [name, value] of Object.entries(fields)) if (value === undefined) delete fields[name];
  return fields;
}

async function create(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, CREATE_OPTIONS, KEYS_USAGE);
  if (values.help === true) return help();
  positionalArgs(positionals, [], KEYS_USAGE);
  const body = keyFields(values);
  const { admin } = await connect(values, env);
  const created = await admin('/admin/keys', { method: 'POST', body });
  if (values.json === true) printJson(created);
  else printSecret('Created', asRecord(created));
  return 0;
}

async function update(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, UPDATE_OPTIONS, KEYS_USAGE);
  if (values.help === true) return help();
  const [id = ''] = positionalArgs(positionals, ['KEY_ID'], KEYS_USAGE);
  if (values.enable === true && values.disable === true)
    throw new UsageError('--enable and --disable: give one of them.', KEYS_USAGE);
  const body = keyFields(values);
  if (values.enable === true) body['enabled'] = true;
  if (values.disable === true) body['enabled'] = false;
  if (Object.keys(body).length === 0)
    throw new UsageError(
      'Nothing to change: give the flags to set (--rpm 600, --budget none, --disable).',
      KEYS_USAGE,
    );
  const { admin } = await connect(values, env);
  const key = asRecord(await admin(`/admin/keys/${encodeURIComponent(id)}`, { method: 'PATCH', body }));
  if (values.json === true) printJson(key);
  else
    printLine(
      `Updated key ${describeKey(key)}: ${keyState(key)}, models ${modelsOf(key)}, limits ${limits(key)}, budget ${budget(key)}.`,
    );
  return 0;
}

async function list(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, CONNECTION_OPTIONS, KEYS_USAGE);
  if (values.help === true) return help();
  positionalArgs(positionals, [], KEYS_USAGE);
  const { admin } = await connect(values, env);
  const keys: Array<Readonly<Record<string, unknown>>> = [];
  let cursor: string | undefined;
  do {
    const page = asRecord(await admin('/admin/keys', { query: { limit: 100, cursor } }));
    keys.push(...asRecords(page['data']));
    cursor = typeof page['next_cursor'] === 'string' ? page['next_cursor'] : undefined;
  } while (cursor !== undefined);
  if (values.json === true) {
    printJson({ object: 'list', data: keys });
    return 0;
  }
  if (keys.length === 0) {
    printLine('No keys yet. Create one with: switchyard keys create --name NAME');
    return 0;
  }
  const columns = [
    { header: 'ID' },
    { header: 'NAME' },
    { header: 'CUSTOMER' },
    { header: 'KEY' },
    { header: 'STATE' },
    { header: 'MODELS' },
    { header: 'LIMITS' },
    { header: 'BUDGET', align: 'right' },
    { header: 'CREATED (UTC)' },
  ] as const;
  const rows = keys.map((key) => {
    return [
      text(key, 'id'),
      text(key, 'name'),
      text(key, 'customer_id'),
      text(key, 'hint'),
      keyState(key),
      modelsOf(key),
      limits(key),
      budget(key),
      formatTime(key['created_at']),
    ];
  });
  printLine(renderTable(columns, rows));
  return 0;
}

async function change(action: 'revoke' | 'rotate', args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, CONNECTION_OPTIONS, KEYS_USAGE);
  if (values.help === true) return help();
  const [id = ''] = positionalArgs(positionals, ['KEY_ID'], KEYS_USAGE);
  const { admin } = await connect(values, env);
  const key = await admin(`/admin/keys/${encodeURIComponent(id)}/${action}`, { method: 'POST' });
  if (values.json === true) printJson(key);
  else if (action === 'rotate') printSecret('Rotated', asRecord(key));
  else printLine(`Revoked key ${describeKey(asRecord(key))}: requests with it are refused from now on.`);
  return 0;
}

/** `switchyard keys create|update|list|revoke|rotate`: the key admin API from the command line. */
export async function keysCommand(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return runSubcommand('keys', args, KEYS_USAGE, {
    create: (rest) => create(rest, env),
    update: (rest) => update(rest, env),
    list: (rest) => list(rest, env),
    revoke: (rest) => change('revoke', rest, env),
    rotate: (rest) => change('rotate', rest, env),
  });
}
