/**
 * ZooKeeper's server-side path rules (PathUtils.validatePath) and small path helpers.
 * Characters are checked as UTF-16 code units, exactly as Java does, so a surrogate pair
 * (an emoji) is rejected like upstream.
 */

/** Returns null when the path is valid, else the reason (for logs; the client sees BADARGUMENTS). */
export function pathInvalidReason(path: string): string | null {
  if (path.length === 0) return 'path length must be > 0';
  if (path.charCodeAt(0) !== 0x2f) return 'path must start with / character';
  if (path.length === 1) return null;
  if (path.charCodeAt(path.length - 1) === 0x2f) return 'path must not end with / character';
  let last = 0x2f;
  for (let i = 1; i < path.length; last = path.charCodeAt(i), i++) {
    const c = path.charCodeAt(i);
    const nextIsEnd = i + 1 === path.length || path.charCodeAt(i + 1) === 0x2f;
    if (c === 0) return `null character not allowed @${i}`;
    if (c === 0x2f && last === 0x2f) return `empty node name specified @${i}`;
    if (c === 0x2e && last === 0x2e) {
      if (path.charCodeAt(i - 2) === 0x2f && nextIsEnd) return `relative paths not allowed @${i}`;
    } else if (c === 0x2e) {
      if (path.charCodeAt(i - 1) === 0x2f && nextIsEnd) return `relative paths not allowed @${i}`;
    } else if (
      (c > 0x00 && c <= 0x1f) ||
      (c >= 0x7f && c <= 0x9f) ||
      (c >= 0xd800 && c <= 0xf8ff) ||
      (c >= 0xfff0 && c <= 0xffff)
    ) {
      return `invalid character @${i}`;
    }
  }
  return null;
}

export function isValidPath(path: string): boolean {
  return pathInvalidReason(path) === null;
}

/** Parent as ZooKeeper computes it: everything before the last "/", with "" meaning the root. */
export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function joinPath(parent: string, child: string): string {
  return parent === '/' ? `/${child}` : `${parent}/${child}`;
}

/** "/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config": never deletable (BADARGUMENTS). */
export const SPECIAL_PATHS: ReadonlySet<string> = new Set(['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']);

export function isSpecialPath(path: string): boolean {
  return SPECIAL_PATHS.has(path);
}

/** `String.format("%010d", n)` for a Java int: the sign stays inside the width. */
export function sequenceSuffix(counter: number): string {
  const n = counter | 0;
  if (n < 0) return `-${String(-n).padStart(9, '0')}`;
  return String(n).padStart(10, '0');
}
