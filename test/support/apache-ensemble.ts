/**
 * An Apache ZooKeeper 3.8 ensemble with dynamic reconfiguration on (reconfigEnabled=true,
 * standaloneEnabled=false), for the reconfig tests and compat runs: one folder per server
 * (zoo.cfg, data/myid), server lines in the 3.5+ form
 * `server.N=127.0.0.1:quorum:election:role;127.0.0.1:client` (ZooKeeper moves them to
 * zoo.cfg.dynamic.<version> at start), `java … QuorumPeerMain zoo.cfg` per server.
 *
 * Reconfig checks WRITE on /zookeeper/config: `skipAcl` starts the JVMs with
 * -Dzookeeper.skipACL=yes; `superDigest` (digest of `super:<password>`) sets
 * -Dzookeeper.DigestAuthenticationProvider.superDigest so a client that did
 * `addauth digest super:<password>` may reconfig.
 *
 * `prepareServer(id)` lays out a joining server as ZooKeeper's manual says: its dynamic config is
 * the current membership plus itself; `start(id)` runs it; the caller then issues
 * `reconfig -add <serverLine>`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apacheZooKeeperAvailability, sendFourLetterWord } from './apache-zookeeper';
import { freePorts, type PortLease } from './ports';
import { waitUntil } from './processes';

const ZOOKEEPER_JAR = process.env.APACHE_ZOOKEEPER_JAR ?? '/usr/share/java/zookeeper.jar';
const CONF_DIR = '/etc/zookeeper/conf';

export interface ApacheEnsembleOptions {
  /** servers started at once (ids 1..size), default 3 */
  size?: number;
  tickTimeMs?: number;
  skipAcl?: boolean;
  /** `super:<base64 sha1>` (see digestAuthId in src-main/client) */
  superDigest?: string;
  extraConfig?: Record<string, string>;
  startTimeoutMs?: number;
}

export interface ApacheServerSlot {
  id: number;
  clientPort: number;
  quorumPort: number;
  electionPort: number;
  role: 'participant' | 'observer';
}

export interface ApacheEnsemble {
  available: true;
  /** connect string of the servers started so far */
  connectString(ids?: number[]): string;
  slot(id: number): ApacheServerSlot;
  /** `server.N=127.0.0.1:q:e:role;127.0.0.1:c` (the text reconfig -add takes) */
  serverLine(id: number, role?: 'participant' | 'observer'): string;
  /** reserves ports and writes the folder of a server that will join (dynamic config: `members` + itself) */
  prepareServer(id: number, members: number[], role?: 'participant' | 'observer'): Promise<ApacheServerSlot>;
  start(id: number): void;
  /** SIGKILL one server and wait for its exit */
  kill(id: number): Promise<void>;
  alive(id: number): boolean;
  /** srvr's Mode line ('leader', 'follower', 'observer', …) or null when it does not answer */
  mode(id: number): Promise<string | null>;
  /** waits until every given server answers srvr with a serving mode */
  waitServing(ids: number[], timeoutMs?: number): Promise<void>;
  /** the one server saying leader among `ids` (waits, deadline) */
  leader(ids: number[], timeoutMs?: number): Promise<number>;
  output(id: number): string;
  stop(): Promise<void>;
}

export type ApacheEnsembleStart = ApacheEnsemble | { available: false; reason: string };

function waitExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export async function startApacheReconfigEnsemble(options: ApacheEnsembleOptions = {}): Promise<ApacheEnsembleStart> {
  const availability = apacheZooKeeperAvailability();
  if (!availability.available) return availability;
  const size = options.size ?? 3;
  const dir = mkdtempSync(join(tmpdir(), 'zoolab-apache-reconfig-'));
  const slots = new Map<number, ApacheServerSlot>();
  const leases: PortLease[] = [];
  const children = new Map<number, ChildProcess>();
  const logs = new Map<number, string>();
  const classpath = existsSync(CONF_DIR) ? `${CONF_DIR}:${ZOOKEEPER_JAR}` : ZOOKEEPER_JAR;

  const serverLine = (id: number, role?: 'participant' | 'observer'): string => {
    const s = slots.get(id);
    if (s === undefined) throw new Error(`no server ${id}`);
    return `server.${id}=127.0.0.1:${s.quorumPort}:${s.electionPort}:${role ?? s.role};127.0.0.1:${s.clientPort}`;
  };

  const writeFolder = (id: number, members: number[]): void => {
    const sdir = join(dir, `server${id}`);
    mkdirSync(join(sdir, 'data'), { recursive: true });
    writeFileSync(join(sdir, 'data', 'myid'), `${id}\n`);
    const lines = [
      `tickTime=${options.tickTimeMs ?? 500}`,
      'initLimit=10',
      'syncLimit=5',
      `dataDir=${join(sdir, 'data')}`,
      'reconfigEnabled=true',
      'standaloneEnabled=false',
      '4lw.commands.whitelist=*',
      ...Object.entries(options.extraConfig ?? {}).map(([k, v]) => `${k}=${v}`),
      ...[...new Set([...members, id])].sort((a, b) => a - b).map((m) => serverLine(m)),
    ];
    writeFileSync(join(sdir, 'zoo.cfg'), `${lines.join('\n')}\n`);
  };

  const reserve = async (id: number, role: 'participant' | 'observer'): Promise<ApacheServerSlot> => {
    const lease = await freePorts(3);
    leases.push(lease);
    const [clientPort, quorumPort, electionPort] = lease.ports as [number, number, number];
    const slot: ApacheServerSlot = { id, clientPort, quorumPort, electionPort, role };
    slots.set(id, slot);
    return slot;
  };

  const prepareServer = async (id: number, members: number[], role: 'participant' | 'observer' = 'participant'): Promise<ApacheServerSlot> => {
    const slot = await reserve(id, role);
    writeFolder(id, members);
    return slot;
  };

  const start = (id: number): void => {
    const sdir = join(dir, `server${id}`);
    const args = [
      '-Xmx128m',
      '-Dzookeeper.admin.enableServer=false',
      `-Dzookeeper.log.dir=${sdir}`,
      '-Dzookeeper.root.logger=INFO,CONSOLE',
      ...(options.skipAcl === true ? ['-Dzookeeper.skipACL=yes'] : []),
      ...(options.superDigest !== undefined ? [`-Dzookeeper.DigestAuthenticationProvider.superDigest=${options.superDigest}`] : []),
      '-cp',
      classpath,
      'org.apache.zookeeper.server.quorum.QuorumPeerMain',
      join(sdir, 'zoo.cfg'),
    ];
    const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    logs.set(id, '');
    const keep = (c: Buffer): void => {
      logs.set(id, ((logs.get(id) ?? '') + c.toString('utf8')).slice(-30_000));
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('error', () => undefined);
    children.set(id, child);
  };

  const alive = (id: number): boolean => {
    const c = children.get(id);
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  };

  const mode = async (id: number): Promise<string | null> => {
    const s = slots.get(id);
    if (s === undefined) return null;
    const answer = await sendFourLetterWord(s.clientPort, 'srvr', 1000).catch(() => '');
    return /^Mode: (\S+)/m.exec(answer)?.[1] ?? null;
  };

  const kill = async (id: number): Promise<void> => {
    const c = children.get(id);
    if (c !== undefined && alive(id)) {
      c.kill('SIGKILL');
      await waitExit(c, 10_000);
    }
  };

  const handle: ApacheEnsemble = {
    available: true,
    connectString: (ids) => (ids ?? [...children.keys()]).map((id) => `127.0.0.1:${handle.slot(id).clientPort}`).join(','),
    slot: (id) => {
      const s = slots.get(id);
      if (s === undefined) throw new Error(`no server ${id}`);
      return s;
    },
    serverLine,
    prepareServer,
    start,
    kill,
    alive,
    mode,
    async waitServing(ids, timeoutMs = options.startTimeoutMs ?? 60_000) {
      await waitUntil(
        async () => {
          const modes = await Promise.all(ids.map(mode));
          return modes.every((m) => m === 'leader' || m === 'follower' || m === 'observer');
        },
        `Apache ZooKeeper servers ${ids.join(',')} serving`,
        timeoutMs,
        100,
      ).catch((e: Error) => {
        throw new Error(`${e.message}\n${ids.map((id) => `--- server ${id}\n${(logs.get(id) ?? '').slice(-3000)}`).join('\n')}`);
      });
    },
    async leader(ids, timeoutMs = 20_000) {
      let found = -1;
      await waitUntil(
        async () => {
          const modes = await Promise.all(ids.map(mode));
          const leaders = ids.filter((_, i) => modes[i] === 'leader');
          found = leaders.length === 1 ? (leaders[0] ?? -1) : -1;
          return found !== -1;
        },
        `one leader among ${ids.join(',')}`,
        timeoutMs,
        50,
      );
      return found;
    },
    output: (id) => logs.get(id) ?? '',
    async stop() {
      await Promise.all([...children.keys()].map(kill));
      for (const l of leases) l.release();
      rmSync(dir, { recursive: true, force: true });
    },
  };

  const ids = Array.from({ length: size }, (_, i) => i + 1);
  try {
    for (const id of ids) await reserve(id, 'participant');
    for (const id of ids) writeFolder(id, ids);
    for (const id of ids) start(id);
    await handle.waitServing(ids);
  } catch (e) {
    await handle.stop();
    throw e;
  }
  return handle;
}
