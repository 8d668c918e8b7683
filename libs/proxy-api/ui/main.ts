import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { api, ApiError, session, whenUnauthorized } from './api';
import { field, h, notice, replace } from './dom';
import { readGatewayClock } from './gateway-clock';
import { readRoute } from './route';
import { keysView } from './views/keys';
import { overviewView } from './views/overview';
import { providersView } from './views/providers';
import { requestsView } from './views/requests';
import { runsView } from './views/runs';

const NAV = [
  ['overview', 'Overview'],
  ['requests', 'Requests'],
  ['runs', 'Runs'],
  ['providers', 'Providers'],
  ['keys', 'Keys'],
] as const;

const app = document.getElementById('app') ?? document.body;
let current: AbortController | undefined;

function login(message?: string): void {
  current?.abort();
  const input = h('input', {
    name: 'key',
    type: 'password',
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const status = h('div', { 'aria-live': 'polite' }, message === undefined ? null : notice(message));
  const form = h(
    'form',
    { class: 'login', 'aria-label': 'Sign in' },
    h('h1', {}, 'Switchyard'),
    h(
      'p',
      {},
      'Sign in with the gateway’s master key. It is kept in this tab only (sessionStorage) and sent as a Bearer header.',
    ),
    field('Master key', input),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    status,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = input.value.trim();
    api('admin/providers', { key })
      .then(() => {
        session.set(key);
        if (location.hash === '' || location.hash === '#/login') location.hash = '#/overview';
        render();
      })
      .catch((error: unknown) => {
        const text =
          error instanceof ApiError && (error.status === 401 || error.status === 403)
            ? `Not accepted: ${error.message}`
            : `Could not reach the gateway: ${(error as Error).message}`;
        replace(status, notice(text));
      });
  });
  replace(app, h('main', { class: 'login-page' }, form));
  input.focus();
}

function render(): void {
  if (session.get() === null) return login();
  current?.abort();
  current = new AbortController();
  const { view, rest, malformed } = readRoute(location.hash);
  const main = h('main', { id: 'main', tabindex: '-1' });
  const nav = h(
    'nav',
    { 'aria-label': 'Sections' },
    h('span', { class: 'brand' }, 'Switchyard'),
    h(
      'ul',
      {},
      ...NAV.map(([id, label]) =>
        h('li', {}, h('a', { href: `#/${id}`, 'aria-current': id === view ? 'page' : undefined }, label)),
      ),
    ),
    h('button', { type: 'button', class: 'signout', onclick: () => (session.clear(), login()) }, 'Sign out'),
  );
  replace(app, nav, main);
  const signal = current.signal;
  switch (view) {
    case 'requests':
      return requestsView(main, signal);
    case 'runs':
      if (malformed) return malformedRunLink(main);
      return runsView(main, signal, rest);
    case 'providers':
      return providersView(main, signal);
    case 'keys':
      return keysView(main, signal);
    default:
      return overviewView(main, signal);
  }
}

/** A run link whose id cannot be decoded (`#/runs/%`): says so, with the way back to the runs. */
function malformedRunLink(main: HTMLElement): void {
  replace(
    main,
    h('header', { class: 'view-head' }, h('h1', {}, 'Runs')),
    notice('This run link is not valid: its run id is not percent-encoded correctly.'),
    h('p', {}, h('a', { href: '#/runs' }, 'All runs')),
  );
}

whenUnauthorized((message) => {
  session.clear();
  login(message);
});
window.addEventListener('hashchange', render);
// signed in already (a reload): the first view's window waits for the gateway's clock. Signing in
// reads it from the answer to the key's check
if (session.get() === null) render();
else void readGatewayClock().then(render);
