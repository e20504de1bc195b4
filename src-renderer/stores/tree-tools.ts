/**
 * Tree tools beside the tree store: the selected znode's ACL (view, edit, digest helper),
 * subtree export / import / copy as JSON, and search on the server by path or content.
 */
import { defineStore } from 'pinia';
import { ref, shallowRef, watch } from 'vue';
import type { AclEntryView, SearchHit, StatView, SubtreeExport } from '../../src-main/api/contract';
import { useBridge } from '../bridge';
import { parentPath } from '../lib/tree-model';
import { useTreeStore } from './tree';

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export const useTreeToolsStore = defineStore('tree-tools', () => {
  const bridge = useBridge();
  const tree = useTreeStore();
  const acl = shallowRef<{ path: string; entries: AclEntryView[]; stat: StatView } | null>(null);
  const busy = ref(false);
  /** what the last tool did, in words */
  const done = ref<string | null>(null);
  const hits = shallowRef<SearchHit[] | null>(null);
  const searchNote = ref('');

  async function run<T>(op: () => Promise<T>): Promise<T | null> {
    busy.value = true;
    done.value = null;
    try {
      return await op();
    } catch (e) {
      tree.error = messageOf(e);
      return null;
    } finally {
      busy.value = false;
    }
  }

  async function loadAcl(path: string): Promise<void> {
    try {
      const r = await bridge.calls.treeGetAcl(path);
      if (tree.selected === path) acl.value = { path, entries: r.acl, stat: r.stat };
    } catch {
      acl.value = null;
    }
  }
  watch(
    () => tree.node?.path ?? null,
    (p) => {
      acl.value = null;
      if (p !== null) void loadAcl(p);
    },
  );

  async function saveAcl(path: string, entries: AclEntryView[], aversion: number): Promise<boolean> {
    const stat = await run(() => bridge.calls.treeSetAcl(path, entries, aversion));
    if (!stat) return false;
    await loadAcl(path);
    done.value = `ACL of ${path} saved (aversion ${stat.aversion})`;
    return true;
  }

  const digestId = (user: string, password: string) => run(() => bridge.calls.treeDigestId(user, password));

  const exportSubtree = (path: string): Promise<SubtreeExport | null> => run(() => bridge.calls.treeExport(path));

  async function importSubtree(path: string, json: string): Promise<boolean> {
    let parsed: SubtreeExport;
    try {
      parsed = JSON.parse(json) as SubtreeExport;
    } catch (e) {
      tree.error = `That is not JSON (${messageOf(e)}): paste or pick a file that Export wrote.`;
      return false;
    }
    const root = parsed.format === 'zoolab-subtree/1' ? parsed.root : (parsed as unknown as SubtreeExport['root']);
    const r = await run(() => bridge.calls.treeImport(path, root));
    if (!r) return false;
    done.value = `imported into ${path}: ${r.created} created, ${r.updated} updated`;
    await tree.load(parentPath(path));
    if (tree.children.has(path)) await tree.load(path);
    return true;
  }

  async function copySubtree(from: string, to: string): Promise<boolean> {
    const r = await run(() => bridge.calls.treeCopy(from, to));
    if (!r) return false;
    done.value = `copied ${from} → ${to}: ${r.created} created, ${r.updated} updated`;
    await tree.load(parentPath(to));
    return true;
  }

  async function search(from: string, text: string, inContent: boolean): Promise<void> {
    const r = await run(() => bridge.calls.treeSearch(from, text, inContent));
    if (!r) return;
    hits.value = r.hits;
    searchNote.value = `${r.hits.length} match${r.hits.length === 1 ? '' : 'es'} for "${text}" below ${from}${inContent ? ' (paths and data)' : ' (paths)'}, ${r.visited} znodes looked at${r.truncated ? ' — stopped early: narrow the search' : ''}`;
  }
  function clearSearch(): void {
    hits.value = null;
    searchNote.value = '';
  }

  return { acl, busy, done, hits, searchNote, loadAcl, saveAcl, digestId, exportSubtree, importSubtree, copySubtree, search, clearSearch };
});
