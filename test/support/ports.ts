/**
 * Free ports for tests, from the supervisor's allocator: bind-tested on 127.0.0.1 and locked
 * across processes, so suites running side by side never pick the same port. Release the
 * lease in afterAll (or let process exit clean up the lock files' owner check).
 */
import { allocatePorts } from '../../src-main/supervisor/ports';
import type { PortLease } from '../../src-main/supervisor/ports';

export type { PortLease };

/** `count` free ports held until lease.release(). */
export function freePorts(count: number): Promise<PortLease> {
  return allocatePorts(count);
}

/** One free port; hold the returned lease until the port is bound, then release it. */
export async function freePort(): Promise<{ port: number; release(): void }> {
  const lease = await allocatePorts(1);
  return { port: lease.ports[0] as number, release: () => lease.release() };
}
