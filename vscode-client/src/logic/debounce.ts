// A trailing-edge debounce with an injectable clock, so restarts can be unit tested.

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Calls `fn` once, `ms` after the last trigger; `flush` runs a pending call now. */
export class Debouncer {
  private handle: unknown;
  private pending = false;

  constructor(
    private readonly fn: () => void,
    private readonly ms: number,
    private readonly timers: Timers = realTimers,
  ) {}

  trigger(): void {
    if (this.pending) {
      this.timers.clear(this.handle);
    }
    this.pending = true;
    this.handle = this.timers.set(() => {
      this.pending = false;
      this.fn();
    }, this.ms);
  }

  cancel(): void {
    if (this.pending) {
      this.timers.clear(this.handle);
      this.pending = false;
    }
  }

  get isPending(): boolean {
    return this.pending;
  }
}
