import { describe, expect, it } from 'vitest';
import type { ACL } from '../jute/types';
import { WatcherEventType as E, WatcherType } from '../jute/types';
import { OPEN_ACL_UNSAFE } from './acl';
import type { NodeChange } from './data-tree';
import { WatchTable } from './watch-table';

const acl: ACL[] = [...OPEN_ACL_UNSAFE];
const created = (path: string, parent: string): NodeChange => ({ type: 'created', path, acl, parentPath: parent, parentAcl: acl });
const deleted = (path: string, parent: string): NodeChange => ({ type: 'deleted', path, acl, parentPath: parent, parentAcl: acl });
const changed = (path: string): NodeChange => ({ type: 'dataChanged', path, acl });
const ev = (t: WatchTable, c: NodeChange) => t.trigger(c).map((n) => [n.watcher, n.type, n.path]);

describe('watch table: which events each change triggers', () => {
  it('create P: NodeCreated to data/exist watches on P, NodeChildrenChanged to child watches on parent', () => {
    const t = new WatchTable();
    t.addDataWatch('/a/b', 1);
    t.addChildWatch('/a', 2);
    t.addChildWatch('/a/b', 3);
    expect(ev(t, created('/a/b', '/a'))).toEqual([
      [1, E.NodeCreated, '/a/b'],
      [2, E.NodeChildrenChanged, '/a'],
    ]);
  });

  it('delete P: NodeDeleted once per watcher for data+child watches on P, NodeChildrenChanged on parent', () => {
    const t = new WatchTable();
    t.addDataWatch('/a/b', 1);
    t.addChildWatch('/a/b', 1);
    t.addChildWatch('/a/b', 2);
    t.addChildWatch('/a', 3);
    expect(ev(t, deleted('/a/b', '/a'))).toEqual([
      [1, E.NodeDeleted, '/a/b'],
      [2, E.NodeDeleted, '/a/b'],
      [3, E.NodeChildrenChanged, '/a'],
    ]);
    expect(t.watchCount).toBe(0);
  });

  it('setData P: NodeDataChanged to data watches only', () => {
    const t = new WatchTable();
    t.addDataWatch('/a', 1);
    t.addChildWatch('/a', 2);
    expect(ev(t, changed('/a'))).toEqual([[1, E.NodeDataChanged, '/a']]);
  });

  it('standard watches are one-shot', () => {
    const t = new WatchTable();
    t.addDataWatch('/a', 1);
    expect(ev(t, changed('/a'))).toHaveLength(1);
    expect(ev(t, changed('/a'))).toHaveLength(0);
  });

  it('persistent watch: data and child events on the path, stays registered', () => {
    const t = new WatchTable();
    t.addPersistentWatch('/a', 1, false);
    expect(ev(t, changed('/a'))).toEqual([[1, E.NodeDataChanged, '/a']]);
    expect(ev(t, created('/a/x', '/a'))).toEqual([[1, E.NodeChildrenChanged, '/a']]);
    expect(ev(t, changed('/a'))).toEqual([[1, E.NodeDataChanged, '/a']]);
    expect(ev(t, changed('/a/x'))).toEqual([]);
    expect(ev(t, deleted('/a', '/'))).toEqual([[1, E.NodeDeleted, '/a']]);
  });

  it('persistent-recursive: path and descendants, never NodeChildrenChanged', () => {
    const t = new WatchTable();
    t.addPersistentWatch('/a', 7, true);
    expect(ev(t, created('/a/x/y', '/a/x'))).toEqual([[7, E.NodeCreated, '/a/x/y']]);
    expect(ev(t, changed('/a'))).toEqual([[7, E.NodeDataChanged, '/a']]);
    expect(ev(t, deleted('/a/x/y', '/a/x'))).toEqual([[7, E.NodeDeleted, '/a/x/y']]);
    expect(ev(t, changed('/ab'))).toEqual([]);
    t.addPersistentWatch('/', 8, true);
    expect(ev(t, changed('/a/x'))).toEqual([
      [7, E.NodeDataChanged, '/a/x'],
      [8, E.NodeDataChanged, '/a/x'],
    ]);
  });

  it('standard and persistent on the same path: one event per trigger, persistent survives', () => {
    const t = new WatchTable();
    t.addPersistentWatch('/a', 1, false);
    t.addDataWatch('/a', 1);
    expect(ev(t, changed('/a'))).toEqual([[1, E.NodeDataChanged, '/a']]);
    // Data matches any mode in the data table (3.8); the persistent one is what is left
    expect(t.contains('/a', WatcherType.Data, 1)).toBe(true);
    expect(t.remove('/a', WatcherType.Persistent, 1)).toBe(true);
    expect(t.contains('/a', WatcherType.Data, 1)).toBe(false);
    expect(ev(t, changed('/a'))).toEqual([]);
  });

  it('ACL filter: no event without READ, the one-shot watch is consumed', () => {
    const t = new WatchTable();
    t.addDataWatch('/a', 1);
    t.addDataWatch('/a', 2);
    const out = t.trigger(changed('/a'), (w) => w === 2);
    expect(out.map((n) => n.watcher)).toEqual([2]);
    expect(t.watchCount).toBe(0);
  });
});

describe('watch table: check/remove and bookkeeping', () => {
  it('contains/remove per WatcherType', () => {
    const t = new WatchTable();
    t.addDataWatch('/a', 1);
    t.addChildWatch('/a', 1);
    t.addPersistentWatch('/b', 1, true);
    expect(t.contains('/a', WatcherType.Children, 1)).toBe(true);
    expect(t.contains('/a', WatcherType.Data, 2)).toBe(false);
    expect(t.contains('/b', WatcherType.PersistentRecursive, 1)).toBe(true);
    expect(t.contains('/b', WatcherType.Persistent, 1)).toBe(false);
    // like 3.8, a recursive watch sits in the child table too (it never gets NodeChildrenChanged)
    expect(t.contains('/b', WatcherType.Children, 1)).toBe(true);
    expect(t.remove('/a', WatcherType.Data, 1)).toBe(true);
    expect(t.remove('/a', WatcherType.Data, 1)).toBe(false);
    expect(t.remove('/a', WatcherType.Any, 1)).toBe(true);
    expect(t.remove('/b', 99, 1)).toBe(false);
    expect(t.byWatcher()).toEqual(new Map([[1, ['/b']]]));
  });

  it('removeWatcher drops everything of a connection; byPath/byWatcher for wchp/wchc', () => {
    const t = new WatchTable();
    t.addDataWatch('/a', 1);
    t.addChildWatch('/a', 2);
    t.addPersistentWatch('/c', 2, false);
    expect(t.byPath()).toEqual(
      new Map([
        ['/a', [1, 2]],
        ['/c', [2]],
      ]),
    );
    expect(t.watchCount).toBe(4);
    t.removeWatcher(2);
    expect(t.byWatcher()).toEqual(new Map([[1, ['/a']]]));
    expect(t.pathCount).toBe(1);
  });
});
