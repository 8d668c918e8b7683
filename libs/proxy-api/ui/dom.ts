import { ApiError } from './api';

/** Attributes of {@link h}: strings become attributes, functions under `on*` become listeners. */
export type Attributes = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

/** A child of {@link h}: nodes as they are, text as text nodes (never parsed as HTML). */
export type Child = Node | string | number | null | undefined | false;

/** Creates an element; text is always set as text, so data from the API cannot inject markup. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

/** Appends children, skipping empty ones. */
export function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's content. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** A labelled form field (the label wraps the control, so it is always associated). */
export function field(
  label: string,
  control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement,
  hint?: string,
): HTMLLabelElement {
  return h(
    'label',
    { class: 'field' },
    h('span', {}, label),
    control,
    hint === undefined ? null : h('small', {}, hint),
  );
}

/** A `<select>` of `[value, label]` options. */
export function select(
  name: string,
  options: readonly (readonly [string, string])[],
  value: string,
): HTMLSelectElement {
  const element = h('select', { name });
  for (const [optionValue, label] of options)
    element.append(h('option', { value: optionValue, selected: optionValue === value }, label));
  return element;
}

/** A table with a caption, column headers and rows of cells. */
export function table(
  caption: string,
  headers: readonly string[],
  rows: readonly (readonly Child[])[],
  empty = 'Nothing yet.',
): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty' }, `${caption}: ${empty}`);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, ...headers.map((header) => h('th', { scope: 'col' }, header)))),
      h('tbody', {}, ...rows.map((cells) => h('tr', {}, ...cells.map((cell) => h('td', {}, cell))))),
    ),
  );
}

/** An error or status line, announced to screen readers. */
export function notice(text: string, kind: 'error' | 'info' = 'error'): HTMLElement {
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

/**
 * What a view shows when its data could not be loaded: a 404 the gateway explains (a request
 * log that is not queryable, a run with no requests) as information in its own words, anything
 * else as an error.
 */
export function loadFailure(what: string, error: unknown): HTMLElement {
  if (error instanceof ApiError && error.status === 404) return notice(error.message, 'info');
  return notice(`Could not load ${what}: ${(error as Error).message}`);
}
