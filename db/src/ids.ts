import { monotonicFactory } from 'ulid';

const nextUlid = monotonicFactory();

/** A new ULID: 26 characters, sortable by creation time, unique across processes. */
export function newId(at: number = Date.now()): string {
  return nextUlid(at);
}
