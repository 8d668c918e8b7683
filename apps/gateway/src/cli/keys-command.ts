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
  switchyard keys list
  switchyard keys revoke KEY_ID
  switchyard keys rotate KEY_ID

create and rotate print the secret (sk-sy-...) once; it cannot be read back later.

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

async function create(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, CREATE_OPTIONS, KEYS_USAGE);
  if (values.help === true) return help();
  positionalArgs(positionals, [], KEYS_USAGE);
  const models = values.models
    ?.split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '');
  // no models is every model to the gateway: `--models ""` (an unset variable, say) must not grant them
  if (models !== undefined && models.length === 0)
    throw new UsageError(
      '--models: name at least one model or pattern (a,b*); leave --models out for every model.',
    );
  // read as the gateway reads expires_at: a date that does not exist is refused, no offset is UTC
  const expiresMs = values.expires === undefined ? undefined : parseIsoTime(values.expires);
  if (values.expires !== undefined && expiresMs === undefined)
    throw new UsageError(
      `--expires: "${values.expires}" is not an ISO 8601 date or date-time (2027-01-31, 2027-01-31T18:00:00Z).`,
    );
  const body = {
    name: values.name,
    customer_id: values.customer,
    owner: values.owner,
    models,
    rpm: integerFlag(values.rpm, '--rpm', 1, MAX_LIMIT),
    tpm: integerFlag(values.tpm, '--tpm', 1, MAX_LIMIT),
    max_parallel: integerFlag(values['max-parallel'], '--max-parallel', 1, MAX_LIMIT),
    budget_usd: amountFlag(values.budget, '--budget'),
    budget_period: choiceFlag(values['budget-period'], '--budget-period', PERIODS),
    expires_at: expiresMs === undefined ? undefined : new Date(expiresMs).toISOString(),
  };
  const { admin } = await connect(values, env);
  const created = await admin('/admin/keys', { method: 'POST', body });
  if (values.json === true) printJson(created);
  else printSecret('Created', asRecord(created));
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
    const models = Array.isArray(key['models']) && key['models'].length > 0 ? key['models'].join(',') : '*';
    return [
      text(key, 'id'),
      text(key, 'name'),
      text(key, 'customer_id'),
      text(key, 'hint'),
      keyState(key),
      models,
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

/** `switchyard keys create|list|revoke|rotate`: the key admin API from the command line. */
export async function keysCommand(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return runSubcommand('keys', args, KEYS_USAGE, {
    create: (rest) => create(rest, env),
    list: (rest) => list(rest, env),
    revoke: (rest) => change('revoke', rest, env),
    rotate: (rest) => change('rotate', rest, env),
  });
}
