/**
 * Watches per watcher (a connection id), ZooKeeper's two tables (data and child) with three
 * modes per (path, watcher): standard one-shot, persistent, persistent-recursive. A watcher
 * may hold a standard and a persistent watch on the same path at once (as 3.9's WatchStats).
 *
 * trigger() maps a tree change to the notifications ZooKeeper sends, at most one per watcher
 * per trigger, filtered by READ on the node concerned (ZOOKEEPER-4799) through `canRead`.
 */
import type { ACL } from '../jute/types';
import { WatcherEventType, WatcherType } from '../jute/types';
import type { NodeChange } from './data-tree';
import { parentPath } from './znode-path';

export type WatcherId = number;

const STANDARD = 1;
const PERSISTENT = 2;
const RECURSIVE = 4;

export type WatchTableName = 'data' | 'child';

export interface Notification {
  watcher: WatcherId;
  type: number;
  path: string;
}

export type CanRead = (watcher: WatcherId, acl: readonly ACL[]) => boolean;

class Table {
  /** path -> watcher -> mode bits */
  readonly byPath = new Map<string, Map<WatcherId, number>>();
  /** watcher -> paths */
  readonly byWatcher = new Map<WatcherId, Set<string>>();
  recursiveCount = 0;

  add(path: string, w: WatcherId, bit: number): void {
    let m = this.byPath.get(path);
    if (!m) this.byPath.set(path, (m = new Map()));
    const old = m.get(w) ?? 0;
    if ((old & RECURSIVE) === 0 && bit === RECURSIVE) this.recursiveCount++;
    m.set(w, old | bit);
    let s = this.byWatcher.get(w);
    if (!s) this.byWatcher.set(w, (s = new Set()));
    s.add(path);
  }

  /** Clears `bits` of (path, w); returns the bits actually cleared. */
  clear(path: string, w: WatcherId, bits: number): number {
    const m = this.byPath.get(path);
    const old = m?.get(w);
    if (!m || old === undefined) return 0;
    const cleared = old & bits;
    const left = old & ~bits;
    if (cleared & RECURSIVE) this.recursiveCount--;
    if (left === 0) {
      m.delete(w);
      if (m.size === 0) this.byPath.delete(path);
      const s = this.byWatcher.get(w);
      s?.delete(path);
      if (s && s.size === 0) this.byWatcher.delete(w);
    } else m.set(w, left);
    return cleared;
  }

  modes(path: string, w: WatcherId): number {
    return this.byPath.get(path)?.get(w) ?? 0;
  }

  /** ZooKeeper's triggerWatch for one table; `skip` holds watchers already notified for this change. */
  trigger(path: string, type: number, acl: readonly ACL[], canRead: CanRead, skip: Set<WatcherId> = new Set()): Notification[] {
    // nothing can fire (the usual case under write load): no sets, no walk up the path
    if (this.recursiveCount === 0 && !this.byPath.has(path)) return [];
    const out: Notification[] = [];
    const fired = new Set<WatcherId>();
    const exact = this.byPath.get(path);
    if (exact) {
      for (const [w, bits] of [...exact]) {
        if (bits & STANDARD) this.clear(path, w, STANDARD);
        if ((bits & (STANDARD | PERSISTENT)) === 0 && !(bits & RECURSIVE)) continue;
        // a recursive watch never sees NodeChildrenChanged
        if ((bits & (STANDARD | PERSISTENT)) === 0 && type === WatcherEventType.NodeChildrenChanged) continue;
        fired.add(w);
      }
    }
    if (this.recursiveCount > 0 && type !== WatcherEventType.NodeChildrenChanged && path !== '/') {
      let p = path;
      do {
        p = parentPath(p);
        const m = this.byPath.get(p);
        if (m) for (const [w, bits] of m) if (bits & RECURSIVE) fired.add(w);
      } while (p !== '/');
    }
    for (const w of fired) {
      if (skip.has(w)) continue;
      skip.add(w);
      if (!canRead(w, acl)) continue;
      out.push({ watcher: w, type, path });
    }
    return out;
  }

  removeWatcher(w: WatcherId): void {
    const paths = this.byWatcher.get(w);
    if (!paths) return;
    for (const p of [...paths]) this.clear(p, w, STANDARD | PERSISTENT | RECURSIVE);
  }
}

const allowAll: CanRead = () => true;

export class WatchTable {
  private readonly data = new Table();
  private readonly child = new Table();

  /** getData/exists watch (exists registers even when the node is missing). */
  addDataWatch(path: string, w: WatcherId): void {
    this.data.add(path, w, STANDARD);
  }

  addChildWatch(path: string, w: WatcherId): void {
    this.child.add(path, w, STANDARD);
  }

  /**
   * addWatch: both modes go in both tables, as ZooKeeper 3.8 does (so checkWatches/removeWatches
   * with Children see a recursive watch); a recursive watch never fires NodeChildrenChanged.
   */
  addPersistentWatch(path: string, w: WatcherId, recursive: boolean): void {
    const bit = recursive ? RECURSIVE : PERSISTENT;
    this.data.add(path, w, bit);
    this.child.add(path, w, bit);
  }

  /** Notifications for one tree change, in ZooKeeper's trigger order. */
  trigger(change: NodeChange, canRead: CanRead = allowAll): Notification[] {
    switch (change.type) {
      case 'created': {
        const data = this.data.trigger(change.path, WatcherEventType.NodeCreated, change.acl, canRead);
        const child = this.child.trigger(change.parentPath, WatcherEventType.NodeChildrenChanged, change.parentAcl, canRead);
        return child.length === 0 ? data : data.length === 0 ? child : [...data, ...child];
      }
      case 'deleted': {
        const seen = new Set<WatcherId>();
        return [
          ...this.data.trigger(change.path, WatcherEventType.NodeDeleted, change.acl, canRead, seen),
          ...this.child.trigger(change.path, WatcherEventType.NodeDeleted, change.acl, canRead, seen),
          ...this.child.trigger(change.parentPath, WatcherEventType.NodeChildrenChanged, change.parentAcl, canRead),
        ];
      }
      case 'dataChanged':
        return this.data.trigger(change.path, WatcherEventType.NodeDataChanged, change.acl, canRead);
    }
  }

  private selector(type: number): { table: Table; bits: number }[] | null {
    const all = STANDARD | PERSISTENT | RECURSIVE;
    // Children / Data / Any match any mode in their table, as 3.8; Persistent and
    // PersistentRecursive (3.9 clients) match just that mode
    switch (type) {
      case WatcherType.Children:
        return [{ table: this.child, bits: all }];
      case WatcherType.Data:
        return [{ table: this.data, bits: all }];
      case WatcherType.Persistent:
        return [
          { table: this.data, bits: PERSISTENT },
          { table: this.child, bits: PERSISTENT },
        ];
      case WatcherType.PersistentRecursive:
        return [
          { table: this.data, bits: RECURSIVE },
          { table: this.child, bits: RECURSIVE },
        ];
      case WatcherType.Any:
        return [
          { table: this.data, bits: STANDARD | PERSISTENT | RECURSIVE },
          { table: this.child, bits: STANDARD | PERSISTENT | RECURSIVE },
        ];
      default:
        return null;
    }
  }

  /** checkWatches: does `w` hold a watch of WatcherType `type` on `path`? */
  contains(path: string, type: number, w: WatcherId): boolean {
    const sel = this.selector(type);
    return sel !== null && sel.some(({ table, bits }) => (table.modes(path, w) & bits) !== 0);
  }

  /** removeWatches: true when something was removed. */
  remove(path: string, type: number, w: WatcherId): boolean {
    const sel = this.selector(type);
    if (!sel) return false;
    let removed = false;
    for (const { table, bits } of sel) if (table.clear(path, w, bits) !== 0) removed = true;
    return removed;
  }

  /** Drops every watch of a closed connection. */
  removeWatcher(w: WatcherId): void {
    this.data.removeWatcher(w);
    this.child.removeWatcher(w);
  }

  /** Total (path, watcher) registrations over both tables, as `wchs`'s "Total watches". */
  get watchCount(): number {
    let n = 0;
    for (const t of [this.data, this.child]) for (const m of t.byPath.values()) n += m.size;
    return n;
  }

  /** path -> watchers (both tables merged), sorted: for `wchp`. */
  byPath(): Map<string, WatcherId[]> {
    const out = new Map<string, Set<WatcherId>>();
    for (const t of [this.data, this.child])
      for (const [p, m] of t.byPath) {
        let s = out.get(p);
        if (!s) out.set(p, (s = new Set()));
        for (const w of m.keys()) s.add(w);
      }
    return new Map([...out].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([p, s]) => [p, [...s].sort((a, b) => a - b)]));
  }

  /** watcher -> paths, sorted: for `wchc`. */
  byWatcher(): Map<WatcherId, string[]> {
    const out = new Map<WatcherId, Set<string>>();
    for (const t of [this.data, this.child])
      for (const [w, ps] of t.byWatcher) {
        let s = out.get(w);
        if (!s) out.set(w, (s = new Set()));
        for (const p of ps) s.add(p);
      }
    return new Map([...out].sort((a, b) => a[0] - b[0]).map(([w, s]) => [w, [...s].sort()]));
  }

  /** Number of distinct watched paths. */
  get pathCount(): number {
    let n = this.data.byPath.size;
    for (const p of this.child.byPath.keys()) if (!this.data.byPath.has(p)) n++;
    return n;
  }

  /** Number of connections holding at least one watch. */
  get watcherCount(): number {
    let n = this.data.byWatcher.size;
    for (const w of this.child.byWatcher.keys()) if (!this.data.byWatcher.has(w)) n++;
    return n;
  }
}
