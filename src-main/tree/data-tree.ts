/**
 * The data tree: znodes with ZooKeeper's exact Stat bookkeeping, ephemerals by session, the
 * session table (id -> timeout, as ZKDatabase keeps it), containers and TTL nodes.
 *
 * It changes only through applyTxn(), which is idempotent where ZooKeeper's is: replaying a txn
 * that a fuzzy snapshot already contains yields an error result (NONODE / NODEEXISTS) and leaves
 * the tree as it is, except that a replayed create still raises the parent's creation count
 * (ZOOKEEPER-1046), so sequential names never repeat. applyTxn returns the node changes; the
 * watch table turns them into notifications (nothing is fired here).
 *
 * cversion: the tree stores the parent's *creation count* (what snapshots persist and what the
 * sequence suffix comes from); clients see `2 × creations − numChildren` (§4.2).
 */
import { assert } from '../common/assert';
import { ErrorCode } from '../common/error-codes';
import type { SessionId, Zxid } from '../common/ids';
import type { ACL, Stat, StatPersisted, Txn, TxnEntry, TxnHeader } from '../jute/types';
import { OpCode } from '../jute/types';
import type { SnapshotData, SnapshotNode, SnapshotSession } from '../storage/snapshot-model';
import { OPEN_ACL_UNSAFE, READ_ACL_UNSAFE } from './acl';
import {
  CONTAINER_EPHEMERAL_OWNER,
  clientEphemeralOwner,
  nodeKind,
  ttlOf,
  ttlOwner,
} from './ephemeral-type';
import { nodeDigest, TreeDigestSum, ZxidDigestLog, type ZxidDigest } from './tree-digest';
import { LIMIT_NODE, QUOTA_ROOT, STAT_NODE, formatStatsTrack, parseStatsTrack, quotaStatPath } from './quota';
import { ValueArena } from './value-arena';
import { baseName, joinPath, parentPath } from './znode-path';

interface TreeNode {
  /**
   * The value (null for a null value), or the value arena's slab holding it at `offset`: no
   * Uint8Array per znode for a packed value (~96 bytes of heap each); read it with valueOf.
   */
  bytes: Uint8Array | null;
  /** where the value starts in `bytes`; -1 when `bytes` is the value itself */
  offset: number;
  /** the value's length (0 for null) */
  length: number;
  acl: ACL[];
  stat: StatPersisted;
  /**
   * Child names; null while there are none. Most znodes are leaves, and an empty Set costs
   * ~260 bytes (object + hash table): a third of a small znode's memory (bench: 290k znodes).
   */
  children: Set<string> | null;
  /** this node's part of the tree digest, as last counted (tree-digest.ts) */
  digest: number;
}

/** What one applied (sub-)txn changed, for the watch table. */
export type NodeChange =
  | { type: 'created'; path: string; acl: ACL[]; parentPath: string; parentAcl: ACL[] }
  | { type: 'deleted'; path: string; acl: ACL[]; parentPath: string; parentAcl: ACL[] }
  | { type: 'dataChanged'; path: string; acl: ACL[] };

/** Result of one (sub-)txn: ZooKeeper's ProcessTxnResult. */
export interface OpResult {
  /** the txn type (OpCode.create, OpCode.error, ...) */
  type: number;
  err: number;
  path?: string;
  stat?: Stat;
}

export interface ApplyResult extends OpResult {
  zxid: Zxid;
  /** results per sub-txn, for multi */
  multi?: OpResult[];
  /** in the order the watch triggers must run */
  changes: NodeChange[];
}

/** A node as prep sees it (ZooKeeper's ChangeRecord source): persisted stat, child count, ACL. */
export interface NodeRecord {
  stat: StatPersisted;
  numChildren: number;
  acl: ACL[];
}

const INT_MIN = -(2 ** 31);

/** next(version) with Java int wrap; -1 is skipped (ZOOKEEPER-4743) so it always means "any". */
export function nextVersion(v: number): number {
  const n = v === 0x7fffffff ? INT_MIN : v + 1;
  return n === -1 ? 0 : n;
}

export function visibleCversion(creations: number, numChildren: number): number {
  return (2 * creations - numChildren) | 0;
}

function zeroStat(): StatPersisted {
  return { czxid: 0n, mzxid: 0n, ctime: 0n, mtime: 0n, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, pzxid: 0n };
}

const ACL_CACHE_MAX = 10_000;
/** nodes whose value may move per applied txn while the value arena compacts (value-arena.ts) */
const COMPACT_NODES_PER_TXN = 64;

const NO_CHILDREN: ReadonlySet<string> = new Set();
const EMPTY_VALUE = new Uint8Array(0);

function valueOf(n: TreeNode): Uint8Array | null {
  const b = n.bytes;
  return b === null || n.offset < 0 ? b : b.subarray(n.offset, n.offset + n.length);
}

function childrenOf(n: TreeNode): ReadonlySet<string> {
  return n.children ?? NO_CHILDREN;
}

function childCount(n: TreeNode): number {
  return n.children === null ? 0 : n.children.size;
}

function aclKey(acl: readonly ACL[]): string {
  let key = '';
  for (const a of acl) key += `${a.perms}\u0000${a.id.scheme}\u0000${a.id.id}\u0001`;
  return key;
}

function cloneAcl(acl: readonly ACL[]): ACL[] {
  return acl.map((a) => ({ perms: a.perms, id: { scheme: a.id.scheme, id: a.id.id } }));
}

export class DataTree {
  private readonly nodes = new Map<string, TreeNode>();
  private readonly ephemerals = new Map<SessionId, Set<string>>();
  private readonly containerPaths = new Set<string>();
  private readonly ttlPaths = new Set<string>();
  private readonly sessionTable = new Map<SessionId, number>();
  /** paths with a quota (a `zookeeper_limits` node): upstream's pTrie */
  private readonly quotaPaths = new Set<string>();
  /** znodes with equal ACLs share one stored copy (ZooKeeper's ACL cache): less memory and
   * garbage per create; a stored ACL is never changed in place (setACL stores another) */
  private readonly aclCache = new Map<string, ACL[]>();
  /** a list was left out of aclCache because it was full: nodes may hold lists it lacks */
  private aclCacheOverflowed = false;
  /** highest zxid applied */
  lastProcessedZxid: Zxid = 0n;
  /** sum of path and data lengths, kept up to date (mntr polls it) */
  private dataSize = 0;
  /** ZooKeeper's tree digest, kept up to date node by node (tree-digest.ts) */
  private readonly digestSum = new TreeDigestSum();
  private readonly digestHistory = new ZxidDigestLog();
  /** every node's value is stored through it (small ones packed into slabs) */
  private readonly values = new ValueArena();
  /** where the value arena's compaction pass has got to, while one runs */
  private compactCursor: Iterator<TreeNode> | null = null;

  constructor() {
    const add = (path: string, acl: readonly ACL[], stat: StatPersisted, children: string[]) => {
      const node = this.newNode(EMPTY_VALUE, this.storedAcl(acl), stat, children.length > 0 ? new Set(children) : null);
      this.nodes.set(path, node);
      this.countIn(path, node);
    };
    add('/', OPEN_ACL_UNSAFE, zeroStat(), ['zookeeper']);
    add('/zookeeper', OPEN_ACL_UNSAFE, zeroStat(), ['quota', 'config']);
    add('/zookeeper/quota', OPEN_ACL_UNSAFE, zeroStat(), []);
    // upstream writes the config node with version arguments of -1: its aversion reads -1
    add('/zookeeper/config', READ_ACL_UNSAFE, { ...zeroStat(), aversion: -1 }, []);
    this.dataSize = this.countDataSize();
  }

  // ---------------------------------------------------------------- reads

  has(path: string): boolean {
    return this.nodes.has(path);
  }

  /** Number of znodes including the root (upstream's `Node count` adds 1: it keys the root twice). */
  get nodeCount(): number {
    return this.nodes.size;
  }

  stat(path: string): Stat | undefined {
    const n = this.nodes.get(path);
    return n ? this.toStat(n) : undefined;
  }

  getData(path: string): { data: Uint8Array | null; stat: Stat } | undefined {
    const n = this.nodes.get(path);
    return n ? { data: valueOf(n), stat: this.toStat(n) } : undefined;
  }

  /** Child names, sorted (clients must not rely on any order; sorting keeps replies deterministic). */
  getChildren(path: string): { children: string[]; stat: Stat } | undefined {
    const n = this.nodes.get(path);
    return n ? { children: [...childrenOf(n)].sort(), stat: this.toStat(n) } : undefined;
  }

  getAcl(path: string): { acl: ACL[]; stat: Stat } | undefined {
    const n = this.nodes.get(path);
    return n ? { acl: cloneAcl(n.acl), stat: this.toStat(n) } : undefined;
  }

  /**
   * /zookeeper/config holds the membership a server starts with or learns from its leader
   * (ZKDatabase.initConfigInZKDatabase: data, mzxid = the config version, mtime = now, version
   * -1). Reconfig txns change it like any setData. Returns the change, for watches.
   */
  setConfigNode(data: Uint8Array, configVersion: Zxid, timeMs: bigint): NodeChange | null {
    const n = this.nodes.get('/zookeeper/config');
    if (!n) return null;
    if (bytesSame(valueOf(n), data) && n.stat.mzxid === configVersion) return null;
    this.dataSize += data.length - n.length;
    this.setValue(n, data);
    n.stat.mzxid = configVersion;
    n.stat.mtime = timeMs;
    n.stat.version = -1;
    return { type: 'dataChanged', path: '/zookeeper/config', acl: n.acl };
  }

  /** The ACL as stored (not a copy): for permission checks. */
  aclOf(path: string): readonly ACL[] | undefined {
    return this.nodes.get(path)?.acl;
  }

  record(path: string): NodeRecord | undefined {
    const n = this.nodes.get(path);
    return n ? { stat: { ...n.stat }, numChildren: childCount(n), acl: n.acl } : undefined;
  }

  /** getAllChildrenNumber: every descendant. */
  allChildrenNumber(path: string): number | undefined {
    const n = this.nodes.get(path);
    if (!n) return undefined;
    let count = 0;
    const stack: string[] = [path];
    while (stack.length > 0) {
      const p = stack.pop()!;
      const node = this.nodes.get(p)!;
      for (const c of childrenOf(node)) {
        count++;
        stack.push(joinPath(p, c));
      }
    }
    return count;
  }

  ephemeralsOf(sessionId: SessionId): string[] {
    return [...(this.ephemerals.get(sessionId) ?? [])].sort();
  }

  /** session id -> its ephemeral paths (sorted), for `dump` and getEphemerals. */
  ephemeralsBySession(): Map<SessionId, string[]> {
    const out = new Map<SessionId, string[]>();
    for (const [sid, set] of this.ephemerals) if (set.size > 0) out.set(sid, [...set].sort());
    return out;
  }

  get ephemeralCount(): number {
    let n = 0;
    for (const s of this.ephemerals.values()) n += s.size;
    return n;
  }

  /** Sessions known to the tree (created and not closed): id -> timeout ms. */
  get sessions(): ReadonlyMap<SessionId, number> {
    return this.sessionTable;
  }

  /** Sum of path and data lengths, as upstream's approximate_data_size. */
  approximateDataSize(): number {
    return this.dataSize;
  }

  private countDataSize(): number {
    let size = 0;
    for (const [p, n] of this.nodes) size += p.length + n.length;
    return size;
  }

  /** Pre-order walk from "/", children sorted. */
  *paths(): Generator<string> {
    const stack = ['/'];
    while (stack.length > 0) {
      const p = stack.pop()!;
      yield p;
      const n = this.nodes.get(p)!;
      const kids = [...childrenOf(n)].sort().reverse();
      for (const c of kids) stack.push(joinPath(p, c));
    }
  }

  containers(): string[] {
    return [...this.containerPaths].sort();
  }

  ttlNodes(): string[] {
    return [...this.ttlPaths].sort();
  }

  /**
   * ContainerManager.getCandidates: empty containers that had a child (creation count > 0), or
   * never-used ones older than maxNeverUsedIntervalMs (0 = never); empty TTL nodes whose
   * `now − mtime > ttl`.
   */
  reapCandidates(nowMs: number, maxNeverUsedIntervalMs = 0): string[] {
    const out: string[] = [];
    const now = BigInt(Math.floor(nowMs));
    for (const p of this.containers()) {
      const n = this.nodes.get(p);
      if (!n || childCount(n) > 0) continue;
      if (n.stat.cversion > 0) out.push(p);
      else if (maxNeverUsedIntervalMs > 0 && now - n.stat.mtime > BigInt(maxNeverUsedIntervalMs)) out.push(p);
    }
    for (const p of this.ttlNodes()) {
      const n = this.nodes.get(p);
      if (!n || childCount(n) > 0) continue;
      const ttl = ttlOf(n.stat.ephemeralOwner);
      if (ttl !== 0n && now - n.stat.mtime > ttl) out.push(p);
    }
    return out;
  }

  private toStat(n: TreeNode): Stat {
    const s = n.stat;
    return {
      czxid: s.czxid,
      mzxid: s.mzxid,
      ctime: s.ctime,
      mtime: s.mtime,
      version: s.version,
      cversion: visibleCversion(s.cversion, childCount(n)),
      aversion: s.aversion,
      ephemeralOwner: clientEphemeralOwner(s.ephemeralOwner),
      dataLength: n.length,
      numChildren: childCount(n),
      pzxid: s.pzxid,
    };
  }

  // ---------------------------------------------------------------- apply

  applyTxn(entry: TxnEntry): ApplyResult {
    const changes: NodeChange[] = [];
    const r = this.applyOne(entry.header, entry.txn, changes);
    if (entry.header.zxid > this.lastProcessedZxid) this.lastProcessedZxid = entry.header.zxid;
    this.digestHistory.record(entry.header.zxid, this.digestSum);
    if (this.compactCursor !== null || this.values.compacting) this.compactValues();
    return { ...r, zxid: entry.header.zxid, changes };
  }

  /**
   * One step of a compaction pass over every node (value-arena.ts): values in sparse slabs move
   * to fresh ones, so the sparse slabs can be freed. Same bytes: nothing else about a node changes.
   */
  private compactValues(): void {
    this.compactCursor ??= this.nodes.values();
    for (let i = 0; i < COMPACT_NODES_PER_TXN; i++) {
      const next = this.compactCursor.next();
      if (next.done === true) {
        this.compactCursor = null;
        return;
      }
      const n = next.value;
      if (n.offset >= 0 && this.values.needsMove(n.bytes!)) this.setValue(n, valueOf(n));
    }
  }

  private newNode(data: Uint8Array | null, acl: ACL[], stat: StatPersisted, children: Set<string> | null): TreeNode {
    const node: TreeNode = { bytes: null, offset: -1, length: 0, acl, stat, children, digest: 0 };
    this.keepValue(node, data);
    return node;
  }

  /** Replaces a node's value (released from the arena, the new one packed into it). */
  private setValue(n: TreeNode, v: Uint8Array | null): void {
    // pack before release: `v` may be a view of the slab being released (compaction)
    const old = n.offset >= 0 ? n.bytes : null;
    const oldLength = n.length;
    this.keepValue(n, v);
    if (old !== null) this.values.release(old, oldLength);
  }

  private keepValue(n: TreeNode, v: Uint8Array | null): void {
    if (v === null) {
      n.bytes = null;
      n.offset = -1;
      n.length = 0;
      return;
    }
    const at = this.values.pack(v);
    n.bytes = at < 0 ? (v.length === 0 ? EMPTY_VALUE : v) : this.values.slab;
    n.offset = at;
    n.length = v.length;
  }

  /** The value arena's slabs: for tests and memory figures. */
  valueStats(): { slabs: number; slabBytes: number; liveBytes: number } {
    return this.values.stats();
  }

  private applyOne(h: TxnHeader, txn: Txn, changes: NodeChange[]): OpResult & { multi?: OpResult[] } {
    switch (txn.type) {
      case OpCode.create:
        return this.createNode(h, txn.path, txn.data, txn.acl, txn.ephemeral ? h.clientId : 0n, txn.parentCVersion, txn.type, changes);
      case OpCode.createContainer:
        return this.createNode(h, txn.path, txn.data, txn.acl, CONTAINER_EPHEMERAL_OWNER, txn.parentCVersion, txn.type, changes);
      case OpCode.createTTL:
        return this.createNode(h, txn.path, txn.data, txn.acl, ttlOwner(txn.ttl), txn.parentCVersion, txn.type, changes);
      case OpCode.delete:
      case OpCode.deleteContainer: {
        const err = this.deleteNode(txn.path, h.zxid, changes);
        return { type: txn.type, err, path: txn.path };
      }
      case OpCode.setData: {
        const n = this.nodes.get(txn.path);
        if (!n) return { type: txn.type, err: ErrorCode.NONODE, path: txn.path };
        const bytesDiff = (txn.data?.length ?? 0) - n.length;
        this.countOut(n);
        this.setValue(n, txn.data);
        n.stat.mzxid = h.zxid;
        n.stat.mtime = h.time;
        n.stat.version = txn.version;
        this.countIn(txn.path, n);
        this.dataSize += bytesDiff;
        this.updateQuotaStat(txn.path, bytesDiff, 0);
        changes.push({ type: 'dataChanged', path: txn.path, acl: n.acl });
        return { type: txn.type, err: ErrorCode.OK, path: txn.path, stat: this.toStat(n) };
      }
      case OpCode.setACL: {
        const n = this.nodes.get(txn.path);
        if (!n) return { type: txn.type, err: ErrorCode.NONODE, path: txn.path };
        n.acl = this.storedAcl(txn.acl);
        this.countOut(n);
        n.stat.aversion = txn.version;
        this.countIn(txn.path, n);
        return { type: txn.type, err: ErrorCode.OK, path: txn.path, stat: this.toStat(n) };
      }
      case OpCode.check:
        return { type: txn.type, err: ErrorCode.OK, path: txn.path };
      case OpCode.createSession:
        this.sessionTable.set(h.clientId, txn.timeOut);
        return { type: txn.type, err: ErrorCode.OK };
      case OpCode.closeSession: {
        const owned = this.ephemerals.get(h.clientId);
        const listed = txn.paths2Delete ?? [];
        const rest = [...(owned ?? [])].filter((p) => !listed.includes(p)).sort();
        for (const p of [...listed, ...rest]) {
          const n = this.nodes.get(p);
          // only the session's own ephemerals: a listed path may already be gone on replay
          if (n && n.stat.ephemeralOwner === h.clientId) this.deleteNode(p, h.zxid, changes);
        }
        this.ephemerals.delete(h.clientId);
        this.sessionTable.delete(h.clientId);
        return { type: txn.type, err: ErrorCode.OK };
      }
      case OpCode.error:
        return { type: txn.type, err: txn.err };
      case OpCode.multi: {
        const failed = txn.txns.some((t) => t.type === OpCode.error);
        let postFailed = false;
        const results: OpResult[] = [];
        let err: number = ErrorCode.OK;
        for (const sub of txn.txns) {
          let effective: Txn = sub;
          if (failed && sub.type !== OpCode.error) {
            effective = { type: OpCode.error, err: postFailed ? ErrorCode.RUNTIMEINCONSISTENCY : ErrorCode.OK };
          }
          if (failed && sub.type === OpCode.error) postFailed = true;
          const r = this.applyOne(h, effective, changes);
          results.push(r);
          if (r.err !== ErrorCode.OK && err === ErrorCode.OK) err = r.err;
        }
        return { type: txn.type, err, multi: results };
      }
    }
  }

  private createNode(
    h: TxnHeader,
    path: string,
    data: Uint8Array | null,
    acl: ACL[],
    owner: bigint,
    parentCVersion: number,
    type: number,
    changes: NodeChange[],
  ): OpResult {
    const pp = parentPath(path);
    const parent = this.nodes.get(pp);
    if (!parent || path === '/') return { type, err: ErrorCode.NONODE, path };
    const name = baseName(path);
    const pcv = parentCVersion === -1 ? parent.stat.cversion + 1 : parentCVersion;
    if (pcv > parent.stat.cversion) {
      // also on replay of an already-applied create: keeps the creation count (ZOOKEEPER-1046)
      this.countOut(parent);
      parent.stat.cversion = pcv;
      if (h.zxid > parent.stat.pzxid) parent.stat.pzxid = h.zxid;
      this.countIn(pp, parent);
    }
    if (parent.children?.has(name) === true) return { type, err: ErrorCode.NODEEXISTS, path };
    const stat: StatPersisted = {
      czxid: h.zxid,
      mzxid: h.zxid,
      ctime: h.time,
      mtime: h.time,
      version: 0,
      cversion: 0,
      aversion: 0,
      ephemeralOwner: owner,
      pzxid: h.zxid,
    };
    const node = this.newNode(data, this.storedAcl(acl), stat, null);
    this.nodes.set(path, node);
    this.countIn(path, node);
    this.dataSize += path.length + (data?.length ?? 0);
    (parent.children ??= new Set()).add(name);
    this.track(path, owner);
    if (pp.startsWith(QUOTA_ROOT)) {
      const quotaPath = pp.slice(QUOTA_ROOT.length);
      if (quotaPath !== '' && name === LIMIT_NODE) this.quotaPaths.add(quotaPath);
      if (quotaPath !== '' && name === STAT_NODE) this.updateQuotaForPath(quotaPath);
    }
    this.updateQuotaStat(path, data?.length ?? 0, 1);
    changes.push({ type: 'created', path, acl: node.acl, parentPath: pp, parentAcl: parent.acl });
    return { type, err: ErrorCode.OK, path, stat: this.toStat(node) };
  }

  private deleteNode(path: string, zxid: Zxid, changes: NodeChange[]): number {
    const n = this.nodes.get(path);
    if (path === '/') return ErrorCode.NONODE;
    const pp = parentPath(path);
    if (!n) {
      // only on replay over a fuzzy snapshot (live deletes of missing nodes never become txns):
      // the walk can pass a parent before the delete and reach the child after it; the parent's
      // pzxid must still move, as in ZooKeeper 3.6+ (ZOOKEEPER-3145)
      const p = this.nodes.get(pp);
      if (p !== undefined && zxid > p.stat.pzxid) {
        this.countOut(p);
        p.stat.pzxid = zxid;
        this.countIn(pp, p);
      }
      return ErrorCode.NONODE;
    }
    const parent = this.nodes.get(pp);
    if (parent === undefined) assert(false, `node ${path} without parent`);
    // a fuzzy-snapshot replay can find children the original delete did not see: drop them too
    if (n.children !== null) for (const c of [...n.children]) this.deleteNode(joinPath(path, c), zxid, []);
    this.nodes.delete(path);
    this.countOut(n);
    const dataLength = n.length;
    this.setValue(n, null);
    this.dataSize -= path.length + dataLength;
    const siblings = parent.children;
    if (siblings !== null) {
      siblings.delete(baseName(path));
      if (siblings.size === 0) parent.children = null;
    }
    if (zxid > parent.stat.pzxid) {
      this.countOut(parent);
      parent.stat.pzxid = zxid;
      this.countIn(pp, parent);
    }
    this.untrack(path, n.stat.ephemeralOwner);
    if (pp.startsWith(QUOTA_ROOT) && baseName(path) === LIMIT_NODE) this.quotaPaths.delete(pp.slice(QUOTA_ROOT.length));
    this.updateQuotaStat(path, -dataLength, -1);
    changes.push({ type: 'deleted', path, acl: n.acl, parentPath: pp, parentAcl: parent.acl });
    return ErrorCode.OK;
  }

  private storedAcl(acl: readonly ACL[]): ACL[] {
    const key = aclKey(acl);
    const hit = this.aclCache.get(key);
    if (hit !== undefined) return hit;
    const copy = cloneAcl(acl);
    // bounded: a client making every znode's ACL unique gets its own copies past this
    if (this.aclCache.size < ACL_CACHE_MAX) this.aclCache.set(key, copy);
    else this.aclCacheOverflowed = true;
    return copy;
  }

  private track(path: string, owner: bigint): void {
    switch (nodeKind(owner)) {
      case 'ephemeral': {
        let set = this.ephemerals.get(owner);
        if (!set) this.ephemerals.set(owner, (set = new Set()));
        set.add(path);
        break;
      }
      case 'container':
        this.containerPaths.add(path);
        break;
      case 'ttl':
        this.ttlPaths.add(path);
        break;
      case 'persistent':
        break;
    }
  }

  private untrack(path: string, owner: bigint): void {
    switch (nodeKind(owner)) {
      case 'ephemeral': {
        const set = this.ephemerals.get(owner);
        set?.delete(path);
        if (set && set.size === 0) this.ephemerals.delete(owner);
        break;
      }
      case 'container':
        this.containerPaths.delete(path);
        break;
      case 'ttl':
        this.ttlPaths.delete(path);
        break;
      case 'persistent':
        break;
    }
  }

  // ---------------------------------------------------------------- tree digest

  /** Adds a node's digest (after a change) to the tree digest. */
  private countIn(path: string, node: TreeNode): void {
    const d = nodeDigest(path, valueOf(node), node.stat);
    this.digestSum.add(d);
    node.digest = d | 0; // an int32 stays a small integer in the object, an unsigned one is a heap number
  }

  /** Takes a node's digest out of the tree digest (before a change, or when it goes). */
  private countOut(node: TreeNode): void {
    this.digestSum.remove(node.digest >>> 0);
  }

  /** ZooKeeper's tree digest now: signed 64-bit, what `hash` prints. */
  get treeDigest(): bigint {
    return this.digestSum.value();
  }

  /** (zxid, tree digest) after every applied txn whose zxid is a multiple of 128, the last 1024: `hash`. */
  digestLog(): ZxidDigest[] {
    return this.digestHistory.list();
  }

  // ---------------------------------------------------------------- quotas

  /** Paths that have a quota, sorted (`listquota`'s view of the tree). */
  quotas(): string[] {
    return [...this.quotaPaths].sort();
  }

  /** getMaxPrefixWithQuota: the deepest quota path that is `path` or one of its ancestors. */
  private quotaPrefix(path: string): string | null {
    if (this.quotaPaths.size === 0) return null;
    for (let p = path; p !== '/'; p = parentPath(p)) if (this.quotaPaths.has(p)) return p;
    return null;
  }

  /** Adds to the stats node of the quota covering `path` (data only: no version, no watch). */
  private updateQuotaStat(path: string, bytesDiff: number, countDiff: number): void {
    const prefix = this.quotaPrefix(path);
    if (prefix === null) return;
    const node = this.nodes.get(quotaStatPath(prefix));
    if (!node) return;
    const stats = parseStatsTrack(new TextDecoder().decode(valueOf(node) ?? EMPTY_VALUE));
    stats.set('count', (stats.get('count') ?? -1) + countDiff);
    stats.set('bytes', (stats.get('bytes') ?? -1) + bytesDiff);
    this.setDataInPlace(node, new TextEncoder().encode(formatStatsTrack(stats)));
  }

  /**
   * Quota bookkeeping writes data without a txn of its own (no version, no watch). Only stats
   * nodes under /zookeeper/quota get here, which count 0 in the tree digest.
   */
  private setDataInPlace(node: TreeNode, data: Uint8Array): void {
    this.dataSize += data.length - node.length;
    this.setValue(node, data);
  }

  /** Recounts a quota's subtree (nodes and data bytes, itself included) into its stats node. */
  private updateQuotaForPath(path: string): void {
    const node = this.nodes.get(quotaStatPath(path));
    if (!node) return;
    let count = 0;
    let bytes = 0;
    if (this.nodes.has(path)) {
      const stack = [path];
      while (stack.length > 0) {
        const p = stack.pop()!;
        const n = this.nodes.get(p)!;
        count++;
        bytes += n.length;
        for (const c of childrenOf(n)) stack.push(joinPath(p, c));
      }
    }
    this.setDataInPlace(node, new TextEncoder().encode(formatStatsTrack(new Map([['count', count], ['bytes', bytes]]))));
  }

  // ---------------------------------------------------------------- snapshots and digest

  /** The whole tree and session table; stat.cversion is the stored creation count, ephemeralOwner the internal one. */
  exportSnapshot(): SnapshotData {
    const nodes: SnapshotNode[] = [];
    for (const p of this.paths()) {
      const n = this.nodes.get(p)!;
      nodes.push({ path: p, data: valueOf(n), acl: cloneAcl(n.acl), stat: { ...n.stat } });
    }
    return { zxid: this.lastProcessedZxid, sessions: this.snapshotSessions(), nodes };
  }

  /** The session table as a snapshot holds it (sorted by id). */
  snapshotSessions(): SnapshotSession[] {
    return [...this.sessionTable].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([id, timeoutMs]) => ({ id, timeoutMs }));
  }

  /**
   * Every distinct ACL list a node holds now (each once; what a snapshot's ACL cache needs).
   * The ACL cache has them all unless it overflowed; then every node is looked at (only with
   * more than ACL_CACHE_MAX distinct lists).
   */
  snapshotAcls(): ACL[][] {
    if (!this.aclCacheOverflowed) return [...this.aclCache.values()];
    const byKey = new Map(this.aclCache);
    for (const n of this.nodes.values()) {
      const key = aclKey(n.acl);
      if (!byKey.has(key)) byKey.set(key, n.acl);
    }
    return [...byKey.values()];
  }

  /**
   * The nodes for a fuzzy snapshot (ZooKeeper's) at zxid `upTo`, the tree's lastProcessedZxid
   * when the walk starts, walked lazily in pre-order while txns go on being applied between
   * steps: a node's data, ACL and stat are as they are when the walk reaches it, and its child
   * list is taken then (children created later are left out, children deleted meanwhile are
   * skipped). Nodes created after `upTo` are left out with their subtrees (the walk may see them:
   * ZooKeeper's does too), as if the walk had passed their parent first; so every ACL list a
   * yielded node holds was in snapshotAcls() at the start, or set by a setACL after `upTo`.
   * Replaying the log after `upTo` (applyTxn is idempotent for it) brings the snapshot to any
   * later state. Parents still come before children. Children come in insertion order, not
   * sorted: no sort of a huge child list on the event loop. The yielded objects share the live
   * data, ACL and stat: encode each one before the next txn is applied.
   */
  *fuzzySnapshotNodes(upTo: Zxid = this.lastProcessedZxid): Generator<SnapshotNode> {
    const root = this.nodes.get('/')!;
    yield { path: '/', data: valueOf(root), acl: root.acl, stat: root.stat };
    const stack: { dir: string; names: string[]; next: number }[] = [{ dir: '/', names: [...childrenOf(root)], next: 0 }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next >= top.names.length) {
        stack.pop();
        continue;
      }
      const path = joinPath(top.dir, top.names[top.next++]!);
      const n = this.nodes.get(path);
      if (n === undefined) continue; // deleted since its parent was walked
      // created since the walk began (its subtree too). Not a node newer than every txn this
      // tree applied (loaded from a fuzzy snapshot with no log after it): no replay would bring it back
      if (n.stat.czxid > upTo && n.stat.czxid <= this.lastProcessedZxid) continue;
      yield { path, data: valueOf(n), acl: n.acl, stat: n.stat };
      if (n.children !== null) stack.push({ dir: path, names: [...n.children], next: 0 });
    }
  }

  static fromSnapshot(snap: SnapshotData): DataTree {
    const t = new DataTree();
    for (const n of t.nodes.values()) t.countOut(n);
    t.nodes.clear();
    for (const sn of snap.nodes) {
      const node = t.newNode(sn.data, t.storedAcl(sn.acl), { ...sn.stat }, null);
      t.nodes.set(sn.path, node);
      t.countIn(sn.path, node);
    }
    assert(t.nodes.has('/'), 'snapshot without a root node');
    for (const sn of snap.nodes) {
      if (sn.path === '/') continue;
      const parent = t.nodes.get(parentPath(sn.path));
      assert(parent !== undefined, `snapshot node ${sn.path} has no parent`);
      (parent.children ??= new Set()).add(baseName(sn.path));
      t.track(sn.path, sn.stat.ephemeralOwner);
    }
    for (const s of snap.sessions) t.sessionTable.set(s.id, s.timeoutMs);
    t.lastProcessedZxid = snap.zxid;
    t.dataSize = t.countDataSize();
    // setupQuota: find the limit nodes again and recount their subtrees, as upstream does on load
    const suffix = `/${LIMIT_NODE}`;
    for (const sn of snap.nodes) {
      if (!sn.path.startsWith(`${QUOTA_ROOT}/`) || !sn.path.endsWith(suffix)) continue;
      const quotaPath = sn.path.slice(QUOTA_ROOT.length, sn.path.length - suffix.length);
      if (quotaPath === '') continue;
      t.quotaPaths.add(quotaPath);
      t.updateQuotaForPath(quotaPath);
    }
    return t;
  }

  /**
   * A cheap deterministic hash over every path, its data, ACL and client-visible stat (two
   * 32-bit FNV-1a lanes). Equal trees give equal digests; for comparing replicas in tests.
   */
  digest(): string {
    let h1 = 0x811c9dc5;
    let h2 = 0x01000193 ^ 0x5bd1e995;
    const feed = (b: number) => {
      h1 = Math.imul(h1 ^ b, 0x01000193) >>> 0;
      h2 = Math.imul(h2 ^ b, 0x5bd1e995) >>> 0;
      h2 = (h2 ^ (h2 >>> 13)) >>> 0;
    };
    const enc = new TextEncoder();
    const feedText = (s: string) => {
      for (const b of enc.encode(s)) feed(b);
      feed(0);
    };
    for (const p of this.paths()) {
      const n = this.nodes.get(p)!;
      feedText(p);
      const data = valueOf(n);
      if (data === null) feed(0xff);
      else {
        feedText(String(data.length));
        for (const b of data) feed(b);
      }
      const s = this.toStat(n);
      feedText(
        [s.czxid, s.mzxid, s.ctime, s.mtime, s.version, s.cversion, s.aversion, s.ephemeralOwner, s.dataLength, s.numChildren, s.pzxid, n.stat.ephemeralOwner].join(','),
      );
      for (const a of n.acl) feedText(`${a.perms}:${a.id.scheme}:${a.id.id}`);
    }
    return h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0');
  }
}

function bytesSame(a: Uint8Array | null, b: Uint8Array): boolean {
  if (a === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
