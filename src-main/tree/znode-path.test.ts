import { describe, expect, it } from 'vitest';
import { isValidPath, parentPath, sequenceSuffix } from './znode-path';

describe('path validation (PathUtils.validatePath)', () => {
  it.each([
    ['/', true],
    ['/a', true],
    ['/a/b.c', true],
    ['/a/..b', true],
    ['/zookeeper/quota', true],
    ['', false],
    ['a', false],
    ['/a/', false],
    ['//a', false],
    ['/a//b', false],
    ['/a/.', false],
    ['/a/./b', false],
    ['/a/..', false],
    ['/a/../b', false],
    ['/a\u0000b', false],
    ['/a\u0001', false],
    ['/a\u007f', false],
    ['/a\u009f', false],
    ['/a\ud83d\ude00', false],
    ['/a\ufff0', false],
    ['/\u00e9t\u00e9', true],
  ])('%j valid=%s', (p, want) => expect(isValidPath(p)).toBe(want));

  it('parentPath: "/a" -> "/", "/a/b" -> "/a", "/queue/" -> "/queue"', () => {
    expect(parentPath('/a')).toBe('/');
    expect(parentPath('/a/b')).toBe('/a');
    expect(parentPath('/queue/')).toBe('/queue');
  });

  it('sequenceSuffix is %010d with the sign inside the width', () => {
    expect(sequenceSuffix(0)).toBe('0000000000');
    expect(sequenceSuffix(7)).toBe('0000000007');
    expect(sequenceSuffix(2147483647)).toBe('2147483647');
    expect(sequenceSuffix(-5)).toBe('-000000005');
    expect(sequenceSuffix(-2147483648)).toBe('-2147483648');
  });
});
