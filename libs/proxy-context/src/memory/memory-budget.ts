import { SwitchyardError } from '@switchyard/proxy-core';

/** Counters of one structure that holds memory under a {@link MemoryBudget}. */
export interface MemoryAccountStats {
  /** Bytes currently held. */
  usedBytes: number;
  /** The account's own ceiling in bytes. */
  maxBytes: number;
  /** Entries dropped to make room (least recently used first). */
  evictions: number;
  /** Reservations refused because the account or the whole budget was full. */
  rejections: number;
}

/** A snapshot of the budget and every account in it, for metrics. */
export interface MemoryBudgetStats {
  maxBytes: number;
  usedBytes: number;
  accounts: Record<string, MemoryAccountStats>;
}

/**
 * One structure's share of a {@link MemoryBudget}: reserve before holding bytes, release after,
 * close when the structure is done with it.
 */
export interface MemoryAccount {
  readonly name: string;
  /** The account's ceiling in bytes (never above the budget's). */
  readonly maxBytes: number;
  /** Bytes currently held. */
  readonly usedBytes: number;
  /** Whether {@link MemoryAccount.close} was called. */
  readonly closed: boolean;
  /**
   * Takes `bytes` from the account and the budget; false (and nothing taken) when either is
   * full, and always once the account is closed.
   */
  reserve(bytes: number): boolean;
  /** Gives back bytes taken with `reserve`; nothing once the account is closed (closing gave them all back). */
  release(bytes: number): void;
  /** Records entries dropped to make room. */
  countEviction(count?: number): void;
  /**
   * Gives every byte the account holds back to the budget and removes the account from it (its
   * name may be opened again, its counters leave `stats()`). Afterwards the account refuses
   * every reservation and ignores releases, so a holder still finishing work (a request in
   * flight) neither takes memory nor gives back bytes twice. Closing again does nothing.
   */
  close(): void;
}

class Account implements MemoryAccount {
  usedBytes = 0;
  evictions = 0;
  rejections = 0;
  closed = false;

  constructor(
    readonly name: string,
    readonly maxBytes: number,
    private readonly budget: MemoryBudget,
    private readonly unregister: () => void,
  ) {}

  reserve(bytes: number): boolean {
    if (this.closed) return false;
    if (this.usedBytes + bytes > this.maxBytes || !this.budget.take(bytes)) {
      this.rejections += 1;
      return false;
    }
    this.usedBytes += bytes;
    return true;
  }

  release(bytes: number): void {
    const released = Math.min(bytes, this.usedBytes);
    this.usedBytes -= released;
    this.budget.give(released);
  }

  countEviction(count = 1): void {
    if (!this.closed) this.evictions += count;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // usedBytes is 0 from here on, so a later release gives nothing back
    this.release(this.usedBytes);
    this.unregister();
  }
}

/** Why a budget of `maxBytes` would be refused, else undefined. */
export function memoryBudgetProblem(maxBytes: number): string | undefined {
  return Number.isSafeInteger(maxBytes) && maxBytes > 0
    ? undefined
    : `maxBytes must be a positive integer (got ${String(maxBytes)})`;
}

/**
 * One memory budget for the caches and queues of a process. Each structure opens an
 * account with its own ceiling and reserves bytes before holding them, so the sum never
 * passes `maxBytes` whatever the traffic, and closes it when it is closed (giving its bytes
 * back). Sizes are estimates of the serialised data held.
 * @example
 * const budget = new MemoryBudget({ maxBytes: 256 * 1024 * 1024 });
 * const cache = createResponseCache({ memory: { maxBytes: 64 * 1024 * 1024 }, budget });
 */
export class MemoryBudget {
  readonly maxBytes: number;
  #used = 0;
  readonly #accounts = new Map<string, Account>();

  constructor(options: { /** The ceiling of every account together, in bytes. */ maxBytes: number }) {
    const problem = memoryBudgetProblem(options.maxBytes);
    if (problem !== undefined) throw new SwitchyardError('invalid_options', `MemoryBudget: ${problem}.`);
    this.maxBytes = options.maxBytes;
  }

  /** Bytes held by every account together. */
  get usedBytes(): number {
    return this.#used;
  }

  /**
   * Opens an account capped at `maxBytes` (and by the budget). Names are unique among the open
   * accounts: a closed account's name may be opened again.
   */
  account(name: string, maxBytes: number = this.maxBytes): MemoryAccount {
    if (this.#accounts.has(name))
      throw new SwitchyardError(
        'duplicate_registration',
        `A memory account named "${name}" is already open in this budget (close it first).`,
      );
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
      throw new SwitchyardError(
        'invalid_options',
        `Memory account "${name}": maxBytes must be a positive integer (got ${String(maxBytes)}).`,
      );
    }
    const account = new Account(name, Math.min(maxBytes, this.maxBytes), this, () => {
      this.#accounts.delete(name);
    });
    this.#accounts.set(name, account);
    return account;
  }

  /** Counters of the budget and each open account (for metrics). */
  stats(): MemoryBudgetStats {
    const accounts: Record<string, MemoryAccountStats> = {};
    for (const [name, account] of this.#accounts) {
      accounts[name] = {
        usedBytes: account.usedBytes,
        maxBytes: account.maxBytes,
        evictions: account.evictions,
        rejections: account.rejections,
      };
    }
    return { maxBytes: this.maxBytes, usedBytes: this.#used, accounts };
  }

  /** @internal */
  take(bytes: number): boolean {
    if (this.#used + bytes > this.maxBytes) return false;
    this.#used += bytes;
    return true;
  }

  /** @internal */
  give(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
  }
}
