/**
 * An ensemble workspace on disk, laid out exactly as ZooKeeper is deployed, so a person can
 * open it and read it (and point Apache ZooKeeper at it):
 *
 *   <dir>/ensemble.json                 what ZooLab knows: ports, pids, settings
 *   <dir>/server<N>/zoo.cfg             a plain zoo.cfg with every server.N line
 *   <dir>/server<N>/data/myid           N
 *   <dir>/server<N>/logs/server.log     the server's log lines
 *
 * Reopening a directory keeps its data and ids (and its ports when they are still free).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { ZooLabError } from '../common/errors';
import { isServerProcess } from './pids';
import { allocatePorts, reservePorts } from './ports';
import type { PortLease, PortOptions } from './ports';

export type PeerType = 'participant' | 'observer';

export interface WorkspaceSettings {
  /** shared by the servers so any of them can check a session's password (hex) */
  sessionSecret?: string;
  tickTimeMs: number;
  initLimit: number;
  syncLimit: number;
  /** extra zoo.cfg lines (key → value), written into every server's zoo.cfg */
  cfg: Record<string, string>;
  /**
   * dynamic reconfiguration: every zoo.cfg gets reconfigEnabled=true, standaloneEnabled=false and
   * a super digest whose password (hex) only the supervisor knows, so it may issue reconfig
   * (which needs WRITE on /zookeeper/config). Absent: a fixed membership.
   */
  reconfig?: { superPassword: string };
}

export interface ServerSlot {
  id: number;
  type: PeerType;
  host: string;
  clientPort: number;
  quorumPort: number;
  electionPort: number;
  dir: string;
  dataDir: string;
  configPath: string;
  logPath: string;
}

export interface Manifest {
  format: 'zoolab-ensemble/1';
  dir: string;
  connectionString: string;
  settings: WorkspaceSettings;
  servers: (ServerSlot & { pid: number | null })[];
  /** the supervising process (null once it has handed over with --detach) */
  supervisorPid: number | null;
  detached: boolean;
  updatedAt: string;
}

export interface Workspace {
  dir: string;
  settings: WorkspaceSettings;
  servers: ServerSlot[];
  connectionString: string;
  /** ports held for this ensemble; release when it is torn down */
  lease: PortLease;
  /** true when the directory already held this ensemble (data kept) */
  reopened: boolean;
}

export interface WorkspaceOptions {
  dir: string;
  servers: number;
  observers?: number;
  /** client ports base+0.., quorum ports base+100.., election ports base+200.. */
  portBase?: number;
  tickTimeMs?: number;
  initLimit?: number;
  syncLimit?: number;
  cfg?: Record<string, string>;
  /** dynamic membership (addServer / removeServer / setRole); see WorkspaceSettings.reconfig */
  reconfig?: boolean;
  ports?: PortOptions;
}

/** zoo.cfg keys the workspace owns: setting them with --cfg would break the layout. */
const OWNED_KEYS = new Set(['dataDir', 'dataLogDir', 'clientPort', 'clientPortAddress', 'dynamicConfigFile']);

export const MANIFEST_NAME = 'ensemble.json';
export const HOST = '127.0.0.1';

export function validateCfgOverrides(cfg: Record<string, string>): void {
  for (const key of Object.keys(cfg)) {
    if (OWNED_KEYS.has(key) || /^server\.\d+$/.test(key) || key === 'peerType') {
      throw new ZooLabError('USAGE', `--cfg ${key}=…: ZooLab writes ${key} itself for each server; leave it out`);
    }
    if (!/^[A-Za-z0-9_.-]+$/.test(key)) throw new ZooLabError('USAGE', `--cfg ${key}: not a zoo.cfg key`);
    if (/[\r\n]/.test(cfg[key] ?? '')) throw new ZooLabError('USAGE', `--cfg ${key}: the value must be one line`);
  }
}

export function readManifest(dir: string): Manifest | null {
  const path = join(resolve(dir), MANIFEST_NAME);
  if (!existsSync(path)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ZooLabError('CONFIG_INVALID', `${path} is not valid JSON (${(e as Error).message}); move it away to start afresh`, { cause: e });
  }
  const m = parsed as Partial<Manifest>;
  if (m.format !== 'zoolab-ensemble/1' || !Array.isArray(m.servers)) {
    throw new ZooLabError('CONFIG_INVALID', `${path} is not a ZooLab ensemble manifest`);
  }
  return m as Manifest;
}

export function writeManifest(ws: Pick<Workspace, 'dir' | 'settings' | 'servers' | 'connectionString'>, pids: ReadonlyMap<number, number | null>, extra: { supervisorPid: number | null; detached: boolean }): void {
  const manifest: Manifest = {
    format: 'zoolab-ensemble/1',
    dir: ws.dir,
    connectionString: ws.connectionString,
    settings: ws.settings,
    servers: ws.servers.map((s) => ({ ...s, pid: pids.get(s.id) ?? null })),
    supervisorPid: extra.supervisorPid,
    detached: extra.detached,
    updatedAt: new Date().toISOString(),
  };
  const path = join(ws.dir, MANIFEST_NAME);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(tmp, path);
}

/** The digest ZooKeeper compares `addauth digest super:<password>` against (DigestAuthenticationProvider). */
export function superDigestOf(password: string): string {
  return `super:${createHash('sha1').update(`super:${password}`).digest('base64')}`;
}

/** `server.N=host:quorum:election[:observer];host:client`, as the workspace writes it */
export function serverLineOf(peer: Pick<ServerSlot, 'id' | 'type' | 'host' | 'quorumPort' | 'electionPort' | 'clientPort'>, withRole = false): string {
  const type = peer.type === 'observer' ? ':observer' : withRole ? ':participant' : '';
  return `server.${peer.id}=${peer.host}:${peer.quorumPort}:${peer.electionPort}${type};${peer.host}:${peer.clientPort}`;
}

/**
 * One server's zoo.cfg. `serverLines` replaces the workspace's own server.N lines: a server
 * joining by reconfig starts from the current membership (as /zookeeper/config has it) plus itself.
 */
export function renderZooCfg(ws: Pick<Workspace, 'settings' | 'servers'>, slot: ServerSlot, serverLines?: readonly string[]): string {
  const s = ws.settings;
  const lines = [
    `# zoo.cfg for server ${slot.id} of a ZooLab ensemble: a plain ZooKeeper config.`,
    '# ZooLab rewrites this file when the ensemble starts; add settings with `zoolab up --cfg key=value`.',
    `tickTime=${s.tickTimeMs}`,
    `initLimit=${s.initLimit}`,
    `syncLimit=${s.syncLimit}`,
    `dataDir=${slot.dataDir}`,
    '4lw.commands.whitelist=*',
    'admin.enableServer=false',
  ];
  if (slot.type === 'observer') lines.push('peerType=observer');
  if (s.reconfig !== undefined) {
    lines.push('reconfigEnabled=true', 'standaloneEnabled=false', `DigestAuthenticationProvider.superDigest=${superDigestOf(s.reconfig.superPassword)}`);
  }
  for (const [k, v] of Object.entries(s.cfg)) lines.push(`${k}=${v}`);
  lines.push(...(serverLines ?? ws.servers.map((peer) => serverLineOf(peer))));
  return `${lines.join('\n')}\n`;
}

function slotPaths(dir: string, id: number): Pick<ServerSlot, 'dir' | 'dataDir' | 'configPath' | 'logPath'> {
  const sdir = join(dir, `server${id}`);
  return { dir: sdir, dataDir: join(sdir, 'data'), configPath: join(sdir, 'zoo.cfg'), logPath: join(sdir, 'logs', 'server.log') };
}

export function connectionStringOf(servers: readonly ServerSlot[]): string {
  return servers.map((s) => `${s.host}:${s.clientPort}`).join(',');
}

/** Voters first, then observers: the order of the connection string. */
export function clientOrder(servers: readonly ServerSlot[]): ServerSlot[] {
  return servers.filter((s) => s.type === 'participant').concat(servers.filter((s) => s.type === 'observer'));
}

/** The folder of a server that joins a running workspace (its zoo.cfg is written by the caller). */
export function newSlot(dir: string, id: number, type: PeerType, ports: readonly [number, number, number]): ServerSlot {
  const slot: ServerSlot = { id, type, host: HOST, clientPort: ports[0], quorumPort: ports[1], electionPort: ports[2], ...slotPaths(resolve(dir), id) };
  mkdirSync(slot.dataDir, { recursive: true });
  mkdirSync(join(slot.dir, 'logs'), { recursive: true });
  writeFileSync(join(slot.dataDir, 'myid'), `${id}\n`);
  return slot;
}

/**
 * Create or reopen the workspace at options.dir and hold its ports. Writes every zoo.cfg and
 * myid. Throws ZooLabError for a bad size, ports in use (with --port-base) or an unreadable dir.
 */
export async function prepareWorkspace(options: WorkspaceOptions): Promise<Workspace> {
  const dir = resolve(options.dir);
  const participants = options.servers;
  const observers = options.observers ?? 0;
  if (!Number.isInteger(participants) || participants < 1 || participants > 9) {
    throw new ZooLabError('USAGE', `an ensemble has 1 to 9 voting servers (1, 3, 5 or 7 make sense); got ${participants}`);
  }
  if (!Number.isInteger(observers) || observers < 0 || observers > 9) throw new ZooLabError('USAGE', `0 to 9 observers; got ${observers}`);
  const cfg = options.cfg ?? {};
  validateCfgOverrides(cfg);
  let total = participants + observers;

  const previous = readManifest(dir);
  const stillRunning = (previous?.servers ?? []).filter((s) => isServerProcess(s.pid, s.configPath));
  if (stillRunning.length > 0) {
    const list = stillRunning.map((s) => `server ${s.id} (pid ${s.pid})`).join(', ');
    throw new ZooLabError('USAGE', `${dir} is in use: ${list} still running; 'zoolab down --dir ${dir}' stops them`);
  }
  // a dynamic workspace's membership is what reconfig made it: reopened as it is, whatever size was asked
  if (previous?.settings.reconfig !== undefined) total = previous.servers.length;
  if (previous && previous.servers.length !== total) {
    throw new ZooLabError(
      'USAGE',
      `${dir} already holds an ensemble of ${previous.servers.length} servers; use -n ${previous.servers.length}, or another --dir for ${total} servers`,
    );
  }
  const settings: WorkspaceSettings = {
    sessionSecret: previous?.settings.sessionSecret ?? randomBytes(32).toString('hex'),
    tickTimeMs: options.tickTimeMs ?? previous?.settings.tickTimeMs ?? 2000,
    initLimit: options.initLimit ?? previous?.settings.initLimit ?? 10,
    syncLimit: options.syncLimit ?? previous?.settings.syncLimit ?? 5,
    cfg: { ...(previous?.settings.cfg ?? {}), ...cfg },
    ...(previous?.settings.reconfig !== undefined || options.reconfig === true
      ? { reconfig: previous?.settings.reconfig ?? { superPassword: randomBytes(16).toString('hex') } }
      : {}),
  };
  for (const [k, v] of [['tickTime', settings.tickTimeMs], ['initLimit', settings.initLimit], ['syncLimit', settings.syncLimit]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ZooLabError('USAGE', `${k} must be a positive whole number; got ${v}`);
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new ZooLabError('DATADIR_NOT_WRITABLE', `cannot create the ensemble folder ${dir}: ${(e as Error).message}`, { cause: e });
  }

  // a reopened workspace keeps its ids and roles (servers added, removed or flipped by reconfig)
  const prevSorted = previous?.servers.slice().sort((a, b) => a.id - b.id) ?? null;
  const ids = prevSorted?.map((s) => s.id) ?? Array.from({ length: total }, (_, i) => i + 1);
  const typeOf = (id: number): PeerType => prevSorted?.find((s) => s.id === id)?.type ?? (id > participants ? 'observer' : 'participant');
  const label = (port: number, ports: number[]): string => {
    const i = ports.indexOf(port);
    const id = ids[i % total] ?? 0;
    return ['client port', 'quorum port', 'election port'][Math.floor(i / total)] + ` of server ${id}`;
  };

  let lease: PortLease;
  let wanted: number[] | null = null;
  if (options.portBase !== undefined) {
    const b = options.portBase;
    wanted = [...ids.map((id) => b + id - 1), ...ids.map((id) => b + 100 + id - 1), ...ids.map((id) => b + 200 + id - 1)];
    const w = wanted;
    lease = await reservePorts(w, { ...options.ports, what: (p) => label(p, w) });
  } else if (previous) {
    const prev = previous.servers.slice().sort((a, b) => a.id - b.id);
    const w = [...prev.map((s) => s.clientPort), ...prev.map((s) => s.quorumPort), ...prev.map((s) => s.electionPort)];
    try {
      lease = await reservePorts(w, options.ports);
      wanted = w;
    } catch {
      // the old ports are taken now: data and ids matter, ports do not
      lease = await allocatePorts(total * 3, options.ports);
    }
  } else {
    lease = await allocatePorts(total * 3, options.ports);
  }
  const ports = wanted ?? [...lease.ports];

  const servers: ServerSlot[] = ids.map((id, i) => ({
    id,
    type: typeOf(id),
    host: HOST,
    clientPort: ports[i] as number,
    quorumPort: ports[total + i] as number,
    electionPort: ports[2 * total + i] as number,
    ...slotPaths(dir, id),
  }));
  const ws: Workspace = { dir, settings, servers, connectionString: connectionStringOf(clientOrder(servers)), lease, reopened: previous !== null };
  try {
    for (const slot of servers) {
      mkdirSync(slot.dataDir, { recursive: true });
      mkdirSync(join(slot.dir, 'logs'), { recursive: true });
      writeFileSync(join(slot.dataDir, 'myid'), `${slot.id}\n`);
      writeFileSync(slot.configPath, renderZooCfg(ws, slot));
    }
    writeManifest(ws, new Map(), { supervisorPid: process.pid, detached: false });
  } catch (e) {
    lease.release();
    throw new ZooLabError('DATADIR_NOT_WRITABLE', `cannot write the ensemble folder ${dir}: ${(e as Error).message}`, { cause: e });
  }
  return ws;
}
