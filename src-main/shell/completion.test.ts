import { describe, expect, it } from 'vitest';
import { complete } from './completion';

const tree: Record<string, string[]> = {
  '/': ['zookeeper', 'app', 'apple'],
  '/zookeeper': ['config', 'quota'],
  '/app': ['one'],
  '/apple': [],
};
const list = async (p: string): Promise<string[] | null> => tree[p] ?? null;
const commands = ['ls', 'get', 'getAcl', 'getEphemerals', 'set', 'setAcl', 'stat'];

describe('complete', () => {
  it('first word: a unique command gets a trailing space', async () => {
    expect(await complete('l', 1, commands, list)).toEqual({ line: 'ls ', cursor: 3, candidates: [] });
  });
  it('first word: ambiguous commands extend to the common prefix and list the candidates', async () => {
    const r = await complete('getA', 4, commands, list);
    expect(r.line).toBe('getAcl ');
    const g = await complete('ge', 2, commands, list);
    expect(g.line).toBe('get');
    expect(g.candidates).toEqual(['get', 'getAcl', 'getEphemerals']);
  });
  it('paths come from the live tree: children of the parent of the typed word', async () => {
    expect(await complete('ls /zoo', 7, commands, list)).toEqual({ line: 'ls /zookeeper', cursor: 13, candidates: [] });
    expect(await complete('ls /zookeeper/q', 15, commands, list)).toMatchObject({ line: 'ls /zookeeper/quota' });
    const r = await complete('get /a', 6, commands, list);
    expect(r.line).toBe('get /app');
    expect(r.candidates).toEqual(['app', 'apple']);
  });
  it('a full name with children steps into it with a slash', async () => {
    expect((await complete('ls /zookeeper', 13, commands, list)).line).toBe('ls /zookeeper/');
    expect((await complete('ls /apple', 9, commands, list)).line).toBe('ls /apple');
  });
  it('text after the cursor is kept; options and missing parents complete nothing', async () => {
    expect(await complete('ls /zoo -s', 7, commands, list)).toMatchObject({ line: 'ls /zookeeper -s', cursor: 13 });
    expect((await complete('ls -', 4, commands, list)).line).toBe('ls -');
    expect((await complete('ls /nope/x', 10, commands, list)).line).toBe('ls /nope/x');
  });
});
