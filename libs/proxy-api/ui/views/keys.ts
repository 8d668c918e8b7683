import { api, ApiError } from '../api';
import { field, h, notice, replace, select, table } from '../dom';
import { integer, orDash, time, usd } from '../format';
import { gatewayNow } from '../gateway-clock';
import { changedFields, type KeyBody } from '../key-form-changes';
import { LatestLoad } from '../latest-load';
import type { AdminKey, Page } from '../types';

const PERIODS = [
  ['month', 'per month'],
  ['week', 'per week'],
  ['day', 'per day'],
  ['total', 'in total'],
] as const;

/** Keys the page lists at most (the admin API pages through every key). */
const MAX_LISTED_KEYS = 1000;

/** Keys: create (the secret is shown once), list, edit limits and budgets, revoke. */
export function keysView(root: HTMLElement, signal: AbortSignal): void {
  const formArea = h('section', { class: 'key-form' });
  const secretArea = h('div', { 'aria-live': 'polite' });
  const list = h('section', {});
  replace(root, h('header', { class: 'view-head' }, h('h1', {}, 'Keys')), secretArea, formArea, list);

  function showForm(editing: AdminKey | undefined): void {
    replace(
      formArea,
      keyForm(
        editing,
        async (body) => {
          if (editing === undefined) {
            const created = await api<AdminKey & { key: string }>('admin/keys', { method: 'POST', body });
            showSecret(secretArea, created);
          } else if (Object.keys(body).length === 0) {
            replace(secretArea, notice(`Nothing to save: ${editing.name} is as it was.`, 'info'));
          } else {
            await api<AdminKey>(`admin/keys/${encodeURIComponent(editing.id)}`, { method: 'PATCH', body });
            replace(secretArea, notice(`Saved ${editing.name}.`, 'info'));
          }
          showForm(undefined);
          await load();
        },
        () => showForm(undefined),
      ),
    );
  }

  async function revoke(key: AdminKey, button: HTMLButtonElement): Promise<void> {
    if (!confirm(`Revoke the key "${key.name}" (${key.hint})? Requests with it will be refused from now on.`))
      return;
    // clicked again while the revoke runs, it asked again and revoked again
    button.disabled = true;
    try {
      await api<AdminKey>(`admin/keys/${encodeURIComponent(key.id)}/revoke`, { method: 'POST' });
      replace(secretArea, notice(`Revoked ${key.name}.`, 'info'));
      await load();
    } catch (error) {
      replace(secretArea, notice(`Could not revoke ${key.name}: ${(error as Error).message}`));
    } finally {
      button.disabled = false;
    }
  }

  // the list reloaded (a key created, saved or revoked) while it loads: the earlier load is
  // aborted, its list (without the change) never shown over the newer one
  const loads = new LatestLoad(signal);

  async function load(): Promise<void> {
    const loading = loads.start();
    try {
      const keys: AdminKey[] = [];
      let cursor: string | undefined;
      do {
        const page = await api<Page<AdminKey>>('admin/keys', {
          query: { limit: 100, cursor },
          signal: loading,
        });
        keys.push(...page.data);
        cursor = page.next_cursor ?? undefined;
      } while (cursor !== undefined && keys.length < MAX_LISTED_KEYS);
      if (loading.aborted) return;
      // more keys than the page lists: say so, rather than let the list pass for all of them
      const more =
        cursor === undefined
          ? []
          : [
              notice(
                `Showing the first ${integer(keys.length)} keys; the admin API (GET /admin/keys) lists the rest.`,
                'info',
              ),
            ];
      replace(
        list,
        ...more,
        table(
          'Keys',
          ['Name', 'Key', 'Customer', 'Models', 'RPM', 'TPM', 'Parallel', 'Budget', 'State', 'Actions'],
          keys.map((key) => [
            key.name,
            h('code', {}, key.hint),
            orDash(key.customer_id),
            key.models.length === 0 ? 'all' : key.models.join(', '),
            key.rpm === null ? '–' : integer(key.rpm),
            key.tpm === null ? '–' : integer(key.tpm),
            key.max_parallel === null ? '–' : integer(key.max_parallel),
            key.budget_usd === null ? '–' : `${usd(key.budget_usd)} ${key.budget_period}`,
            h(
              'span',
              {
                class: `state ${keyState(key)}`,
                'data-key-state': key.name,
                ...(key.expires_at === null || key.expires_at === undefined
                  ? {}
                  : { title: `expires ${expiry(key.expires_at)}` }),
              },
              keyState(key),
            ),
            key.revoked || key.source === 'static'
              ? key.source === 'static'
                ? 'from config'
                : ''
              : h(
                  'span',
                  { class: 'actions' },
                  h(
                    'button',
                    { type: 'button', 'aria-label': `Edit ${key.name}`, onclick: () => showForm(key) },
                    'Edit',
                  ),
                  h(
                    'button',
                    {
                      type: 'button',
                      class: 'danger',
                      'aria-label': `Revoke ${key.name}`,
                      onclick: (event) => void revoke(key, event.currentTarget as HTMLButtonElement),
                    },
                    'Revoke',
                  ),
                ),
          ]),
          'no keys yet.',
        ),
      );
    } catch (error) {
      if (loading.aborted) return;
      const off = error instanceof ApiError && error.status === 404;
      replace(
        list,
        notice(
          off
            ? 'Key management is off: the gateway has no key store.'
            : `Could not load keys: ${(error as Error).message}`,
          off ? 'info' : 'error',
        ),
      );
      if (off) formArea.replaceChildren();
    }
  }

  showForm(undefined);
  void load();
}

function showSecret(area: HTMLElement, created: AdminKey & { key: string }): void {
  const secret = h('input', {
    type: 'text',
    readonly: true,
    value: created.key,
    'aria-label': `Secret of ${created.name}`,
    class: 'secret',
  });
  const copy = h('button', { type: 'button' }, 'Copy');
  copy.addEventListener('click', () => {
    // the Clipboard API exists only in a secure context (https, localhost): a gateway reached
    // over plain http by name has none, so the secret is selected and copied the old way
    const clipboard = (navigator as Partial<Navigator>).clipboard;
    const selectAndCopy = (): void => {
      secret.select();
      copy.textContent = document.execCommand('copy') ? 'Copied' : 'Selected: press Ctrl+C';
    };
    if (clipboard === undefined) {
      selectAndCopy();
      return;
    }
    void clipboard.writeText(created.key).then(() => (copy.textContent = 'Copied'), selectAndCopy);
  });
  const dismiss = h('button', { type: 'button', onclick: () => area.replaceChildren() }, 'I have stored it');
  replace(
    area,
    h(
      'div',
      { class: 'once', role: 'status' },
      h('h2', {}, `Key ${created.name} created`),
      h('p', {}, 'Copy the secret now: it is shown only this once.'),
      h('div', { class: 'row' }, secret, copy, dismiss),
    ),
  );
}

function keyForm(
  editing: AdminKey | undefined,
  submit: (body: KeyBody) => Promise<void>,
  cancel: () => void,
): HTMLFormElement {
  const text = (name: string, value: string | null | undefined, required = false): HTMLInputElement =>
    h('input', { name, type: 'text', value: value ?? '', required, autocomplete: 'off' });
  // the admin API's own bounds: limits are whole numbers from 1, a budget any amount from 0 (a
  // step of 0.01 refused to save a key whose budget the API had taken as 12.345)
  const num = (name: string, value: number | null | undefined, min = '1', step = '1'): HTMLInputElement =>
    h('input', { name, type: 'number', min, step, value: value ?? '', inputmode: 'decimal' });
  const inputs = {
    name: text('name', editing?.name, true),
    customer_id: text('customer_id', editing?.customer_id),
    models: text('models', editing?.models.join(', ')),
    rpm: num('rpm', editing?.rpm),
    tpm: num('tpm', editing?.tpm),
    max_parallel: num('max_parallel', editing?.max_parallel),
    budget_usd: num('budget_usd', editing?.budget_usd, '0', 'any'),
  };
  const period = select('budget_period', PERIODS, editing?.budget_period ?? 'month');
  const status = h('div', { 'aria-live': 'polite' });
  const save = h(
    'button',
    { type: 'submit', class: 'primary' },
    editing === undefined ? 'Create key' : 'Save changes',
  );
  const form = h(
    'form',
    { class: 'grid-form', 'aria-label': editing === undefined ? 'Create a key' : `Edit ${editing.name}` },
    h('h2', {}, editing === undefined ? 'Create a key' : `Edit ${editing.name}`),
    field('Name', inputs.name),
    field('Customer id', inputs.customer_id),
    field('Models', inputs.models, 'comma-separated; empty allows all'),
    field('Requests per minute', inputs.rpm),
    field('Tokens per minute', inputs.tpm),
    field('Parallel requests', inputs.max_parallel),
    field('Budget (USD)', inputs.budget_usd),
    field('Budget period', period),
    h(
      'div',
      { class: 'row' },
      save,
      editing === undefined ? null : h('button', { type: 'button', onclick: cancel }, 'Cancel'),
    ),
    status,
  );
  const optional = (input: HTMLInputElement): string | null =>
    input.value.trim() === '' ? null : input.value.trim();
  const number = (input: HTMLInputElement): number | null =>
    input.value.trim() === '' ? null : Number(input.value);
  const read = (): KeyBody => ({
    name: inputs.name.value.trim(),
    customer_id: optional(inputs.customer_id),
    models: inputs.models.value
      .split(',')
      .map((model) => model.trim())
      .filter((model) => model !== ''),
    rpm: number(inputs.rpm),
    tpm: number(inputs.tpm),
    max_parallel: number(inputs.max_parallel),
    budget_usd: number(inputs.budget_usd),
    budget_period: period.value,
  });
  // an edit sends only what this form changed: another admin may have changed the rest since the list loaded
  const loaded = read();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    // a second submit while one is saved (a double click) created a second key, and the first
    // one's secret, shown only once, was replaced by the second's before anyone saw it
    if (save.disabled) return;
    save.disabled = true;
    const body = editing === undefined ? read() : changedFields(loaded, read());
    submit(body)
      .catch((error: unknown) => replace(status, notice(`Could not save: ${(error as Error).message}`)))
      .finally(() => (save.disabled = false));
  });
  return form;
}

/** A key's `expires_at` (ISO 8601) in UTC as the pages show times; as sent when it does not parse. */
function expiry(expiresAt: string): string {
  const ms = Date.parse(expiresAt);
  return Number.isNaN(ms) ? expiresAt : time(ms);
}

/** What the gateway does with a key: an expired one is refused (401) as a revoked one is. */
function keyState(key: AdminKey): 'revoked' | 'expired' | 'disabled' | 'active' {
  if (key.revoked) return 'revoked';
  // the gateway's clock decides when a key expires, not the browser's
  if (key.expires_at != null && Date.parse(key.expires_at) <= gatewayNow()) return 'expired';
  return key.enabled ? 'active' : 'disabled';
}
