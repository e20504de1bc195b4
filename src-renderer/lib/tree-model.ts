/**
 * Pure models for the znode tree: flattening the loaded part of the tree into rows (what the
 * virtual list shows), the visible window of a long list, and the data viewers (text in a
 * charset, pretty JSON, hex, base64). No Vue, no DOM.
 */

export interface TreeRow {
  path: string;
  name: string;
  depth: number;
  expanded: boolean;
  /** null: not known yet (children not loaded and no stat) */
  hasChildren: boolean | null;
  /** children loaded for this path, if any */
  childCount: number | null;
}

export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/**
 * Rows in display order: `/`, then each expanded node's children under it, depth first.
 * `numChildren` (from stats) tells whether an unloaded node can be expanded.
 */
export function flattenTree(
  children: ReadonlyMap<string, readonly string[]>,
  expanded: ReadonlySet<string>,
  numChildren: ReadonlyMap<string, number>,
  rowsMax = 2_000_000,
): TreeRow[] {
  const rows: TreeRow[] = [];
  const stack: { path: string; depth: number }[] = [{ path: '/', depth: 0 }];
  while (stack.length > 0 && rows.length < rowsMax) {
    const { path, depth } = stack.pop() as { path: string; depth: number };
    const kids = children.get(path);
    const known = kids !== undefined ? kids.length > 0 : numChildren.has(path) ? (numChildren.get(path) as number) > 0 : null;
    const isOpen = expanded.has(path);
    rows.push({ path, name: path === '/' ? '/' : path.slice(path.lastIndexOf('/') + 1), depth, expanded: isOpen, hasChildren: known, childCount: kids?.length ?? numChildren.get(path) ?? null });
    if (isOpen && kids) for (let i = kids.length - 1; i >= 0; i--) stack.push({ path: childPath(path, kids[i] as string), depth: depth + 1 });
  }
  return rows;
}

/**
 * Loaded znodes whose path contains `query` (case-insensitive), as flat rows showing the whole
 * path, in path order, at most `max`. Only what was loaded is searched: expand to search deeper.
 */
export function searchLoaded(children: ReadonlyMap<string, readonly string[]>, query: string, max = 5_000): TreeRow[] {
  const q = query.toLowerCase();
  const hits: string[] = [];
  for (const [parent, kids] of children) {
    for (const k of kids) {
      const p = childPath(parent, k);
      if (p.toLowerCase().includes(q)) hits.push(p);
    }
  }
  hits.sort();
  return hits.slice(0, max).map((path) => ({
    path,
    name: path,
    depth: 0,
    expanded: false,
    hasChildren: false,
    childCount: children.get(path)?.length ?? null,
  }));
}

/** The rows to render for a scroll position: [start, end) plus the spacer above them. */
export function visibleWindow(rowCount: number, scrollTopPx: number, viewportPx: number, rowPx: number, overscan = 8): { start: number; end: number; offsetPx: number; totalPx: number } {
  const first = Math.max(0, Math.floor(scrollTopPx / rowPx) - overscan);
  const end = Math.min(rowCount, Math.ceil((scrollTopPx + viewportPx) / rowPx) + overscan);
  return { start: first, end: Math.max(first, end), offsetPx: first * rowPx, totalPx: rowCount * rowPx };
}

export type DataView = 'text' | 'json' | 'hex' | 'base64';
export type Charset = 'utf-8' | 'iso-8859-1' | 'utf-16le';
export const charsets: readonly Charset[] = ['utf-8', 'iso-8859-1', 'utf-16le'];

export function base64ToBytes(b64: string | null): Uint8Array {
  if (b64 === null) return new Uint8Array(0);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

export function decodeText(bytes: Uint8Array, charset: Charset): string {
  return new TextDecoder(charset).decode(bytes);
}

/** Text → bytes in the charset; null when a character has no encoding in it. */
export function encodeText(text: string, charset: Charset): Uint8Array | null {
  if (charset === 'utf-8') return new TextEncoder().encode(text);
  if (charset === 'iso-8859-1') {
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 0xff) return null;
      out[i] = c;
    }
    return out;
  }
  const out = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out[2 * i] = c & 0xff;
    out[2 * i + 1] = c >> 8;
  }
  return out;
}

/** hexdump-style lines: offset, 16 bytes in hex, the printable ASCII */
export function hexDump(bytes: Uint8Array, linesMax = 4096): string {
  const lines: string[] = [];
  for (let off = 0; off < bytes.length && lines.length < linesMax; off += 16) {
    const row = bytes.subarray(off, off + 16);
    const hexPart = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hexPart.padEnd(47)}  ${ascii}`);
  }
  if (bytes.length > linesMax * 16) lines.push(`… ${bytes.length - linesMax * 16} more bytes`);
  return lines.join('\n');
}

/** The data as the chosen viewer shows it; `note` says why a view does not apply. */
export function renderData(b64: string | null, view: DataView, charset: Charset): { text: string; note: string | null } {
  if (b64 === null) return { text: '', note: 'no data (null)' };
  const bytes = base64ToBytes(b64);
  switch (view) {
    case 'base64':
      return { text: b64, note: null };
    case 'hex':
      return { text: hexDump(bytes), note: null };
    case 'text':
      return { text: decodeText(bytes, charset), note: null };
    case 'json': {
      const text = decodeText(bytes, charset);
      try {
        return { text: JSON.stringify(JSON.parse(text), null, 2), note: null };
      } catch (e) {
        return { text, note: `not JSON: ${e instanceof Error ? e.message : String(e)}` };
      }
    }
  }
}

/** Heuristic first view: JSON if it parses, text if it decodes cleanly, else hex. */
export function guessView(b64: string | null): DataView {
  if (b64 === null) return 'text';
  const bytes = base64ToBytes(b64);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return 'hex';
  }
  const t = text.trim();
  if ((t.startsWith('{') || t.startsWith('[')) && t.length > 1) {
    try {
      JSON.parse(t);
      return 'json';
    } catch {
      return 'text';
    }
  }
  return /[\u0000-\u0008\u000e-\u001f]/.test(text) ? 'hex' : 'text';
}
