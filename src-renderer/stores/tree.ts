/**
 * The znode tree: loaded children per path (normalised, in shallowRefs: a parent may have
 * 100,000 children), expanded paths, the selected node and its data. Watch events refresh
 * what they touch (batched per animation frame) without losing expansion or selection.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import type { CreateModeName, StatView } from '../../src-main/api/contract';
import { useBridge } from '../bridge';
import { batchPerFrame } from '../lib/frame-batch';
import { childPath, flattenTree, parentPath, searchLoaded } from '../lib/tree-model';
import { useClusterStore } from './cluster';

export interface NodeData {
  path: string;
  dataBase64: string | null;
  stat: StatView;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export const useTreeStore = defineStore('tree', () => {
  const bridge = useBridge();
  const cluster = useClusterStore();
  const children = shallowRef(new Map<string, string[]>());
  const numChildren = shallowRef(new Map<string, number>());
  const expanded = ref(new Set<string>(['/']));
  const selected = ref<string | null>(null);
  const node = shallowRef<NodeData | null>(null);
  /** the selected node changed on the server after it was loaded (someone else wrote) */
  const changedRemotely = ref(false);
  const error = ref<string | null>(null);
  const loading = ref(new Set<string>());

  /** path search over what is loaded; empty: the tree itself */
  const query = ref('');
  const rows = computed(() => (query.value.trim() ? searchLoaded(children.value, query.value.trim()) : flattenTree(children.value, expanded.value, numChildren.value)));

  function setChildren(path: string, list: string[] | null): void {
    const next = new Map(children.value);
    if (list === null) next.delete(path);
    else next.set(path, list);
    children.value = next;
  }
  function setCount(path: string, n: number): void {
    numChildren.value = new Map(numChildren.value).set(path, n);
  }

  /** bumped when the ensemble changes: answers about the old tree are dropped */
  let epoch = 0;
  /** whose copy is shown: null = the ensemble, else one server's local copy */
  const viewServer = ref<number | null>(null);

  function reset(): void {
    epoch++;
    children.value = new Map();
    numChildren.value = new Map();
    node.value = null;
    selected.value = null;
  }
  async function useServer(id: number | null): Promise<void> {
    try {
      await bridge.calls.treeUseServer(id);
      viewServer.value = id;
      reset();
      error.value = null;
      await load('/');
    } catch (e) {
      error.value = messageOf(e);
    }
  }

  async function load(path: string): Promise<void> {
    const asked = epoch;
    loading.value = new Set(loading.value).add(path);
    try {
      const r = await bridge.calls.treeChildren(path);
      if (asked !== epoch) return;
      setChildren(path, r.children);
      setCount(path, r.stat.numChildren);
      error.value = null;
    } catch (e) {
      if (/does not exist/.test(messageOf(e))) forget(path);
      else error.value = messageOf(e);
    } finally {
      const l = new Set(loading.value);
      l.delete(path);
      loading.value = l;
    }
  }

  function forget(path: string): void {
    setChildren(path, null);
    if (selected.value === path) {
      node.value = null;
      selected.value = null;
    }
  }

  async function toggle(path: string): Promise<void> {
    const next = new Set(expanded.value);
    if (next.has(path)) next.delete(path);
    else {
      next.add(path);
      if (!children.value.has(path)) await load(path);
    }
    expanded.value = next;
  }

  async function select(path: string): Promise<void> {
    selected.value = path;
    const asked = epoch;
    try {
      const r = await bridge.calls.treeGet(path);
      if (selected.value !== path || asked !== epoch) return;
      node.value = { path, ...r };
      setCount(path, r.stat.numChildren);
      changedRemotely.value = false;
      error.value = null;
    } catch (e) {
      error.value = messageOf(e);
    }
  }

  /** Saves; on a version conflict the error says so and the caller keeps the draft. */
  async function save(path: string, dataBase64: string | null, version: number): Promise<boolean> {
    try {
      const stat = await bridge.calls.treeSet(path, dataBase64, version);
      node.value = { path, dataBase64, stat };
      changedRemotely.value = false;
      error.value = null;
      // our own write fired (and so used up) the data watch: read again to watch again
      void recheck(path);
      return true;
    } catch (e) {
      error.value = messageOf(e);
      return false;
    }
  }

  /**
   * A data watch fired on the selected node (or was used up by our own save): read its Stat,
   * which watches again. Only a newer mzxid than the one shown means someone else wrote; the
   * shown data and the editor's draft stay as they are, so saving names the old version.
   */
  async function recheck(path: string): Promise<void> {
    const asked = epoch;
    try {
      const r = await bridge.calls.treeGet(path);
      const shown = node.value;
      if (asked !== epoch || !shown || shown.path !== path) return;
      if (r.stat.mzxid !== shown.stat.mzxid) changedRemotely.value = true;
    } catch {
      // deleted meanwhile: the 'deleted' event takes care of it
    }
  }

  async function create(parent: string, name: string, dataBase64: string | null, mode: CreateModeName, ttlMs?: number): Promise<string | null> {
    try {
      const created = await (ttlMs === undefined ? bridge.calls.treeCreate(childPath(parent, name), dataBase64, mode) : bridge.calls.treeCreate(childPath(parent, name), dataBase64, mode, ttlMs));
      expanded.value = new Set(expanded.value).add(parent);
      await load(parent);
      await select(created);
      return created;
    } catch (e) {
      error.value = messageOf(e);
      return null;
    }
  }

  async function remove(path: string, version: number, recursive: boolean): Promise<boolean> {
    try {
      await bridge.calls.treeDelete(path, version, recursive);
      forget(path);
      await load(parentPath(path));
      return true;
    } catch (e) {
      error.value = messageOf(e);
      return false;
    }
  }

  const onChanges = batchPerFrame<{ path: string; what: string }>(
    (run) => requestAnimationFrame(run),
    (events) => {
      const reload = new Set<string>();
      for (const e of events) {
        if (e.what === 'children' && children.value.has(e.path)) reload.add(e.path);
        if (e.what === 'deleted' || e.what === 'created') reload.add(parentPath(e.path));
        if (e.what === 'deleted') forget(e.path);
        if (e.what === 'data' && selected.value === e.path) void recheck(e.path);
      }
      for (const p of reload) if (children.value.has(p)) void load(p);
    },
  );

  // Set up here, in the store's own scope: watchers made inside a component's hook would stop
  // when that component unmounts (the tree panel does, whenever the ensemble stops).
  bridge.on('treeChanged', (e) => onChanges([e]));
  // a new ensemble is a new tree: start again from /
  watch(
    () => cluster.ensemble?.connectionString ?? null,
    (cs, before) => {
      if (cs === before) return;
      reset();
      viewServer.value = null;
      if (cs !== null) void load('/');
    },
    { immediate: true },
  );
  // the first load fails while no quorum serves; try again once there is a leader
  watch(
    () => cluster.summary?.leader ?? null,
    (leader) => {
      if (leader !== null && !children.value.has('/')) void load('/');
    },
  );

  return { children, expanded, selected, node, changedRemotely, error, loading, query, rows, viewServer, load, toggle, select, save, create, remove, useServer };
});
