/**
 * More of the tree for the renderer, over the tree host's session: ACLs (with the digest id
 * helper), a subtree exported as JSON, imported or copied, and search by path or content.
 * Every walk is bounded; outcomes come back as sentences.
 */
import { createHash } from 'node:crypto';
import type { AclEntryView, SearchHit, SubtreeNodeView, TreeToolCalls } from '../api/contract';
import { ErrorCode } from '../common/error-codes';
import { ZooLabError } from '../common/errors';
import { CreateFlags, type ACL } from '../jute/types';
import type { Outcome, ShellZk } from '../shell';
import { statView } from './tree-host';

/** a subtree export/import/copy handles at most this many znodes */
export const subtreeJsonNodesMax = 50_000;
/** a search visits at most this many znodes and returns at most hitsMax hits */
export const searchVisitMax = 20_000;
export const searchHitsMax = 200;
const openAclUnsafe: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

type Must = <T>(r: Outcome<T>, path: string, doing: string) => T;

const join = (parent: string, name: string): string => (parent === '/' ? `/${name}` : `${parent}/${name}`);

/** ZooKeeper's DigestAuthenticationProvider id: user:base64(sha1("user:password")) */
export function digestId(user: string, password: string): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`, 'utf8').digest('base64')}`;
}

function countNodes(n: SubtreeNodeView, max: number): number {
  let total = 0;
  const stack: SubtreeNodeView[] = [n];
  while (stack.length > 0) {
    const x = stack.pop() as SubtreeNodeView;
    if (++total > max) throw new ZooLabError('USAGE', `the subtree has more than ${max} znodes: import it in parts`);
    if (typeof x !== 'object' || x === null || typeof x.children !== 'object' || x.children === null) throw new ZooLabError('USAGE', 'not a ZooLab subtree export: each node is { data, children }');
    if (x.data !== null && (typeof x.data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(x.data))) throw new ZooLabError('USAGE', 'not a ZooLab subtree export: data is base64 or null');
    for (const [name, c] of Object.entries(x.children)) {
      if (name === '' || name.includes('/') || name === '.' || name === '..') throw new ZooLabError('USAGE', `'${name}' is not a znode name`);
      stack.push(c);
    }
  }
  return total;
}

export function createTreeTools(session: () => Promise<ShellZk>, must: Must): TreeToolCalls {
  const b64 = (d: Uint8Array | null): string | null => (d === null ? null : Buffer.from(d).toString('base64'));

  async function exportTree(path: string): Promise<{ root: SubtreeNodeView; nodes: number }> {
    const z = await session();
    const root: SubtreeNodeView = { data: null, children: {} };
    const queue: { path: string; node: SubtreeNodeView }[] = [{ path, node: root }];
    let nodes = 0;
    for (let i = 0; i < queue.length; i++) {
      const { path: p, node } = queue[i] as { path: string; node: SubtreeNodeView };
      if (++nodes > subtreeJsonNodesMax) throw new ZooLabError('USAGE', `${path} has more than ${subtreeJsonNodesMax} znodes: export a smaller subtree`);
      const [d, c] = await Promise.all([z.getData(p, false), z.getChildren(p, false)]);
      node.data = b64(must(d, p, 'read').data);
      for (const name of must(c, p, 'list').children.sort()) {
        const child: SubtreeNodeView = { data: null, children: {} };
        node.children[name] = child;
        queue.push({ path: join(p, name), node: child });
      }
    }
    return { root, nodes };
  }

  async function importTree(path: string, root: SubtreeNodeView): Promise<{ created: number; updated: number }> {
    countNodes(root, subtreeJsonNodesMax);
    const z = await session();
    let created = 0;
    let updated = 0;
    const queue: { path: string; node: SubtreeNodeView }[] = [{ path, node: root }];
    for (let i = 0; i < queue.length; i++) {
      const { path: p, node } = queue[i] as { path: string; node: SubtreeNodeView };
      const data = node.data === null ? null : new Uint8Array(Buffer.from(node.data, 'base64'));
      const r = await z.create(p, data, openAclUnsafe, CreateFlags.PERSISTENT);
      if (r.ok) created++;
      else if (r.code === ErrorCode.NODEEXISTS) {
        must(await z.setData(p, data, -1), p, 'update');
        updated++;
      } else must(r, p, 'create');
      for (const [name, c] of Object.entries(node.children)) queue.push({ path: join(p, name), node: c });
    }
    return { created, updated };
  }

  return {
    async treeGetAcl(path) {
      const r = must(await (await session()).getACL(path), path, 'read the ACL of');
      return { acl: r.acl.map((a) => ({ scheme: a.id.scheme, id: a.id.id, perms: a.perms })), stat: statView(r.stat) };
    },
    async treeSetAcl(path, acl: AclEntryView[], aversion) {
      const z = await session();
      const r = await z.setACL(path, acl.map((a) => ({ perms: a.perms, id: { scheme: a.scheme, id: a.id } })), aversion);
      if (!r.ok && r.code === ErrorCode.BADVERSION) throw new ZooLabError('CONNECTION', `version conflict: the ACL of ${path} changed since you loaded it. Reload it, then save again.`);
      if (!r.ok && r.code === ErrorCode.INVALIDACL) throw new ZooLabError('USAGE', `that ACL is not valid for ${path}: a digest id is user:hash (use the digest helper), an ip id an address or CIDR, 'auth' needs an authenticated session`);
      return statView(must(r, path, 'set the ACL of'));
    },
    async treeDigestId(user, password) {
      return digestId(user, password);
    },
    async treeExport(path) {
      const { root, nodes } = await exportTree(path);
      return { format: 'zoolab-subtree/1', path, nodes, root };
    },
    treeImport: importTree,
    async treeCopy(from, to) {
      const { root } = await exportTree(from);
      return importTree(to, root);
    },
    async treeSearch(path, text, inContent) {
      const z = await session();
      const needle = text.toLowerCase();
      const hits: SearchHit[] = [];
      const queue = [path];
      let visited = 0;
      let truncated = false;
      const decoder = new TextDecoder('utf-8', { fatal: false });
      for (let i = 0; i < queue.length; i++) {
        if (visited >= searchVisitMax || hits.length >= searchHitsMax) {
          truncated = true;
          break;
        }
        const p = queue[i] as string;
        visited++;
        const c = await z.getChildren(p, false);
        if (!c.ok && c.code === ErrorCode.NONODE) continue;
        for (const name of must(c, p, 'list').children.sort()) queue.push(join(p, name));
        if (p.toLowerCase().includes(needle)) {
          hits.push({ path: p, match: 'path', snippet: null });
          continue;
        }
        if (!inContent) continue;
        const d = await z.getData(p, false);
        if (!d.ok || d.value.data === null) continue;
        const textOf = decoder.decode(d.value.data);
        const at = textOf.toLowerCase().indexOf(needle);
        if (at >= 0) hits.push({ path: p, match: 'content', snippet: textOf.slice(Math.max(0, at - 30), at + needle.length + 30) });
      }
      return { hits, visited, truncated };
    },
  };
}
