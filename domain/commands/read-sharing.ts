// Two small tools that let many concurrent reads share work: reads of one key in flight at once
// share one result, and a bounded map keeps results whose key says they cannot have changed.

/** Runs `read` once for all callers asking for the same key while it is in flight. */
export class SharedReads<T> {
  private readonly running = new Map<string, Promise<T>>();

  run(key: string, read: () => Promise<T>): Promise<T> {
    const running = this.running.get(key);
    if (running) return running;
    const started = read().finally(() => this.running.delete(key));
    this.running.set(key, started);
    return started;
  }
}

/** A map of at most `max` entries; the least recently used one goes first. */
export class BoundedCache<T> {
  private readonly entries = new Map<string, T>();

  constructor(private readonly max: number) {}

  get(key: string): T | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: T): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }
}
