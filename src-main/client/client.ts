/**
 * ZkClient: the ZooKeeper calls (create … checkWatches, multi, reconfig) over a ClientSession
 * (session.ts: connection, reconnects, ordering, watches); options and shapes in options.ts.
 */
import { ErrorCode } from '../common/error-codes';
import { OpCode, WatcherType, KeeperState, type ACL, type MultiOp, type MultiResult, type Request, type Stat } from '../jute/index';
import { KeeperError } from './errors';
import { op, toBytes, type ClientOptions, type CreateOptions, type DataInput, type RawReply, type ReconfigChange, type WatchArg } from './options';
import { ClientSession, noopWatcher } from './session';
import type { WatchKind, Watcher } from './watches';

export * from './options';
export { ClientSession } from './session';

export class ZkClient extends ClientSession {
  // ---- operations ----
  /** create (op 1), or createContainer (19) / createTTL (21) for those modes. Returns the actual path. */
  async create(path: string, data?: DataInput, options: CreateOptions = {}): Promise<string> {
    const m = this.withServerPath(op.create(path, data, options));
    const res = await this.call(m as Request, path);
    return this.clientPath((res as { path: string }).path);
  }

  /** create2 (op 15), or createContainer / createTTL for those modes: the path and the new Stat. */
  async create2(path: string, data?: DataInput, options: CreateOptions = {}): Promise<{ path: string; stat: Stat }> {
    const m = this.withServerPath(op.create2(path, data, options));
    const res = (await this.call(m as Request, path)) as { path: string; stat: Stat };
    return { path: this.clientPath(res.path), stat: res.stat };
  }

  async delete(path: string, version = -1): Promise<void> {
    await this.call({ type: OpCode.delete, req: { path: this.serverPath(path), version } }, path);
  }

  /** The Stat, or null when the node does not exist (a watch is then an exist watch). */
  async exists(path: string, watch?: WatchArg): Promise<Stat | null> {
    const req: Request = { type: OpCode.exists, req: { path: this.serverPath(path), watch: watch !== undefined && watch !== false } };
    const reply = await this.submit(req, this.watchHook(watch, path, 'data', 'exist'));
    if (reply.header.err === ErrorCode.NONODE) return null;
    if (reply.header.err !== 0) throw new KeeperError(reply.header.err, path);
    return (reply.response as { stat: Stat }).stat;
  }

  async getData(path: string, watch?: WatchArg): Promise<{ data: Uint8Array | null; stat: Stat }> {
    const req: Request = { type: OpCode.getData, req: { path: this.serverPath(path), watch: watch !== undefined && watch !== false } };
    const res = (await this.call(req, path, this.watchHook(watch, path, 'data'))) as { data: Uint8Array | null; stat: Stat };
    return { data: res.data, stat: res.stat };
  }

  async setData(path: string, data: DataInput, version = -1): Promise<Stat> {
    const res = await this.call({ type: OpCode.setData, req: { path: this.serverPath(path), data: toBytes(data), version } }, path);
    return (res as { stat: Stat }).stat;
  }

  async getACL(path: string): Promise<{ acl: ACL[]; stat: Stat }> {
    const res = (await this.call({ type: OpCode.getACL, req: { path: this.serverPath(path) } }, path)) as { acl: ACL[]; stat: Stat };
    return { acl: res.acl, stat: res.stat };
  }

  async setACL(path: string, acl: readonly ACL[], version = -1): Promise<Stat> {
    const res = await this.call({ type: OpCode.setACL, req: { path: this.serverPath(path), acl: [...acl], version } }, path);
    return (res as { stat: Stat }).stat;
  }

  /** getChildren (op 8): names only. */
  async getChildren(path: string, watch?: WatchArg): Promise<string[]> {
    const req: Request = { type: OpCode.getChildren, req: { path: this.serverPath(path), watch: watch !== undefined && watch !== false } };
    const res = await this.call(req, path, this.watchHook(watch, path, 'child'));
    return (res as { children: string[] }).children;
  }

  /** getChildren2 (op 12): names and the parent's Stat. */
  async getChildren2(path: string, watch?: WatchArg): Promise<{ children: string[]; stat: Stat }> {
    const req: Request = { type: OpCode.getChildren2, req: { path: this.serverPath(path), watch: watch !== undefined && watch !== false } };
    const res = (await this.call(req, path, this.watchHook(watch, path, 'child'))) as { children: string[]; stat: Stat };
    return { children: res.children, stat: res.stat };
  }

  async getAllChildrenNumber(path: string): Promise<number> {
    const res = await this.call({ type: OpCode.getAllChildrenNumber, req: { path: this.serverPath(path) } }, path);
    return (res as { totalNumber: number }).totalNumber;
  }

  /** The caller session's ephemerals whose path starts with prefixPath. */
  async getEphemerals(prefixPath = '/'): Promise<string[]> {
    const res = await this.call({ type: OpCode.getEphemerals, req: { prefixPath: this.serverPath(prefixPath) } }, prefixPath);
    return (res as { ephemerals: string[] }).ephemerals.map((p) => this.clientPath(p));
  }

  async sync(path = '/'): Promise<string> {
    const res = await this.call({ type: OpCode.sync, req: { path: this.serverPath(path) } }, path);
    return this.clientPath((res as { path: string }).path);
  }

  /** The data of /zookeeper/config (outside any chroot, like Java's getConfig). */
  async getConfig(watch?: WatchArg): Promise<{ data: Uint8Array | null; stat: Stat }> {
    const path = '/zookeeper/config';
    const hook = this.watchHook(watch, this.clientPath(path), 'data');
    const res = (await this.call({ type: OpCode.getData, req: { path, watch: watch !== undefined && watch !== false } }, path, hook)) as {
      data: Uint8Array | null;
      stat: Stat;
    };
    return { data: res.data, stat: res.stat };
  }

  /**
   * reconfig (op 16), as ZooKeeperAdmin.reconfigure: an incremental change (`joining` server
   * lines `server.N=host:quorum:election[:role];[clientHost:]clientPort`, `leaving` server ids)
   * or a new membership (`newMembers`), from configuration version `fromConfig` (-1: any).
   * Lists are joined with "," as the Java client does. Resolves with the committed configuration
   * text and the Stat of /zookeeper/config; a refusal is a KeeperError (RECONFIGDISABLED,
   * BADVERSION, BADARGUMENTS, NEWCONFIGNOQUORUM, RECONFIGINPROGRESS, NOAUTH, UNIMPLEMENTED …).
   */
  async reconfig(change: ReconfigChange): Promise<{ data: Uint8Array | null; stat: Stat }> {
    const list = (v: string | readonly (string | number)[] | null | undefined): string | null => {
      if (v === undefined || v === null) return null;
      return typeof v === 'string' ? v : v.map(String).join(',');
    };
    const req = { joiningServers: list(change.joining), leavingServers: list(change.leaving), newMembers: list(change.newMembers), curConfigId: change.fromConfig ?? -1n };
    const res = (await this.call({ type: OpCode.reconfig, req }, undefined)) as { data: Uint8Array | null; stat: Stat };
    return { data: res.data, stat: res.stat };
  }

  private withServerPath(m: MultiOp): MultiOp {
    return { ...m, req: { ...m.req, path: this.serverPath(m.req.path) } } as MultiOp;
  }

  private resultPaths(results: MultiResult[]): MultiResult[] {
    return results.map((r) => ('path' in r ? { ...r, path: this.clientPath(r.path) } : r));
  }

  /**
   * multi (op 14): all or nothing. Resolves with one result per op; if an op failed, throws a
   * KeeperError with the first non-zero code and `results` (ZooKeeper's per-op error results).
   * An empty list is answered locally, as the Java client does.
   */
  async multi(ops: readonly MultiOp[]): Promise<MultiResult[]> {
    if (ops.length === 0) return [];
    const serverOps = ops.map((m) => this.withServerPath(m));
    const res = await this.call({ type: OpCode.multi, req: { ops: serverOps } }, undefined);
    const results = this.resultPaths((res as { results: MultiResult[] }).results);
    const failedAt = results.findIndex((r) => r.type === OpCode.error && r.err !== 0);
    if (failedAt !== -1) {
      const failed = results[failedAt] as { err: number };
      throw new KeeperError(failed.err, ops[failedAt]?.req.path, `multi op ${failedAt} failed`, results);
    }
    return results;
  }

  /** multiRead (op 22): independent reads; failed ops come back as error results (not thrown). */
  async multiRead(ops: readonly MultiOp[]): Promise<MultiResult[]> {
    if (ops.length === 0) return [];
    const serverOps = ops.map((m) => this.withServerPath(m));
    const res = await this.call({ type: OpCode.multiRead, req: { ops: serverOps } }, undefined);
    return (res as { results: MultiResult[] }).results;
  }

  async whoAmI(): Promise<{ authScheme: string; user: string }[]> {
    const res = await this.call({ type: OpCode.whoAmI, req: null }, undefined);
    return (res as { clientInfo: { authScheme: string; user: string }[] }).clientInfo;
  }

  /** addWatch (op 106): mode AddWatchMode.PERSISTENT or PERSISTENT_RECURSIVE. */
  async addWatch(path: string, mode: number, watcher?: Watcher): Promise<void> {
    const kind: WatchKind = mode === 1 ? 'persistentRecursive' : 'persistent';
    const hook = (reply: RawReply): void => {
      if (reply.header.err === 0) this.watches.add(kind, path, watcher ?? noopWatcher);
    };
    await this.call({ type: OpCode.addWatch, req: { path: this.serverPath(path), mode } }, path, hook);
  }

  /**
   * removeWatches (op 18) for WatcherType `type`, then the local registrations of that type;
   * the removed watchers (and the 'watch' event) get DataWatchRemoved / ChildWatchRemoved /
   * PersistentWatchRemoved. `local`: remove only locally, without asking the server.
   */
  async removeWatches(path: string, type: number = WatcherType.Any, local = false): Promise<void> {
    if (!local) {
      await this.call({ type: OpCode.removeWatches, req: { path: this.serverPath(path), type } }, path);
    }
    const removed = this.watches.remove(path, type);
    const types = new Set<number>();
    for (const { watcher, eventType } of removed) {
      types.add(eventType);
      try {
        watcher({ type: eventType, state: KeeperState.SyncConnected, path });
      } catch {
        // ignore a failing watcher
      }
    }
    for (const t of types) this.emit('watch', { type: t, state: KeeperState.SyncConnected, path });
  }

  /** checkWatches (op 17): resolves if the server holds such a watch, NOWATCHER otherwise. */
  async checkWatches(path: string, type: number = WatcherType.Any): Promise<void> {
    await this.call({ type: OpCode.checkWatches, req: { path: this.serverPath(path), type } }, path);
  }
}

/** Creates a client; it starts connecting at once (see waitUntilConnected). */
export function createClient(connectString: string, options: ClientOptions = {}): ZkClient {
  return new ZkClient(connectString, options);
}

/** Creates a client and waits for its session; closes it and rethrows if that fails. */
export async function connectClient(connectString: string, options: ClientOptions = {}, timeoutMs?: number): Promise<ZkClient> {
  const client = createClient(connectString, options);
  try {
    await client.waitUntilConnected(timeoutMs);
    return client;
  } catch (e) {
    await client.close();
    throw e;
  }
}
