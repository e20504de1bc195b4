/**
 * The prep stage (ZooKeeper's PrepRequestProcessor): turns a write request into an idempotent
 * txn, checking in ZooKeeper's exact order. It reads the tree *plus* the changes of txns that
 * are prepared but not yet applied (outstandingChanges), so pipelined requests see their
 * predecessors. A failed check is a value (an error code), never an exception.
 */
import { ErrorCode } from '../common/error-codes';
import type { SessionId, Zxid } from '../common/ids';
import { limits } from '../common/limits';
import type { ACL, CreateRequest, Id, MultiOp, StatPersisted, Txn } from '../jute/types';
import { CreateFlags, OpCode, Perms } from '../jute/types';
import { checkAcl, fixupAcl } from '../tree/acl';
import type { DataTree } from '../tree/data-tree';
import { nextVersion } from '../tree/data-tree';
import { CONTAINER_EPHEMERAL_OWNER, TTL_MAX_MS, nodeKind, ttlOwner } from '../tree/ephemeral-type';
import { isSpecialPath, isValidPath, sequenceSuffix } from '../tree/znode-path';
import { Fifo } from './fifo';

/** A node as prep sees it; `exists: false` records a staged delete. stat.cversion is the creation count. */
export interface ChangeRecord {
  zxid: Zxid;
  path: string;
  exists: boolean;
  stat: StatPersisted;
  numChildren: number;
  acl: readonly ACL[];
}

/** Changes of prepared, not yet applied txns, in zxid order, with the latest record per path. */
export class OutstandingChanges {
  private readonly list = new Fifo<ChangeRecord>();
  private readonly latest = new Map<string, ChangeRecord>();

  get(path: string): ChangeRecord | undefined {
    return this.latest.get(path);
  }

  add(cr: ChangeRecord): void {
    this.list.push(cr);
    this.latest.set(cr.path, cr);
  }

  /** The txns up to `zxid` are now in the tree: their records are no longer needed. */
  committed(zxid: Zxid): void {
    while (this.list.length > 0 && this.list.peek()!.zxid <= zxid) {
      const cr = this.list.shift()!;
      if (this.latest.get(cr.path) === cr) this.latest.delete(cr.path);
    }
  }

  get size(): number {
    return this.list.length;
  }

  records(): Iterable<ChangeRecord> {
    return this.list;
  }
}

/** tree + outstanding changes + this request's own staged changes (dropped if it fails). */
export class StagedView {
  // made on the first put: most requests stage one record or none, and look up few paths
  private overlay: Map<string, ChangeRecord> | null = null;
  private readonly order: ChangeRecord[] = [];

  constructor(
    private readonly tree: DataTree,
    private readonly outstanding: OutstandingChanges,
  ) {}

  get(path: string): ChangeRecord | undefined {
    const cr = this.overlay?.get(path) ?? this.outstanding.get(path);
    if (cr) return cr.exists ? cr : undefined;
    const r = this.tree.record(path);
    if (!r) return undefined;
    return { zxid: -1n, path, exists: true, stat: r.stat, numChildren: r.numChildren, acl: r.acl };
  }

  put(cr: ChangeRecord): void {
    (this.overlay ??= new Map()).set(cr.path, cr);
    this.order.push(cr);
  }

  /** Makes the staged records visible to later requests. */
  commitTo(outstanding: OutstandingChanges): void {
    for (const cr of this.order) outstanding.add(cr);
  }

  /** The records staged so far (closeSession looks at them with the outstanding ones). */
  staged(): readonly ChangeRecord[] {
    return this.order;
  }
}

export interface PrepContext {
  sessionId: SessionId;
  zxid: Zxid;
  timeMs: bigint;
  authIds: readonly Id[];
  skipAcl: boolean;
  extendedTypesEnabled: boolean;
  /** SASLAuthenticationProvider registered: `sasl` ACL ids are valid and `auth` expands to them */
  saslAuthProvider?: boolean;
  /** 0 when the session may write, else SESSIONEXPIRED (closing or unknown). */
  sessionError: number;
  /** true for the server's own requests (container/TTL reaper): no session or ACL checks. */
  internal?: boolean;
}

export type PrepOutcome = { ok: true; txn: Txn } | { ok: false; err: number };

const fail = (err: number): PrepOutcome => ({ ok: false, err });

function allowed(ctx: PrepContext, acl: readonly ACL[], perm: number): boolean {
  return ctx.internal === true || ctx.skipAcl || checkAcl(acl, perm, ctx.authIds);
}

/** A copy of `cr` at `zxid` with some fields changed (field by field: spreads of several objects cost more on the write path). */
function dup(cr: ChangeRecord, zxid: Zxid, change: Partial<Pick<ChangeRecord, 'numChildren' | 'acl'>> = {}, stat: Partial<StatPersisted> = {}): ChangeRecord {
  const s = cr.stat;
  return {
    zxid,
    path: cr.path,
    exists: cr.exists,
    stat: {
      czxid: stat.czxid ?? s.czxid,
      mzxid: stat.mzxid ?? s.mzxid,
      ctime: stat.ctime ?? s.ctime,
      mtime: stat.mtime ?? s.mtime,
      version: stat.version ?? s.version,
      cversion: stat.cversion ?? s.cversion,
      aversion: stat.aversion ?? s.aversion,
      ephemeralOwner: stat.ephemeralOwner ?? s.ephemeralOwner,
      pzxid: stat.pzxid ?? s.pzxid,
    },
    numChildren: change.numChildren ?? cr.numChildren,
    acl: change.acl ?? cr.acl,
  };
}

function deletedRecord(path: string, zxid: Zxid): ChangeRecord {
  const stat: StatPersisted = { czxid: 0n, mzxid: 0n, ctime: 0n, mtime: 0n, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, pzxid: 0n };
  return { zxid, path, exists: false, stat, numChildren: 0, acl: [] };
}

function parentOf(path: string, lastSlash: number): string {
  return lastSlash <= 0 ? '/' : path.slice(0, lastSlash);
}

function versionMatches(expected: number, current: number): boolean {
  return expected === -1 || expected === current;
}

function dataTooLarge(data: Uint8Array | null): boolean {
  return data !== null && data.length > limits.dataBytesMax;
}

export function prepCreate(view: StagedView, ctx: PrepContext, type: number, req: CreateRequest & { ttl?: bigint }): PrepOutcome {
  const flags = req.flags;
  if (!Number.isInteger(flags) || flags < CreateFlags.PERSISTENT || flags > CreateFlags.PERSISTENT_SEQUENTIAL_WITH_TTL) return fail(ErrorCode.BADARGUMENTS);
  const ttlMode = flags === CreateFlags.PERSISTENT_WITH_TTL || flags === CreateFlags.PERSISTENT_SEQUENTIAL_WITH_TTL;
  // the opcode makes a container, as upstream: a top-level create/create2 with the CONTAINER
  // flag makes a plain persistent node (prepMulti maps such sub-ops to createContainer, as
  // upstream's multi decoding does)
  const containerMode = type === OpCode.createContainer;
  const sequential = flags === CreateFlags.PERSISTENT_SEQUENTIAL || flags === CreateFlags.EPHEMERAL_SEQUENTIAL || flags === CreateFlags.PERSISTENT_SEQUENTIAL_WITH_TTL;
  const ephemeral = flags === CreateFlags.EPHEMERAL || flags === CreateFlags.EPHEMERAL_SEQUENTIAL;
  const ttl = type === OpCode.createTTL ? (req.ttl ?? -1n) : -1n;
  if (ttlMode && !ctx.extendedTypesEnabled) return fail(ErrorCode.UNIMPLEMENTED);
  if (ttlMode ? ttl <= 0n || ttl > TTL_MAX_MS : ttl >= 0n) return fail(ErrorCode.BADARGUMENTS);
  // createTTL without a TTL mode: upstream fails converting ttl -1 and drops the connection
  if (type === OpCode.createTTL && !ttlMode) return fail(ErrorCode.BADARGUMENTS);
  if (!ctx.internal && ctx.sessionError !== 0) return fail(ctx.sessionError);
  const path = req.path;
  const lastSlash = path.lastIndexOf('/');
  if (lastSlash === -1 || path.includes('\u0000')) return fail(ErrorCode.BADARGUMENTS);
  if (dataTooLarge(req.data)) return fail(ErrorCode.BADARGUMENTS);
  const acl = fixupAcl(req.acl, ctx.authIds, ctx.saslAuthProvider);
  if (acl === null) return fail(ErrorCode.INVALIDACL);
  const parent = view.get(parentOf(path, lastSlash));
  if (!parent) return fail(ErrorCode.NONODE);
  if (!allowed(ctx, parent.acl, Perms.CREATE)) return fail(ErrorCode.NOAUTH);
  const name = sequential ? path + sequenceSuffix(parent.stat.cversion) : path;
  if (!isValidPath(name)) return fail(ErrorCode.BADARGUMENTS);
  if (view.get(name)) return fail(ErrorCode.NODEEXISTS);
  if (nodeKind(parent.stat.ephemeralOwner) === 'ephemeral') return fail(ErrorCode.NOCHILDRENFOREPHEMERALS);
  const newCversion = (parent.stat.cversion + 1) | 0;
  const owner = containerMode ? CONTAINER_EPHEMERAL_OWNER : ttlMode ? ttlOwner(ttl) : ephemeral ? ctx.sessionId : 0n;
  let txn: Txn;
  if (containerMode) txn = { type: OpCode.createContainer, path: name, data: req.data, acl, parentCVersion: newCversion };
  else if (ttlMode) txn = { type: OpCode.createTTL, path: name, data: req.data, acl, parentCVersion: newCversion, ttl };
  else txn = { type: OpCode.create, path: name, data: req.data, acl, ephemeral, parentCVersion: newCversion };
  view.put(dup(parent, ctx.zxid, { numChildren: parent.numChildren + 1 }, { cversion: newCversion, pzxid: ctx.zxid }));
  const stat: StatPersisted = { czxid: ctx.zxid, mzxid: ctx.zxid, ctime: ctx.timeMs, mtime: ctx.timeMs, version: 0, cversion: 0, aversion: 0, ephemeralOwner: owner, pzxid: ctx.zxid };
  view.put({ zxid: ctx.zxid, path: name, exists: true, stat, numChildren: 0, acl });
  return { ok: true, txn };
}

export function prepDelete(view: StagedView, ctx: PrepContext, path: string, version: number, container: boolean): PrepOutcome {
  if (!ctx.internal && ctx.sessionError !== 0) return fail(ctx.sessionError);
  const lastSlash = path.lastIndexOf('/');
  if (lastSlash === -1 || path.includes('\u0000') || isSpecialPath(path)) return fail(ErrorCode.BADARGUMENTS);
  const parent = view.get(parentOf(path, lastSlash));
  if (!parent) return fail(ErrorCode.NONODE);
  if (!allowed(ctx, parent.acl, Perms.DELETE)) return fail(ErrorCode.NOAUTH);
  const node = view.get(path);
  if (!node) return fail(ErrorCode.NONODE);
  if (container) {
    const kind = nodeKind(node.stat.ephemeralOwner);
    if (kind !== 'container' && kind !== 'ttl') return fail(ErrorCode.BADARGUMENTS);
  } else if (!versionMatches(version, node.stat.version)) return fail(ErrorCode.BADVERSION);
  if (node.numChildren > 0) return fail(ErrorCode.NOTEMPTY);
  view.put(dup(parent, ctx.zxid, { numChildren: parent.numChildren - 1 }, { pzxid: ctx.zxid }));
  view.put(deletedRecord(path, ctx.zxid));
  return { ok: true, txn: { type: container ? OpCode.deleteContainer : OpCode.delete, path } };
}

export function prepSetData(view: StagedView, ctx: PrepContext, path: string, data: Uint8Array | null, version: number): PrepOutcome {
  if (ctx.sessionError !== 0) return fail(ctx.sessionError);
  if (!isValidPath(path) || dataTooLarge(data)) return fail(ErrorCode.BADARGUMENTS);
  const node = view.get(path);
  if (!node) return fail(ErrorCode.NONODE);
  if (!allowed(ctx, node.acl, Perms.WRITE)) return fail(ErrorCode.NOAUTH);
  if (!versionMatches(version, node.stat.version)) return fail(ErrorCode.BADVERSION);
  const newVersion = nextVersion(node.stat.version);
  view.put(dup(node, ctx.zxid, {}, { version: newVersion, mzxid: ctx.zxid, mtime: ctx.timeMs }));
  return { ok: true, txn: { type: OpCode.setData, path, data, version: newVersion } };
}

export function prepSetAcl(view: StagedView, ctx: PrepContext, path: string, aclIn: ACL[], version: number): PrepOutcome {
  if (ctx.sessionError !== 0) return fail(ctx.sessionError);
  if (!isValidPath(path)) return fail(ErrorCode.BADARGUMENTS);
  const acl = fixupAcl(aclIn, ctx.authIds, ctx.saslAuthProvider);
  if (acl === null) return fail(ErrorCode.INVALIDACL);
  const node = view.get(path);
  if (!node) return fail(ErrorCode.NONODE);
  if (!allowed(ctx, node.acl, Perms.ADMIN)) return fail(ErrorCode.NOAUTH);
  if (!versionMatches(version, node.stat.aversion)) return fail(ErrorCode.BADVERSION);
  const newVersion = nextVersion(node.stat.aversion);
  view.put(dup(node, ctx.zxid, { acl }, { aversion: newVersion }));
  return { ok: true, txn: { type: OpCode.setACL, path, acl, version: newVersion } };
}

export function prepCheck(view: StagedView, ctx: PrepContext, path: string, version: number): PrepOutcome {
  if (ctx.sessionError !== 0) return fail(ctx.sessionError);
  if (!isValidPath(path)) return fail(ErrorCode.BADARGUMENTS);
  const node = view.get(path);
  if (!node) return fail(ErrorCode.NONODE);
  if (!allowed(ctx, node.acl, Perms.READ)) return fail(ErrorCode.NOAUTH);
  if (!versionMatches(version, node.stat.version)) return fail(ErrorCode.BADVERSION);
  return { ok: true, txn: { type: OpCode.check, path, version: nextVersion(node.stat.version) } };
}

/** One write op (top level or inside a multi). */
export function prepOp(view: StagedView, ctx: PrepContext, op: MultiOp): PrepOutcome {
  switch (op.type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      return prepCreate(view, ctx, op.type, op.req);
    case OpCode.delete:
      return prepDelete(view, ctx, op.req.path, op.req.version, false);
    case OpCode.setData:
      return prepSetData(view, ctx, op.req.path, op.req.data, op.req.version);
    case OpCode.check:
      return prepCheck(view, ctx, op.req.path, op.req.version);
    default:
      return fail(ErrorCode.BADARGUMENTS);
  }
}

/**
 * multi: every op runs in order against the staged view, all under one zxid. On the first
 * failure the rest become ErrorTxn(RUNTIMEINCONSISTENCY) and the staged changes are dropped;
 * the ops before keep their txns (the tree turns them into ErrorTxn(OK) on apply, as upstream).
 */
export function prepMulti(view: StagedView, ctx: PrepContext, ops: readonly MultiOp[]): { txn: Txn; failedErr: number } {
  const txns: Txn[] = [];
  let failedErr = 0;
  for (const op of ops) {
    if (failedErr !== 0) {
      txns.push({ type: OpCode.error, err: ErrorCode.RUNTIMEINCONSISTENCY });
      continue;
    }
    const asContainer = (op.type === OpCode.create || op.type === OpCode.create2) && op.req.flags === CreateFlags.CONTAINER;
    const r = asContainer ? prepCreate(view, ctx, OpCode.createContainer, op.req) : prepOp(view, ctx, op);
    if (r.ok) txns.push(r.txn);
    else {
      failedErr = r.err;
      txns.push({ type: OpCode.error, err: r.err });
    }
  }
  return { txn: { type: OpCode.multi, txns }, failedErr };
}

/**
 * closeSession: the session's ephemerals from the tree, corrected by every outstanding change
 * (a staged delete removes a path, a staged ephemeral create of this session adds one).
 */
export function prepCloseSession(tree: DataTree, outstanding: OutstandingChanges, view: StagedView, ctx: PrepContext): Txn {
  const es = new Set(tree.ephemeralsOf(ctx.sessionId));
  for (const cr of outstanding.records()) {
    if (!cr.exists) es.delete(cr.path);
    else if (cr.stat.ephemeralOwner === ctx.sessionId) es.add(cr.path);
  }
  const paths = [...es].sort();
  for (const p of paths) {
    const lastSlash = p.lastIndexOf('/');
    const parent = view.get(parentOf(p, lastSlash));
    if (parent) view.put(dup(parent, ctx.zxid, { numChildren: parent.numChildren - 1 }, { pzxid: ctx.zxid }));
    view.put(deletedRecord(p, ctx.zxid));
  }
  return { type: OpCode.closeSession, paths2Delete: paths };
}
