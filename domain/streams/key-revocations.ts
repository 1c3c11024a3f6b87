// Revoking an API key ends the streams opened with it, not only the requests that come after: in
// the revoking process at once (this registry of open streams by key id), and in every other API
// process at the latest before its next batch of events goes out (each stream asks SQL again before
// it sends, and every few seconds while idle).
import { isApiKeyActive } from '../../db/api-keys.js';
import type { Db } from '../../db/client.js';

/** How often an idle stream asks SQL whether its key still works (default). */
export const KEY_RECHECK_MS = 5_000;

/** The open streams of this process, by the id of the key each was opened with. */
export class KeyRevocations {
  private readonly watchers = new Map<number, Set<() => void>>();

  /** Calls `onRevoked` once when key `keyId` is revoked in this process; returns the unwatch. */
  watch(keyId: number, onRevoked: () => void): () => void {
    let set = this.watchers.get(keyId);
    if (!set) this.watchers.set(keyId, (set = new Set()));
    set.add(onRevoked);
    return () => {
      set.delete(onRevoked);
      if (set.size === 0 && this.watchers.get(keyId) === set) this.watchers.delete(keyId);
    };
  }

  /** Key `keyId` was revoked: its streams close now. */
  revoked(keyId: number): void {
    const set = this.watchers.get(keyId);
    this.watchers.delete(keyId);
    for (const onRevoked of set ?? []) onRevoked();
  }

  /** Open streams watched (for tests and metrics). */
  get size(): number {
    let n = 0;
    for (const set of this.watchers.values()) n += set.size;
    return n;
  }
}

/** One stream's key: told at once by the registry, and asked in SQL before each batch it sends. */
export class StreamKey {
  private revoked = false;
  private lastCheck = Date.now();
  private readonly unwatch: () => void;

  constructor(
    private readonly db: Db,
    private readonly keyId: number,
    registry: KeyRevocations,
    onRevoked: () => void,
    private readonly recheckMs = KEY_RECHECK_MS,
  ) {
    this.unwatch = registry.watch(keyId, () => {
      this.revoked = true;
      onRevoked();
    });
  }

  /**
   * Whether the stream may go on: asked in SQL every time before events go out (`sending`), since
   * another process may have revoked the key, and at most every `recheckMs` while idle.
   */
  async stillValid(sending: boolean): Promise<boolean> {
    if (this.revoked) return false;
    if (!sending && Date.now() - this.lastCheck < this.recheckMs) return true;
    this.lastCheck = Date.now();
    if (!(await isApiKeyActive(this.db, this.keyId))) this.revoked = true;
    return !this.revoked;
  }

  /** The stream ended: stop watching. */
  close(): void {
    this.unwatch();
  }
}
