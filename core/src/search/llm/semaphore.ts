/** A counting semaphore that never waits: when every slot is taken, the caller goes without. */
export interface Semaphore {
  /** A release function, or null when `max` holders are already in. */
  tryAcquire(): (() => void) | null;
  inFlight(): number;
}

/** Creates a non-blocking semaphore with `max` slots (spec §1: the LLM never queues requests up). */
export function createSemaphore(max: number): Semaphore {
  if (!Number.isInteger(max) || max < 0) throw new RangeError(`Semaphore size must be a whole number ≥ 0, got ${max}`);
  let held = 0;
  return {
    tryAcquire() {
      if (held >= max) return null;
      held += 1;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        held -= 1;
      };
    },
    inFlight: () => held,
  };
}
