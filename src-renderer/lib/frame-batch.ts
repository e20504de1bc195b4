/**
 * Coalesces a high-rate stream into at most one update per animation frame. `schedule` is
 * requestAnimationFrame in the page and a manual queue in tests.
 */
export type Schedule = (run: () => void) => void;

/** Keeps only the latest value per frame (for snapshots such as the ensemble view). */
export function latestPerFrame<T>(schedule: Schedule, apply: (value: T) => void): (value: T) => void {
  let pending = false;
  let latest: T;
  return (value: T) => {
    latest = value;
    if (pending) return;
    pending = true;
    schedule(() => {
      pending = false;
      apply(latest);
    });
  };
}

/** Collects every item per frame (for event streams such as trace events), bounded. */
export function batchPerFrame<T>(schedule: Schedule, apply: (items: T[]) => void, itemsMax = 10_000): (items: readonly T[]) => void {
  let buffer: T[] = [];
  let pending = false;
  return (items) => {
    buffer.push(...items);
    if (buffer.length > itemsMax) buffer = buffer.slice(buffer.length - itemsMax);
    if (pending) return;
    pending = true;
    schedule(() => {
      pending = false;
      const out = buffer;
      buffer = [];
      apply(out);
    });
  };
}
