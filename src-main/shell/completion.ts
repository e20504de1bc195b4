/**
 * Tab completion for the shell: command names for the first word, znode paths (from the live
 * tree, through `listChildren`) for any word starting with `/`. Terminal-independent: it maps
 * (line, cursor) to a new line, cursor and the candidates to list when the word is ambiguous.
 */
import type { CompletionResult } from './line-editor';
import { joinPath } from './paths-acl';

/** Children of a znode, or null when it cannot be listed (missing, no permission, offline). */
export type ListChildren = (path: string) => Promise<string[] | null>;

function commonPrefix(items: readonly string[]): string {
  if (items.length === 0) return '';
  let p = items[0] ?? '';
  for (const s of items) {
    let i = 0;
    while (i < p.length && i < s.length && p[i] === s[i]) i++;
    p = p.slice(0, i);
  }
  return p;
}

export async function complete(
  line: string,
  cursor: number,
  commands: readonly string[],
  listChildren: ListChildren,
): Promise<CompletionResult> {
  const before = line.slice(0, cursor);
  const after = line.slice(cursor);
  const start = before.search(/\S*$/);
  const word = before.slice(start);
  const head = before.slice(0, start);
  const unchanged: CompletionResult = { line, cursor, candidates: [] };
  const replace = (text: string, candidates: string[]): CompletionResult => ({
    line: head + text + after,
    cursor: head.length + text.length,
    candidates,
  });

  if (head.trim() === '') {
    const matches = commands.filter((c) => c.startsWith(word)).sort();
    if (matches.length === 0) return unchanged;
    if (matches.length === 1) return replace(`${matches[0]} `, []);
    return replace(commonPrefix(matches), matches);
  }
  if (!word.startsWith('/')) return unchanged;

  const slash = word.lastIndexOf('/');
  const parent = slash === 0 ? '/' : word.slice(0, slash);
  const prefix = word.slice(slash + 1);
  const children = await listChildren(parent);
  if (children === null) return unchanged;
  const matches = children.filter((c) => c.startsWith(prefix)).sort();
  if (matches.length === 0) return unchanged;
  if (matches.length === 1) {
    const full = joinPath(parent, matches[0] ?? '');
    // Completing a name already typed in full steps into it, so the next Tab lists its children.
    if (full === word) {
      const grandChildren = await listChildren(full);
      return grandChildren !== null && grandChildren.length > 0 ? replace(`${full}/`, []) : unchanged;
    }
    return replace(full, []);
  }
  const common = commonPrefix(matches);
  return replace(joinPath(parent, common), matches);
}
