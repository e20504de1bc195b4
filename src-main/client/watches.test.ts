import { describe, expect, it } from 'vitest';
import { WatcherEventType as T, WatcherType } from '../jute/types';
import { WatchRegistry, type WatchedEvent, type Watcher } from './watches';

function ev(type: number, path: string): WatchedEvent {
  return { type, state: 3, path };
}

describe('WatchRegistry', () => {
  const a: Watcher = () => {};
  const b: Watcher = () => {};

  it('data and exist watches are one-shot and fire on create / data change / delete', () => {
    const r = new WatchRegistry();
    r.add('data', '/x', a);
    r.add('exist', '/y', b);
    expect([...r.materialize(ev(T.NodeDataChanged, '/x'))]).toEqual([a]);
    expect(r.materialize(ev(T.NodeDataChanged, '/x')).size).toBe(0);
    expect([...r.materialize(ev(T.NodeCreated, '/y'))]).toEqual([b]);
    expect(r.size).toBe(0);
  });

  it('child watches fire on NodeChildrenChanged and NodeDeleted, not on data changes', () => {
    const r = new WatchRegistry();
    r.add('child', '/p', a);
    expect(r.materialize(ev(T.NodeDataChanged, '/p')).size).toBe(0);
    expect([...r.materialize(ev(T.NodeChildrenChanged, '/p'))]).toEqual([a]);
    r.add('child', '/p', a);
    expect([...r.materialize(ev(T.NodeDeleted, '/p'))]).toEqual([a]);
  });

  it('a watcher registered several ways is called once per event', () => {
    const r = new WatchRegistry();
    r.add('data', '/p', a);
    r.add('child', '/p', a);
    r.add('persistent', '/p', a);
    expect([...r.materialize(ev(T.NodeDeleted, '/p'))]).toEqual([a]);
    expect(r.has('persistent', '/p')).toBe(true);
  });

  it('persistent watches stay; recursive ones match descendants but never NodeChildrenChanged', () => {
    const r = new WatchRegistry();
    r.add('persistent', '/p', a);
    r.add('persistentRecursive', '/', b);
    expect(r.materialize(ev(T.NodeDataChanged, '/p'))).toEqual(new Set([a, b]));
    expect(r.materialize(ev(T.NodeDataChanged, '/p'))).toEqual(new Set([a, b]));
    expect(r.materialize(ev(T.NodeCreated, '/p/q/r'))).toEqual(new Set([b]));
    expect(r.materialize(ev(T.NodeChildrenChanged, '/p'))).toEqual(new Set([a]));
  });

  it('remove by WatcherType reports the local removal event type of each watcher', () => {
    const r = new WatchRegistry();
    r.add('data', '/p', a);
    r.add('child', '/p', b);
    r.add('persistentRecursive', '/p', a);
    expect(r.remove('/p', WatcherType.Children)).toEqual([{ watcher: b, eventType: T.ChildWatchRemoved }]);
    expect(r.remove('/p', WatcherType.Any)).toEqual([
      { watcher: a, eventType: T.DataWatchRemoved },
      { watcher: a, eventType: T.PersistentWatchRemoved },
    ]);
    expect(r.size).toBe(0);
  });

  it('lists() gives the paths per kind for setWatches', () => {
    const r = new WatchRegistry();
    r.add('data', '/d', a);
    r.add('exist', '/e', a);
    r.add('child', '/c', a);
    r.add('persistent', '/p', a);
    r.add('persistentRecursive', '/r', a);
    expect(r.lists()).toEqual({ data: ['/d'], exist: ['/e'], child: ['/c'], persistent: ['/p'], persistentRecursive: ['/r'] });
  });
});
