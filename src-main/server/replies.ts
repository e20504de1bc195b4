/**
 * How requests are answered: reads and watch management evaluated against the tree when they
 * reach the head of their connection's queue, and the reply to a write built from what
 * applying its txn did. Pure functions over the tree and the watch table.
 */
import type { SessionId, Zxid } from '../common/ids';
import type { ACL, Id, MultiResult, Request, Response, SetWatches, SetWatches2 } from '../jute/types';
import { AddWatchMode, OpCode, Perms, WatcherEventType } from '../jute/types';
import { ErrorCode } from '../common/error-codes';
import { checkAcl, redactDigests } from '../tree/acl';
import type { ApplyResult, DataTree } from '../tree/data-tree';
import type { WatchTable, WatcherId } from '../tree/watch-table';

export interface Reply {
  err: number;
  response: Response | null;
  /** close the connection once this reply is written */
  closeAfter?: boolean;
  /** ReplyHeader.zxid when it is not lastProcessedZxid (auth replies carry 0) */
  zxid?: Zxid;
  /** send `response` even though err ≠ 0: a failed SASL step carries SetSASLResponse(null), which
   * the Java client reads as the token without looking at err while its SASL exchange runs */
  bodyOnError?: boolean;
}

export interface ReadContext {
  tree: DataTree;
  watches: WatchTable;
  /** the connection: watches registered by the read belong to it */
  watcher: WatcherId;
  sessionId: SessionId;
  /** the auth ids the connection had when the request arrived */
  ids: readonly Id[];
  skipAcl: boolean;
  /** SASLAuthenticationProvider registered: whoAmI names sasl users (else "", as upstream) */
  saslAuthProvider?: boolean;
  /** sends a catch-up event of setWatches (before the reply) */
  notify(type: number, path: string): void;
}

function canRead(ctx: ReadContext, acl: readonly ACL[] | undefined, perm: number = Perms.READ): boolean {
  return acl === undefined || ctx.skipAcl || checkAcl(acl, perm, ctx.ids);
}

/** Reads and watch management, answered from the tree when they reach the head of the queue. */
export function executeRead(ctx: ReadContext, request: Request): Reply {
  const tree = ctx.tree;
  const ids = ctx.ids;
  const err = (code: number): Reply => ({ err: code, response: null });
  switch (request.type) {
    case OpCode.exists: {
      const { path, watch } = request.req;
      if (path.includes('\u0000')) return err(ErrorCode.BADARGUMENTS);
      const acl = tree.aclOf(path);
      if (acl && !canRead(ctx, acl)) return err(ErrorCode.NOAUTH);
      if (watch) ctx.watches.addDataWatch(path, ctx.watcher);
      const stat = tree.stat(path);
      return stat ? { err: 0, response: { type: OpCode.exists, stat } } : err(ErrorCode.NONODE);
    }
    case OpCode.getData: {
      const { path, watch } = request.req;
      const d = tree.getData(path);
      if (!d) return err(ErrorCode.NONODE);
      if (!canRead(ctx, tree.aclOf(path))) return err(ErrorCode.NOAUTH);
      if (watch) ctx.watches.addDataWatch(path, ctx.watcher);
      return { err: 0, response: { type: OpCode.getData, data: d.data, stat: d.stat } };
    }
    case OpCode.getChildren:
    case OpCode.getChildren2: {
      const { path, watch } = request.req;
      const c = tree.getChildren(path);
      if (!c) return err(ErrorCode.NONODE);
      if (!canRead(ctx, tree.aclOf(path))) return err(ErrorCode.NOAUTH);
      if (watch) ctx.watches.addChildWatch(path, ctx.watcher);
      return request.type === OpCode.getChildren
        ? { err: 0, response: { type: OpCode.getChildren, children: c.children } }
        : { err: 0, response: { type: OpCode.getChildren2, children: c.children, stat: c.stat } };
    }
    case OpCode.getACL: {
      const a = tree.getAcl(request.req.path);
      if (!a) return err(ErrorCode.NONODE);
      if (!canRead(ctx, a.acl, Perms.READ | Perms.ADMIN)) return err(ErrorCode.NOAUTH);
      const acl = canRead(ctx, a.acl, Perms.ADMIN) ? a.acl : redactDigests(a.acl);
      return { err: 0, response: { type: OpCode.getACL, acl, stat: a.stat } };
    }
    case OpCode.getAllChildrenNumber: {
      const path = request.req.path;
      const n = tree.allChildrenNumber(path);
      if (n === undefined) return err(ErrorCode.NONODE);
      if (!canRead(ctx, tree.aclOf(path))) return err(ErrorCode.NOAUTH);
      return { err: 0, response: { type: OpCode.getAllChildrenNumber, totalNumber: n } };
    }
    case OpCode.getEphemerals: {
      const prefix = request.req.prefixPath.trim();
      const all = tree.ephemeralsOf(ctx.sessionId);
      const ephemerals = prefix === '' || prefix === '/' ? all : all.filter((p) => p.startsWith(request.req.prefixPath));
      return { err: 0, response: { type: OpCode.getEphemerals, ephemerals } };
    }
    case OpCode.whoAmI: {
      // in the order they were added (upstream keeps a hash set: its order means nothing)
      const ordered = ids;
      return {
        err: 0,
        response: {
          type: OpCode.whoAmI,
          clientInfo: ordered.map((i) => ({ authScheme: i.scheme, user: i.scheme === 'digest' ? (i.id.split(':', 1)[0] ?? '') : i.scheme === 'sasl' && !ctx.saslAuthProvider ? '' : i.id })),
        },
      };
    }
    case OpCode.checkWatches:
    case OpCode.removeWatches: {
      const { path, type } = request.req;
      if (type < 1 || type > 5) return err(ErrorCode.BADARGUMENTS);
      const found = request.type === OpCode.checkWatches ? ctx.watches.contains(path, type, ctx.watcher) : ctx.watches.remove(path, type, ctx.watcher);
      return found ? { err: 0, response: { type: 'empty' } } : err(ErrorCode.NOWATCHER);
    }
    case OpCode.addWatch: {
      const { path, mode } = request.req;
      // ZooKeeper fails to map an unknown mode while reading the request: MARSHALLINGERROR
      if (mode !== AddWatchMode.PERSISTENT && mode !== AddWatchMode.PERSISTENT_RECURSIVE) return err(ErrorCode.MARSHALLINGERROR);
      ctx.watches.addPersistentWatch(path, ctx.watcher, mode === AddWatchMode.PERSISTENT_RECURSIVE);
      return { err: 0, response: { type: OpCode.addWatch } };
    }
    case OpCode.setWatches:
    case OpCode.setWatches2:
      setWatches(ctx, request.req);
      return { err: 0, response: { type: 'empty' } };
    case OpCode.multiRead: {
      // ZooKeeper refuses a multiRead holding a write while deserialising it: the whole request
      // answers MARSHALLINGERROR (no body), not a per-op error
      if (request.req.ops.some((op) => op.type !== OpCode.getData && op.type !== OpCode.getChildren)) return err(ErrorCode.MARSHALLINGERROR);
      const results: MultiResult[] = request.req.ops.map((op): MultiResult => {
        if (op.type !== OpCode.getData && op.type !== OpCode.getChildren) return { type: OpCode.error, err: ErrorCode.BADARGUMENTS };
        const path = op.req.path;
        if (!tree.has(path)) return { type: OpCode.error, err: ErrorCode.NONODE };
        if (!canRead(ctx, tree.aclOf(path))) return { type: OpCode.error, err: ErrorCode.NOAUTH };
        if (op.type === OpCode.getData) {
          const d = tree.getData(path)!;
          return { type: OpCode.getData, data: d.data, stat: d.stat };
        }
        return { type: OpCode.getChildren, children: tree.getChildren(path)!.children };
      });
      return { err: 0, response: { type: OpCode.multiRead, results } };
    }
    default:
      return err(ErrorCode.UNIMPLEMENTED);
  }
}

/**
 * setWatches / setWatches2 after a reconnect: events for what changed since relativeZxid go
 * out first (before the reply); the rest are registered.
 */
function setWatches(ctx: ReadContext, req: SetWatches | SetWatches2): void {
  const tree = ctx.tree;
  const rel = req.relativeZxid;
  const notify = ctx.notify;
  const readable = (path: string) => canRead(ctx, tree.aclOf(path));
  for (const path of req.dataWatches) {
    const s = tree.stat(path);
    if (!s) notify(WatcherEventType.NodeDeleted, path);
    else if (s.mzxid > rel) {
      if (readable(path)) notify(WatcherEventType.NodeDataChanged, path);
    } else ctx.watches.addDataWatch(path, ctx.watcher);
  }
  for (const path of req.existWatches) {
    if (tree.has(path)) {
      if (readable(path)) notify(WatcherEventType.NodeCreated, path);
    } else ctx.watches.addDataWatch(path, ctx.watcher);
  }
  for (const path of req.childWatches) {
    const s = tree.stat(path);
    if (!s) notify(WatcherEventType.NodeDeleted, path);
    else if (s.pzxid > rel) {
      if (readable(path)) notify(WatcherEventType.NodeChildrenChanged, path);
    } else ctx.watches.addChildWatch(path, ctx.watcher);
  }
  if ('persistentWatches' in req) {
    for (const path of req.persistentWatches) ctx.watches.addPersistentWatch(path, ctx.watcher, false);
    for (const path of req.persistentRecursiveWatches) ctx.watches.addPersistentWatch(path, ctx.watcher, true);
  }
}

export function pathOf(request: Request): { path?: string } {
  const req = request.req as { path?: unknown } | null;
  return req && typeof req.path === 'string' ? { path: req.path } : {};
}

/** The reply to a write, from what applying its txn did. */
export function writeReply(op: number, r: ApplyResult): Reply {
  if (op === OpCode.multi) {
    const results: MultiResult[] = (r.multi ?? []).map((sub): MultiResult => {
      if (sub.type === OpCode.error) return { type: OpCode.error, err: sub.err };
      if (sub.err !== 0) return { type: OpCode.error, err: sub.err };
      // upstream decodes every create sub-op as a plain create unless its mode is container or
      // TTL, so a create2 sub-op is answered like create (type 1, path only): the txn type decides
      switch (sub.type) {
        case OpCode.create:
          return { type: OpCode.create, path: sub.path! };
        case OpCode.createContainer:
        case OpCode.createTTL:
          return { type: OpCode.create2, path: sub.path!, stat: sub.stat! };
        case OpCode.delete:
          return { type: OpCode.delete };
        case OpCode.setData:
          return { type: OpCode.setData, stat: sub.stat! };
        default:
          return { type: OpCode.check };
      }
    });
    return { err: 0, response: { type: OpCode.multi, results } };
  }
  if (r.err !== 0) return { err: r.err, response: null };
  switch (op) {
    case OpCode.create:
      return { err: 0, response: { type: OpCode.create, path: r.path! } };
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      return { err: 0, response: { type: op, path: r.path!, stat: r.stat! } };
    case OpCode.setData:
    case OpCode.setACL:
      return { err: 0, response: { type: op, stat: r.stat! } };
    default:
      return { err: 0, response: { type: 'empty' } };
  }
}
