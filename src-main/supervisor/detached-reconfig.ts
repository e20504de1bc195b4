/**
 * Growing and shrinking an ensemble started with `zoolab up --reconfig --detach --dir D`,
 * through D/ensemble.json: add-server (lay out, start detached, reconfig in), remove-server
 * (reconfig out, stop, remove the folder), set-role (reconfig the server's line with the new
 * role). The same steps as Ensemble.addServer/removeServer/setRole, for servers nobody supervises.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { formatServerLine } from '../client/dynamic-config';
import { ZooLabError } from '../common/errors';
import { detachedSignalStop, loadManifest } from './detached';
import { allocatePorts } from './ports';
import { ReconfigAdmin } from './reconfig-admin';
import { ServerProcess } from './server-process';
import type { ServerProcessOptions } from './server-process';
import { clientOrder, connectionStringOf, newSlot, renderZooCfg, serverLineOf, writeManifest } from './workspace';
import type { Manifest, PeerType, ServerSlot } from './workspace';

function adminFor(m: Manifest): ReconfigAdmin {
  const r = m.settings.reconfig;
  if (r === undefined) {
    throw new ZooLabError('USAGE', `${m.dir} has a fixed membership; start an ensemble with 'zoolab up --reconfig --detach --dir D' to grow or shrink it`);
  }
  return new ReconfigAdmin(() => m.connectionString, r.superPassword);
}

function saveServers(m: Manifest, servers: Manifest['servers']): void {
  const slots = servers.map((s) => ({ ...s }));
  writeManifest(
    { dir: m.dir, settings: m.settings, servers: slots, connectionString: connectionStringOf(clientOrder(slots)) },
    new Map(servers.map((s) => [s.id, s.pid])),
    { supervisorPid: null, detached: true },
  );
}

/** Start one more server detached and reconfig it in; returns its id. */
export async function detachedAddServer(dir: string, role: PeerType, options: ServerProcessOptions = {}, timeoutMs = 60_000): Promise<number> {
  const m = loadManifest(dir);
  const admin = adminFor(m);
  try {
    const current = await admin.read();
    const id = Math.max(0, ...m.servers.map((s) => s.id), ...current.config.servers.map((s) => s.id)) + 1;
    const lease = await allocatePorts(3);
    let slot: ServerSlot;
    try {
      slot = newSlot(m.dir, id, role, lease.ports as unknown as [number, number, number]);
    } finally {
      // the ports are ours until the server binds them; the lease only guards this process's picks
      lease.release();
    }
    const own = serverLineOf(slot, true);
    writeFileSync(slot.configPath, renderZooCfg(m, slot, [...current.config.servers.map((s) => formatServerLine(s)), own]));
    const env = { ...options.env, ZOOLAB_SESSION_SECRET: m.settings.sessionSecret };
    const proc = new ServerProcess(slot, { ...options, env, detached: true, startTimeoutMs: timeoutMs }, { changed() {}, log() {} });
    await proc.start();
    const deadline = Date.now() + timeoutMs + 1000;
    while (proc.state.state === 'starting' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const pid = proc.state.pid;
    try {
      if (proc.state.state !== 'running' || pid === null) throw new ZooLabError('PROCESS_FAILED', `server ${id} did not come up: ${proc.state.lastError ?? proc.state.state}`);
      await admin.reconfig({ joining: [own] }, timeoutMs);
    } catch (e) {
      await proc.stop().catch(() => proc.killNow());
      rmSync(slot.dir, { recursive: true, force: true });
      throw e;
    }
    proc.disown();
    saveServers(m, [...m.servers, { ...slot, pid }]);
    return id;
  } finally {
    await admin.close();
  }
}

/** Reconfig server `id` out, stop it and remove its folder. */
export async function detachedRemoveServer(dir: string, id: number): Promise<void> {
  const m = loadManifest(dir);
  const slot = m.servers.find((s) => s.id === id);
  if (slot === undefined) throw new ZooLabError('NOT_FOUND', `no server ${id} in ${m.dir} (ids ${m.servers.map((s) => s.id).join(', ')})`);
  const admin = adminFor(m);
  try {
    const current = await admin.read();
    if (current.config.servers.some((s) => s.id === id)) await admin.reconfig({ leaving: [id] });
  } finally {
    await admin.close();
  }
  await detachedSignalStop(dir, id, 'stop');
  rmSync(slot.dir, { recursive: true, force: true });
  const after = loadManifest(dir);
  saveServers(after, after.servers.filter((s) => s.id !== id));
}

/** Make server `id` an observer, or a voter again. */
export async function detachedSetRole(dir: string, id: number, role: PeerType): Promise<void> {
  const m = loadManifest(dir);
  if (!m.servers.some((s) => s.id === id)) throw new ZooLabError('NOT_FOUND', `no server ${id} in ${m.dir} (ids ${m.servers.map((s) => s.id).join(', ')})`);
  const admin = adminFor(m);
  try {
    const current = await admin.read();
    const member = current.config.servers.find((s) => s.id === id);
    if (member === undefined) throw new ZooLabError('USAGE', `server ${id} is not in the configuration; add it first`);
    if (member.role !== role) await admin.reconfig({ joining: [formatServerLine({ ...member, role })] });
  } finally {
    await admin.close();
  }
  saveServers(m, m.servers.map((s) => (s.id === id ? { ...s, type: role } : s)));
}
