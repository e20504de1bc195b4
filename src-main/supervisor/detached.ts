/**
 * Acting on an ensemble started with `zoolab up --detach`, through D/ensemble.json: status,
 * kill, restart, pause, resume, down. Before signalling a recorded pid we check that the
 * process is still that server (its command line names the server's zoo.cfg), so a reused
 * pid is never hit.
 */
import { readFileSync } from 'node:fs';
import type { ServerRole, ServerState } from '../api/contract';
import { ZooLabError } from '../common/errors';
import { parseSrvr } from '../node/four-letter-words';
import { askFourLetterWord } from './four-letter-client';
import { isServerProcess as isServerProcessAt, pidAlive } from './pids';
import { ServerProcess } from './server-process';
import type { ServerProcessOptions } from './server-process';
import { readManifest, writeManifest } from './workspace';
import type { Manifest, ServerSlot } from './workspace';

export interface DetachedStatus {
  id: number;
  pid: number | null;
  state: ServerState;
  paused: boolean;
  role: ServerRole | null;
  zxid: string | null;
  clientPort: number;
}

function isServerProcess(pid: number | null, slot: ServerSlot): pid is number {
  return isServerProcessAt(pid, slot.configPath);
}

function processStateLetter(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

export function loadManifest(dir: string): Manifest {
  const m = readManifest(dir);
  if (!m) throw new ZooLabError('NOT_FOUND', `${dir} holds no ZooLab ensemble (no ensemble.json); start one with 'zoolab up --detach --dir ${dir}'`);
  return m;
}

function slotOf(m: Manifest, id: number): Manifest['servers'][number] {
  const s = m.servers.find((x) => x.id === id);
  if (!s) throw new ZooLabError('NOT_FOUND', `no server ${id} in ${m.dir} (ids ${m.servers.map((x) => x.id).join(', ')})`);
  return s;
}

function save(m: Manifest, pids: Map<number, number | null>): void {
  writeManifest({ dir: m.dir, settings: m.settings, servers: m.servers, connectionString: m.connectionString }, pids, { supervisorPid: null, detached: true });
}

function pidsOf(m: Manifest): Map<number, number | null> {
  return new Map(m.servers.map((s) => [s.id, s.pid]));
}

export async function detachedStatus(dir: string): Promise<DetachedStatus[]> {
  const m = loadManifest(dir);
  return Promise.all(
    m.servers.map(async (s): Promise<DetachedStatus> => {
      const base = { id: s.id, clientPort: s.clientPort };
      if (!isServerProcess(s.pid, s)) return { ...base, pid: null, state: 'stopped', paused: false, role: null, zxid: null };
      const paused = processStateLetter(s.pid) === 'T';
      if (paused) return { ...base, pid: s.pid, state: 'running', paused, role: null, zxid: null };
      try {
        const r = parseSrvr(await askFourLetterWord(s.host, s.clientPort, 'srvr', 1500));
        const role = (r.serving ? (r.mode as ServerRole) : 'looking') ?? 'unknown';
        return { ...base, pid: s.pid, state: 'running', paused, role, zxid: r.zxid === null ? null : `0x${r.zxid.toString(16)}` };
      } catch {
        return { ...base, pid: s.pid, state: 'starting', paused, role: null, zxid: null };
      }
    }),
  );
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!pidAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !pidAlive(pid);
}

/** SIGKILL (kill) or SIGTERM then SIGKILL (stop) one recorded server. */
export async function detachedSignalStop(dir: string, id: number, how: 'kill' | 'stop', stopTimeoutMs = 5000): Promise<boolean> {
  const m = loadManifest(dir);
  const s = slotOf(m, id);
  const pids = pidsOf(m);
  if (!isServerProcess(s.pid, s)) {
    pids.set(id, null);
    save(m, pids);
    return false;
  }
  const pid = s.pid;
  if (how === 'kill') process.kill(pid, 'SIGKILL');
  else {
    process.kill(pid, 'SIGCONT');
    process.kill(pid, 'SIGTERM');
    if (!(await waitGone(pid, stopTimeoutMs))) process.kill(pid, 'SIGKILL');
  }
  await waitGone(pid, 5000);
  pids.set(id, null);
  save(m, pids);
  return true;
}

export function detachedPause(dir: string, id: number, pause: boolean): void {
  const m = loadManifest(dir);
  const s = slotOf(m, id);
  if (!isServerProcess(s.pid, s)) throw new ZooLabError('NOT_FOUND', `server ${id} is not running`);
  process.kill(s.pid, pause ? 'SIGSTOP' : 'SIGCONT');
}

/** Stop server `id` if it runs, start it again detached, wait until it answers srvr. */
export async function detachedRestart(dir: string, id: number, options: ServerProcessOptions = {}, timeoutMs = 30_000): Promise<number> {
  await detachedSignalStop(dir, id, 'stop');
  const m = loadManifest(dir);
  const slot = slotOf(m, id);
  const env = { ...options.env, ZOOLAB_SESSION_SECRET: m.settings.sessionSecret };
  const proc = new ServerProcess(slot, { ...options, env, detached: true, startTimeoutMs: timeoutMs }, { changed() {}, log() {} });
  await proc.start();
  const deadline = Date.now() + timeoutMs + 1000;
  while (proc.state.state === 'starting' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const st = proc.state;
  if (st.state !== 'running' || st.pid === null) {
    throw new ZooLabError('PROCESS_FAILED', `server ${id} did not come up: ${st.lastError ?? st.state}`);
  }
  proc.disown();
  const pids = pidsOf(m);
  pids.set(id, st.pid);
  save(m, pids);
  return st.pid;
}

/** Stop every recorded server. Returns how many were running. */
export async function detachedDown(dir: string): Promise<number> {
  const m = loadManifest(dir);
  const results = await Promise.all(m.servers.map((s) => detachedSignalStop(dir, s.id, 'stop')));
  // each call saved its own pid; write once more so all are null
  save(loadManifest(dir), new Map(m.servers.map((s) => [s.id, null])));
  return results.filter(Boolean).length;
}
