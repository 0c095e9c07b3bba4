import { describe, expect, it } from 'vitest';
import { createLruCache } from './query-cache.ts';
import { createSemaphore } from './semaphore.ts';

describe('createLruCache', () => {
  it('forgets entries after their time to live', () => {
    let clock = 0;
    const cache = createLruCache({ now: () => clock });
    cache.set('a', 'one', 60);
    clock = 59_999;
    expect(cache.get('a')).toBe('one');
    clock = 60_000;
    expect(cache.get('a')).toBeNull();
  });

  it('evicts the least recently used entry when full', () => {
    const cache = createLruCache({ maxEntries: 2 });
    cache.set('a', '1', 60);
    cache.set('b', '2', 60);
    expect(cache.get('a')).toBe('1');
    cache.set('c', '3', 60);
    expect(cache.get('b')).toBeNull();
    expect(cache.get('a')).toBe('1');
    expect(cache.get('c')).toBe('3');
    expect(cache.size()).toBe(2);
  });
});

describe('createSemaphore', () => {
  it('hands out at most max slots and takes each back once', () => {
    const semaphore = createSemaphore(2);
    const first = semaphore.tryAcquire();
    const second = semaphore.tryAcquire();
    expect(first).not.toBeNull();
    expect(second).not.toBeNull();
    expect(semaphore.tryAcquire()).toBeNull();
    first?.();
    first?.();
    expect(semaphore.inFlight()).toBe(1);
    expect(semaphore.tryAcquire()).not.toBeNull();
    expect(semaphore.tryAcquire()).toBeNull();
  });

  it('with no slots never lets anyone in', () => {
    expect(createSemaphore(0).tryAcquire()).toBeNull();
    expect(() => createSemaphore(-1)).toThrow(RangeError);
  });
});
