import { SwitchyardError } from '../errors/switchyard-error';
import type { ProviderFactory } from './provider-adapter';

/** The set of provider factories a gateway knows, filled through `hooks.registerProviders`. */
export class ProviderRegistry {
  readonly #factories = new Map<string, ProviderFactory>();

  /** Adds a factory; a second factory for the same type is a `duplicate_registration` error. */
  register<TOptions extends object>(factory: ProviderFactory<TOptions>): void {
    if (this.#factories.has(factory.type)) {
      throw new SwitchyardError(
        'duplicate_registration',
        `Provider type "${factory.type}" is already registered.`,
      );
    }
    this.#factories.set(factory.type, factory as unknown as ProviderFactory);
  }

  /** The factory for a type, if registered. */
  get(type: string): ProviderFactory | undefined {
    return this.#factories.get(type);
  }

  /** Registered type names, sorted. */
  types(): string[] {
    return [...this.#factories.keys()].sort();
  }
}
