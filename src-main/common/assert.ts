/**
 * Always-on assertions. A broken invariant is a bug: it stops the process (and fails the seed
 * in simulation) instead of letting corrupted state travel on.
 */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function unreachable(value: never, message = 'unreachable'): never {
  throw new AssertionError(`${message}: ${String(value)}`);
}
