/**
 * Free ports for local ensembles. A port is handed out only if (1) nobody in this process
 * holds it, (2) no other live ZooLab process holds its lock file (so suites running side by
 * side never pick the same port), and (3) a bind on 127.0.0.1 succeeds right now. Leases stay
 * held until released, so a killed server's port is not taken by someone else before it
 * restarts. Random picks come from below Linux's ephemeral range (32768+) so outgoing
 * connections do not steal them either.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZooLabError } from '../common/errors';
import { pidAlive } from './pids';

export interface PortLease {
  readonly ports: readonly number[];
  /** Give the ports back (idempotent). */
  release(): void;
}

export interface PortOptions {
  host?: string;
  /** where lock files live; default <tmpdir>/zoolab-ports */
  lockDir?: string;
  /** random picks in [rangeMin, rangeMax) */
  rangeMin?: number;
  rangeMax?: number;
  /** injectable for tests */
  random?: () => number;
}

const heldHere = new Set<number>();
const lockFiles = new Map<number, string>();

function defaultLockDir(): string {
  return join(tmpdir(), 'zoolab-ports');
}

/** Can we bind host:port right now? */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/** Take the cross-process lock for a port, clearing a lock left by a dead process. */
function tryLock(port: number, lockDir: string): boolean {
  mkdirSync(lockDir, { recursive: true });
  const path = join(lockDir, `${port}.lock`);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      lockFiles.set(port, path);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = NaN;
      try {
        owner = Number(readFileSync(path, 'utf8').trim());
      } catch {
        // being written right now or just removed: treat as held this round
        return false;
      }
      if (pidAlive(owner)) return false;
      try {
        unlinkSync(path);
      } catch {
        return false;
      }
    }
  }
  return false;
}

function unlock(port: number): void {
  const path = lockFiles.get(port);
  lockFiles.delete(port);
  heldHere.delete(port);
  if (path) {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  }
}

async function claim(port: number, o: Required<Pick<PortOptions, 'host' | 'lockDir'>>): Promise<boolean> {
  if (heldHere.has(port)) return false;
  heldHere.add(port);
  let locked = false;
  try {
    locked = tryLock(port, o.lockDir);
    if (locked && (await isPortFree(port, o.host))) return true;
  } catch {
    // fall through: not claimable
  }
  if (locked) unlock(port);
  else heldHere.delete(port);
  return false;
}

function makeLease(ports: number[]): PortLease {
  let released = false;
  return {
    ports,
    release() {
      if (released) return;
      released = true;
      for (const p of ports) unlock(p);
    },
  };
}

/** `count` free ports, picked at random. Bounded: gives up after count × 200 tries. */
export async function allocatePorts(count: number, options: PortOptions = {}): Promise<PortLease> {
  const o = { host: options.host ?? '127.0.0.1', lockDir: options.lockDir ?? defaultLockDir() };
  const min = options.rangeMin ?? 20000;
  const max = options.rangeMax ?? 32000;
  const random = options.random ?? Math.random;
  const got: number[] = [];
  const triesMax = count * 200;
  for (let tries = 0; got.length < count && tries < triesMax; tries += 1) {
    const port = min + Math.floor(random() * (max - min));
    if (await claim(port, o)) got.push(port);
  }
  if (got.length < count) {
    for (const p of got) unlock(p);
    throw new ZooLabError('PORT_IN_USE', `could not find ${count} free ports in ${min}..${max - 1} on ${o.host}`);
  }
  return makeLease(got);
}

/** Exactly these ports (e.g. from --port-base or a saved workspace); names the first busy one. */
export async function reservePorts(ports: readonly number[], options: PortOptions & { what?: (port: number) => string } = {}): Promise<PortLease> {
  const o = { host: options.host ?? '127.0.0.1', lockDir: options.lockDir ?? defaultLockDir() };
  const got: number[] = [];
  for (const port of ports) {
    if (!(port >= 1 && port <= 65535)) {
      for (const p of got) unlock(p);
      throw new ZooLabError('USAGE', `port ${port} is out of range (1..65535)`);
    }
    if (!(await claim(port, o))) {
      for (const p of got) unlock(p);
      const label = options.what ? ` (${options.what(port)})` : '';
      throw new ZooLabError('PORT_IN_USE', `port ${o.host}:${port}${label} is in use by another process; choose another port base or stop that process`);
    }
    got.push(port);
  }
  return makeLease(got);
}

/** Release every lock this process holds (called on exit). */
export function releaseAllPorts(): void {
  for (const p of [...lockFiles.keys()]) unlock(p);
}
