/** Recorded pids: is it alive, and is it still the server we started (not a reused pid)? */
import { readFileSync } from 'node:fs';

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Is `pid` a live `zoolab server <configPath>` process? (Linux: check its command line.) */
export function isServerProcess(pid: number | null, configPath: string): pid is number {
  if (pid === null || !pidAlive(pid)) return false;
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.split('\0').includes(configPath);
  } catch {
    return process.platform !== 'linux';
  }
}
