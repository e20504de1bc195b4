import { describe, expect, it } from 'vitest';
import { parentPath, parseAcl, pathProblem } from './paths-acl';

describe('pathProblem (the Java client’s wording)', () => {
  it('valid paths', () => {
    expect(pathProblem('/')).toBeNull();
    expect(pathProblem('/a/b.c/..d')).toBeNull();
  });
  it('rejects what the Java client rejects', () => {
    expect(pathProblem('a')).toBe('Path must start with / character');
    expect(pathProblem('')).toBe('Path length must be > 0');
    expect(pathProblem('/a/')).toBe('Path must not end with / character');
    expect(pathProblem('//a')).toBe('Invalid path string "//a" caused by empty node name specified @1');
    expect(pathProblem('/a/./b')).toBe('Invalid path string "/a/./b" caused by relative paths not allowed @3');
    expect(pathProblem('/a/..')).toBe('Invalid path string "/a/.." caused by relative paths not allowed @4');
    expect(pathProblem('/a\u0001')).toBe('Invalid path string "/a\u0001" caused by invalid character @2');
    expect(pathProblem('/a\u0000')).toBe('Invalid path string "/a\u0000" caused by null character not allowed @2');
  });
  it('sequential paths may end with /', () => {
    expect(pathProblem('/q/', true)).toBeNull();
    expect(pathProblem('q', true)).toBe('Path must start with / character');
  });
  it('parentPath', () => {
    expect(parentPath('/a')).toBe('/');
    expect(parentPath('/a/b')).toBe('/a');
  });
});

describe('parseAcl', () => {
  it('parses a list, perms in any order', () => {
    const warn: string[] = [];
    expect(parseAcl('ip:127.0.0.1:rw,world:anyone:adcrw', (l) => warn.push(l))).toEqual([
      { perms: 3, id: { scheme: 'ip', id: '127.0.0.1' } },
      { perms: 31, id: { scheme: 'world', id: 'anyone' } },
    ]);
    expect(warn).toEqual([]);
  });
  it('digest ids keep their inner colons', () => {
    expect(parseAcl('digest:u:ZUfzMbWUvOZLt/3kd9FbcCP+ZEc=:cdrwa', () => {})).toEqual([
      { perms: 31, id: { scheme: 'digest', id: 'u:ZUfzMbWUvOZLt/3kd9FbcCP+ZEc=' } },
    ]);
  });
  it('malformed entries are reported and left out; unknown perm letters are reported and skipped', () => {
    const warn: string[] = [];
    expect(parseAcl('bad', (l) => warn.push(l))).toEqual([]);
    expect(parseAcl('world:anyone:rz', (l) => warn.push(l))).toEqual([{ perms: 1, id: { scheme: 'world', id: 'anyone' } }]);
    expect(warn).toEqual(['bad does not have the form scheme:id:perm', 'Unknown perm type: z']);
  });
});
