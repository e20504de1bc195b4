/**
 * Client-side checks zkCli makes before sending a request: path validation (worded like the
 * Java client's PathUtils) and the `scheme:id:perm[,…]` ACL syntax of create/setAcl.
 */
import type { ACL } from '../jute/types';

function isInvalidChar(c: number): boolean {
  return (
    (c > 0x0000 && c <= 0x001f) ||
    (c >= 0x007f && c <= 0x009f) ||
    (c >= 0xd800 && c <= 0xf8ff) ||
    (c >= 0xfff0 && c <= 0xffff)
  );
}

/**
 * The reason a path is not valid, worded as the Java client says it, or null when it is valid.
 * `sequential` paths may end in `/` (the server appends the counter).
 */
export function pathProblem(path: string, sequential = false): string | null {
  if (sequential) return pathProblem(`${path}1`);
  if (path.length === 0) return 'Path length must be > 0';
  if (path[0] !== '/') return 'Path must start with / character';
  if (path.length === 1) return null;
  if (path[path.length - 1] === '/') return 'Path must not end with / character';
  let reason: string | null = null;
  let lastc = '/';
  for (let i = 1; i < path.length; i++) {
    const c = path[i] ?? '';
    const code = path.charCodeAt(i);
    if (code === 0) {
      reason = `null character not allowed @${i}`;
      break;
    } else if (c === '/' && lastc === '/') {
      reason = `empty node name specified @${i}`;
      break;
    } else if (c === '.' && lastc === '.') {
      if (path[i - 2] === '/' && (i + 1 === path.length || path[i + 1] === '/')) {
        reason = `relative paths not allowed @${i}`;
        break;
      }
    } else if (c === '.') {
      if (path[i - 1] === '/' && (i + 1 === path.length || path[i + 1] === '/')) {
        reason = `relative paths not allowed @${i}`;
        break;
      }
    } else if (isInvalidChar(code)) {
      reason = `invalid character @${i}`;
      break;
    }
    lastc = c;
  }
  return reason === null ? null : `Invalid path string "${path}" caused by ${reason}`;
}

const PERM_BITS: Record<string, number> = { r: 1, w: 2, c: 4, d: 8, a: 16 };

/**
 * zkCli's ACL syntax. Malformed entries are reported through `warn` (zkCli prints them on
 * stderr) and left out, so a fully malformed list comes back empty.
 */
export function parseAcl(text: string, warn: (line: string) => void): ACL[] {
  const acl: ACL[] = [];
  for (const part of text.split(',')) {
    const first = part.indexOf(':');
    const last = part.lastIndexOf(':');
    if (first === -1 || last === -1 || first === last) {
      warn(`${part} does not have the form scheme:id:perm`);
      continue;
    }
    let perms = 0;
    for (const ch of part.slice(last + 1)) {
      const bit = PERM_BITS[ch];
      if (bit === undefined) warn(`Unknown perm type: ${ch}`);
      else perms |= bit;
    }
    acl.push({ perms, id: { scheme: part.slice(0, first), id: part.slice(first + 1, last) } });
  }
  return acl;
}

/** The ACL zkCli gives a node created without one: world:anyone with every permission. */
export const OPEN_ACL_UNSAFE: readonly ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** The parent of an absolute path (`/` for top-level nodes). */
export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function joinPath(parent: string, child: string): string {
  return parent === '/' ? `/${child}` : `${parent}/${child}`;
}
