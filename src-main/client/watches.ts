/**
 * The client's watch registrations, keyed by caller path (chroot removed), as the Java client's
 * ZKWatchManager keeps them: one-shot data / exist / child watches, persistent and
 * persistent-recursive watches. `materialize` picks (and for one-shots removes) the watchers
 * an event reaches; each watcher is called at most once per event.
 */
import { WatcherEventType, WatcherType } from '../jute/types';

export interface WatchedEvent {
  /** WatcherEventType */
  type: number;
  /** KeeperState (3 = SyncConnected for server events) */
  state: number;
  /** caller path (chroot removed) */
  path: string;
}

export type Watcher = (event: WatchedEvent) => void;

export type WatchKind = 'data' | 'exist' | 'child' | 'persistent' | 'persistentRecursive';

export interface WatchLists {
  data: string[];
  exist: string[];
  child: string[];
  persistent: string[];
  persistentRecursive: string[];
}

function parentsAndSelf(path: string): string[] {
  const out = [path];
  let p = path;
  while (p !== '/' && p !== '') {
    const i = p.lastIndexOf('/');
    p = i <= 0 ? '/' : p.slice(0, i);
    out.push(p);
  }
  return out;
}

export class WatchRegistry {
  private readonly tables: Record<WatchKind, Map<string, Set<Watcher>>> = {
    data: new Map(),
    exist: new Map(),
    child: new Map(),
    persistent: new Map(),
    persistentRecursive: new Map(),
  };

  add(kind: WatchKind, path: string, watcher: Watcher): void {
    const table = this.tables[kind];
    let set = table.get(path);
    if (set === undefined) {
      set = new Set();
      table.set(path, set);
    }
    set.add(watcher);
  }

  has(kind: WatchKind, path: string): boolean {
    return (this.tables[kind].get(path)?.size ?? 0) > 0;
  }

  /** The watchers a server event reaches; one-shot registrations are removed. */
  materialize(event: WatchedEvent): Set<Watcher> {
    const out = new Set<Watcher>();
    const take = (kind: WatchKind, path: string): void => {
      const set = this.tables[kind].get(path);
      if (set === undefined) return;
      for (const w of set) out.add(w);
      this.tables[kind].delete(path);
    };
    const keep = (kind: WatchKind, path: string): void => {
      for (const w of this.tables[kind].get(path) ?? []) out.add(w);
    };
    const recursive = (): void => {
      for (const p of parentsAndSelf(event.path)) keep('persistentRecursive', p);
    };
    switch (event.type) {
      case WatcherEventType.NodeCreated:
      case WatcherEventType.NodeDataChanged:
        take('data', event.path);
        take('exist', event.path);
        keep('persistent', event.path);
        recursive();
        break;
      case WatcherEventType.NodeChildrenChanged:
        take('child', event.path);
        keep('persistent', event.path);
        break;
      case WatcherEventType.NodeDeleted:
        take('data', event.path);
        take('exist', event.path);
        take('child', event.path);
        keep('persistent', event.path);
        recursive();
        break;
      default:
        break;
    }
    return out;
  }

  /**
   * Removes the registrations of WatcherType `type` on `path`; returns the removed watchers with
   * the local event type each should receive (DataWatchRemoved, ChildWatchRemoved,
   * PersistentWatchRemoved).
   */
  remove(path: string, type: number): { watcher: Watcher; eventType: number }[] {
    const kinds: { kind: WatchKind; eventType: number }[] = [];
    const data = { kind: 'data' as const, eventType: WatcherEventType.DataWatchRemoved };
    const exist = { kind: 'exist' as const, eventType: WatcherEventType.DataWatchRemoved };
    const child = { kind: 'child' as const, eventType: WatcherEventType.ChildWatchRemoved };
    const persistent = { kind: 'persistent' as const, eventType: WatcherEventType.PersistentWatchRemoved };
    const recursive = { kind: 'persistentRecursive' as const, eventType: WatcherEventType.PersistentWatchRemoved };
    switch (type) {
      case WatcherType.Children:
        kinds.push(child);
        break;
      case WatcherType.Data:
        kinds.push(data, exist);
        break;
      case WatcherType.Persistent:
        kinds.push(persistent);
        break;
      case WatcherType.PersistentRecursive:
        kinds.push(recursive);
        break;
      default:
        kinds.push(data, exist, child, persistent, recursive);
    }
    const out: { watcher: Watcher; eventType: number }[] = [];
    for (const { kind, eventType } of kinds) {
      const set = this.tables[kind].get(path);
      if (set === undefined) continue;
      for (const watcher of set) out.push({ watcher, eventType });
      this.tables[kind].delete(path);
    }
    return out;
  }

  /** Paths per kind, for setWatches/setWatches2 after a reconnect. */
  lists(): WatchLists {
    return {
      data: [...this.tables.data.keys()],
      exist: [...this.tables.exist.keys()],
      child: [...this.tables.child.keys()],
      persistent: [...this.tables.persistent.keys()],
      persistentRecursive: [...this.tables.persistentRecursive.keys()],
    };
  }

  get size(): number {
    let n = 0;
    for (const t of Object.values(this.tables)) n += t.size;
    return n;
  }

  clear(): void {
    for (const t of Object.values(this.tables)) t.clear();
  }
}
