// The part view's read sharing: concurrent reads of one key run once; the bounded cache drops the
// least recently used entry first.
import { describe, expect, it } from 'vitest';
import { BoundedCache, SharedReads } from '../../domain/commands/read-sharing.js';

describe('SharedReads', () => {
  it('runs one read for callers of one key while it is in flight, and a new one after', async () => {
    const shared = new SharedReads<number>();
    let reads = 0;
    const read = async () => {
      reads += 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return reads;
    };
    const burst = await Promise.all([shared.run('a', read), shared.run('a', read), shared.run('b', read)]);
    expect(burst[0]).toBe(burst[1]);
    expect(reads).toBe(2);
    expect(await shared.run('a', read)).toBe(3);
  });

  it('lets a failed read fail its callers and not the next read', async () => {
    const shared = new SharedReads<string>();
    await expect(shared.run('a', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await shared.run('a', async () => 'up')).toBe('up');
  });
});

describe('BoundedCache', () => {
  it('keeps at most max entries, dropping the least recently used', () => {
    const cache = new BoundedCache<number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now the most recent
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
  });
});
