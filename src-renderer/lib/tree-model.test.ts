import { describe, expect, it } from 'vitest';
import { base64ToBytes, bytesToBase64, childPath, encodeText, flattenTree, guessView, hexDump, parentPath, renderData, searchLoaded, visibleWindow } from './tree-model';

const b64 = (t: string) => bytesToBase64(new TextEncoder().encode(t));

describe('flattenTree', () => {
  const children = new Map<string, string[]>([
    ['/', ['app', 'zookeeper']],
    ['/app', ['a', 'b']],
    ['/app/a', []],
  ]);
  it('shows expanded nodes’ children under them, depth first, keeping sibling order', () => {
    const rows = flattenTree(children, new Set(['/', '/app']), new Map([['/zookeeper', 1]]));
    expect(rows.map((r) => `${'  '.repeat(r.depth)}${r.name}`)).toEqual(['/', '  app', '    a', '    b', '  zookeeper']);
    expect(rows.find((r) => r.path === '/app/a')?.hasChildren).toBe(false);
    expect(rows.find((r) => r.path === '/zookeeper')?.hasChildren).toBe(true);
    expect(rows.find((r) => r.path === '/app/b')?.hasChildren).toBeNull();
  });
  it('collapsing a node hides its subtree but keeps what was loaded (expansion survives refresh)', () => {
    const rows = flattenTree(children, new Set(['/']), new Map());
    expect(rows.map((r) => r.path)).toEqual(['/', '/app', '/zookeeper']);
    expect(rows[1]).toMatchObject({ expanded: false, hasChildren: true, childCount: 2 });
  });
  it('100,000 children flatten in one pass', () => {
    const many = Array.from({ length: 100_000 }, (_, i) => `n${String(i).padStart(6, '0')}`);
    const rows = flattenTree(new Map([['/', ['big']], ['/big', many]]), new Set(['/', '/big']), new Map());
    expect(rows).toHaveLength(100_002);
    expect(rows.at(-1)?.path).toBe('/big/n099999');
  });
});

describe('searchLoaded', () => {
  it('finds loaded paths containing the text, case-insensitive, sorted, bounded', () => {
    const children = new Map<string, string[]>([
      ['/', ['app', 'zookeeper']],
      ['/app', ['Config', 'locks']],
      ['/zookeeper', ['config', 'quota']],
    ]);
    expect(searchLoaded(children, 'config').map((r) => r.path)).toEqual(['/app/Config', '/zookeeper/config']);
    expect(searchLoaded(children, 'o', 2)).toHaveLength(2);
  });
});

describe('paths and windows', () => {
  it('child and parent paths', () => {
    expect(childPath('/', 'a')).toBe('/a');
    expect(childPath('/a', 'b')).toBe('/a/b');
    expect(parentPath('/a/b')).toBe('/a');
    expect(parentPath('/a')).toBe('/');
  });
  it('visibleWindow renders only the rows in view plus overscan', () => {
    expect(visibleWindow(100_000, 240_000, 480, 24, 5)).toEqual({ start: 9995, end: 10025, offsetPx: 239_880, totalPx: 2_400_000 });
    expect(visibleWindow(3, 0, 480, 24, 5)).toEqual({ start: 0, end: 3, offsetPx: 0, totalPx: 72 });
  });
});

describe('data viewers', () => {
  it('text, pretty JSON, hex and base64 of the same bytes', () => {
    const data = b64('{"a":1}');
    expect(renderData(data, 'text', 'utf-8').text).toBe('{"a":1}');
    expect(renderData(data, 'json', 'utf-8').text).toBe('{\n  "a": 1\n}');
    expect(renderData(data, 'hex', 'utf-8').text).toBe(`00000000  ${'7b 22 61 22 3a 31 7d'.padEnd(47)}  {"a":1}`);
    expect(renderData(data, 'base64', 'utf-8').text).toBe(data);
    expect(renderData(b64('nope'), 'json', 'utf-8').note).toMatch(/^not JSON/);
    expect(renderData(null, 'text', 'utf-8').note).toBe('no data (null)');
  });
  it('charsets: latin-1 and utf-16le round-trip; a character latin-1 cannot hold is refused', () => {
    const latin = encodeText('café', 'iso-8859-1');
    expect([...(latin ?? [])]).toEqual([0x63, 0x61, 0x66, 0xe9]);
    expect(renderData(bytesToBase64(latin as Uint8Array), 'text', 'iso-8859-1').text).toBe('café');
    expect(renderData(bytesToBase64(encodeText('zk', 'utf-16le') as Uint8Array), 'text', 'utf-16le').text).toBe('zk');
    expect(encodeText('€', 'iso-8859-1')).toBeNull();
  });
  it('base64 ↔ bytes for all byte values', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect([...base64ToBytes(bytesToBase64(all))]).toEqual([...all]);
  });
  it('guessView: JSON, text, binary', () => {
    expect(guessView(b64('[1,2]'))).toBe('json');
    expect(guessView(b64('hello'))).toBe('text');
    expect(guessView(bytesToBase64(Uint8Array.from([0, 1, 2, 255])))).toBe('hex');
  });
  it('hexDump bounds its output', () => {
    expect(hexDump(new Uint8Array(100), 2).split('\n')).toHaveLength(3);
  });
});
