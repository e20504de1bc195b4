/**
 * The znode tree for the renderer: one ZooKeeper session to the running ensemble (reopened
 * when the ensemble changes), reads that leave watches, and watch events pushed as
 * `treeChanged`. Outcomes such as NONODE or BADVERSION come back as sentences saying what
 * happened and what to do.
 */
import type { Backend, CreateModeName, StatView, TreeCalls, TreeToolCalls } from '../api/contract';
import type { EventHub } from '../api/rpc';
import { ErrorCode, errorCodeName } from '../common/error-codes';
import { ZooLabError } from '../common/errors';
import { hex } from '../common/ids';
import { CreateFlags, WatcherEventType, type ACL, type Stat } from '../jute/types';
import { connectShellZk, type Outcome, type ShellZk, type ShellZkFactory } from '../shell';
import { createTreeTools } from './tree-tools';

/** how long, and how often, a tree read retries across a connection loss */
const READ_RETRY_MS = 10_000;
const READ_ATTEMPTS_MAX = 5;

const openAclUnsafe: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const modeFlags: Record<CreateModeName, number> = {
  persistent: CreateFlags.PERSISTENT,
  ephemeral: CreateFlags.EPHEMERAL,
  'persistent-sequential': CreateFlags.PERSISTENT_SEQUENTIAL,
  'ephemeral-sequential': CreateFlags.EPHEMERAL_SEQUENTIAL,
  container: CreateFlags.CONTAINER,
  'persistent-ttl': CreateFlags.PERSISTENT_WITH_TTL,
  'persistent-sequential-ttl': CreateFlags.PERSISTENT_SEQUENTIAL_WITH_TTL,
};
/** a recursive delete visits at most this many znodes */
export const subtreeNodesMax = 200_000;
const deleteBatch = 500;

export interface TreeHostOptions {
  connect?: ShellZkFactory;
  sessionTimeoutMs?: number;
}

export function statView(s: Stat): StatView {
  return {
    czxid: hex(s.czxid),
    mzxid: hex(s.mzxid),
    pzxid: hex(s.pzxid),
    ctime: Number(s.ctime),
    mtime: Number(s.mtime),
    version: s.version,
    cversion: s.cversion,
    aversion: s.aversion,
    ephemeralOwner: hex(s.ephemeralOwner),
    dataLength: s.dataLength,
    numChildren: s.numChildren,
  };
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function createTreeHost(backend: Backend, hub: EventHub, options: TreeHostOptions = {}): { calls: TreeCalls & TreeToolCalls; dispose(): Promise<void> } {
  let zk: ShellZk | null = null;
  let zkFor = '';
  /** whose copy the tree shows: null = the ensemble, else one server's own */
  let pinned: number | null = null;
  let pinnedFor = '';

  const session = async (): Promise<ShellZk> => {
    const e = await backend.calls.getEnsemble();
    if (!e || e.servers.every((s) => s.state !== 'running')) throw new ZooLabError('NOT_FOUND', 'no server is running: start the ensemble first');
    let connectString = e.connectionString;
    // a pin belongs to the ensemble it was made on
    if (pinned !== null && pinnedFor !== e.connectionString) pinned = null;
    if (pinned !== null) {
      const s = e.servers.find((x) => x.id === pinned);
      if (!s) throw new ZooLabError('NOT_FOUND', `no server ${pinned} in this ensemble: show the whole ensemble instead`);
      if (s.state !== 'running' || s.paused) throw new ZooLabError('CONNECTION', `server ${pinned} is ${s.paused ? 'paused' : s.state}: its copy cannot be read now`);
      connectString = `${s.host}:${s.clientPort}${e.external?.chroot ?? ''}`;
    }
    const key = `${connectString}|${e.external?.user ?? ''}`;
    if (zk && zkFor === key) return zk;
    const old = zk;
    zk = (options.connect ?? connectShellZk)({
      connectString,
      sessionTimeoutMs: options.sessionTimeoutMs ?? 30_000,
      readOnly: false,
      onEvent: (ev) => {
        if (ev.path === null) return;
        const what =
          ev.type === WatcherEventType.NodeChildrenChanged
            ? 'children'
            : ev.type === WatcherEventType.NodeDataChanged
              ? 'data'
              : ev.type === WatcherEventType.NodeDeleted
                ? 'deleted'
                : ev.type === WatcherEventType.NodeCreated
                  ? 'created'
                  : null;
        if (what) hub.emit('treeChanged', { path: ev.path, what });
      },
    });
    zkFor = key;
    if (old) void old.close().catch(() => {});
    return zk;
  };

  const explain = (code: number, path: string, doing: string): ZooLabError => {
    const say: Record<number, string> = {
      [ErrorCode.NONODE]: `${path} does not exist (any more): it may have just been deleted`,
      [ErrorCode.NODEEXISTS]: `${path} already exists: pick another name`,
      [ErrorCode.NOTEMPTY]: `${path} has children: delete them first, or delete the whole subtree`,
      [ErrorCode.NOCHILDRENFOREPHEMERALS]: `${parentOf(path)} is ephemeral, and ephemeral znodes cannot have children`,
      [ErrorCode.CONNECTIONLOSS]: 'no connection to the ensemble: is a majority of the servers running?',
      [ErrorCode.NOAUTH]: `not allowed to ${doing} ${path}: its ACL does not let this session`,
    };
    return new ZooLabError('CONNECTION', `could not ${doing} ${path}: ${say[code] ?? errorCodeName(code)}`);
  };
  const must = <T>(r: Outcome<T>, path: string, doing: string): T => {
    if (!r.ok) throw explain(r.code, path, doing);
    return r.value;
  };
  /**
   * Reads are idempotent: one that meets a connection loss (the client is moving to another
   * server, or the first host refused it) waits for the session to be back and tries again,
   * a bounded number of times, instead of leaving the tree empty with an error.
   */
  const read = async <T>(op: (z: ShellZk) => Promise<Outcome<T>>): Promise<Outcome<T>> => {
    const deadline = Date.now() + READ_RETRY_MS;
    for (let attempt = 1; ; attempt++) {
      const z = await session();
      const r = await op(z);
      if (r.ok || r.code !== ErrorCode.CONNECTIONLOSS || attempt >= READ_ATTEMPTS_MAX || Date.now() > deadline) return r;
      while (z.state !== 'CONNECTED' && z.state !== 'CONNECTEDREADONLY' && Date.now() < deadline && zk === z) {
        await new Promise((res) => setTimeout(res, 50));
      }
    }
  };
  const bytes = (b64: string | null): Uint8Array | null => (b64 === null ? null : new Uint8Array(Buffer.from(b64, 'base64')));

  const calls: TreeCalls = {
    async treeUseServer(server) {
      pinned = server;
      pinnedFor = (await backend.calls.getEnsemble())?.connectionString ?? '';
      try {
        await session();
      } catch (e) {
        pinned = null;
        throw e;
      }
      return zkFor.slice(0, zkFor.lastIndexOf('|'));
    },
    async treeChildren(path) {
      const r = must(await read((z) => z.getChildren(path, true)), path, 'list');
      return { children: [...r.children].sort(), stat: statView(r.stat) };
    },
    async treeGet(path) {
      const r = must(await read((z) => z.getData(path, true)), path, 'read');
      return { dataBase64: r.data === null ? null : Buffer.from(r.data).toString('base64'), stat: statView(r.stat) };
    },
    async treeSet(path, dataBase64, version) {
      const z = await session();
      const r = await z.setData(path, bytes(dataBase64), version);
      if (!r.ok && r.code === ErrorCode.BADVERSION) {
        const now = await z.exists(path, false);
        const at = now.ok ? ` (it is at version ${now.value.version} now, you edited version ${version})` : '';
        throw new ZooLabError('CONNECTION', `version conflict: ${path} changed since you loaded it${at}. Your edit is kept: reload to see the other change, or save again over it.`);
      }
      return statView(must(r, path, 'save'));
    },
    async treeCreate(path, dataBase64, mode, ttlMs) {
      const r = await (await session()).create(path, bytes(dataBase64), openAclUnsafe, modeFlags[mode], ttlMs === undefined ? undefined : BigInt(ttlMs));
      if (!r.ok && ttlMs !== undefined && r.code === ErrorCode.UNIMPLEMENTED) {
        throw new ZooLabError('USAGE', `could not create ${path}: TTL znodes need extendedTypesEnabled=true in the servers' zoo.cfg`);
      }
      return must(r, path, 'create');
    },
    async treeDelete(path, version, recursive) {
      if (path === '/' || path === '/zookeeper' || path.startsWith('/zookeeper/')) throw new ZooLabError('USAGE', `${path} belongs to ZooKeeper itself and cannot be deleted`);
      const z = await session();
      if (recursive) {
        const order: string[] = [];
        const queue = [path];
        for (let i = 0; i < queue.length; i++) {
          if (queue.length > subtreeNodesMax) throw new ZooLabError('USAGE', `${path} has more than ${subtreeNodesMax} znodes below it: delete it in parts`);
          const p = queue[i] as string;
          const r = await z.getChildren(p, false);
          if (!r.ok && r.code === ErrorCode.NONODE) continue;
          for (const c of must(r, p, 'list').children) queue.push(p === '/' ? `/${c}` : `${p}/${c}`);
          if (p !== path) order.push(p);
        }
        // deepest first, in batches, each batch one multi
        order.reverse();
        for (let i = 0; i < order.length; i += deleteBatch) {
          const r = await z.deleteMulti(order.slice(i, i + deleteBatch));
          if (!r.ok && r.code !== ErrorCode.NONODE) throw explain(r.code, path, 'delete the subtree of');
        }
      }
      must(await z.delete(path, version), path, 'delete');
    },
  };

  return {
    calls: { ...calls, ...createTreeTools(session, must) },
    async dispose() {
      const z = zk;
      zk = null;
      if (z) await z.close().catch(() => {});
    },
  };
}
