import { describe, expect, it } from 'vitest';
import { OptionParseError, decodeJavaInt, parseJavaInt, parseJavaLong, parseOptions, tokenizeLine } from './args';

const setSpec = { flags: { s: 'stats' }, values: { v: 'version' } };

describe('tokenizeLine', () => {
  it('splits on blanks, groups quoted words and strips their quotes', () => {
    expect(tokenizeLine('create /q7 "x y" world:anyone:r')).toEqual(['create', '/q7', 'x y', 'world:anyone:r']);
    expect(tokenizeLine("set /a 'it is'")).toEqual(['set', '/a', 'it is']);
    expect(tokenizeLine('  ls   /  ')).toEqual(['ls', '/']);
  });
  it('keeps quotes inside a word and skips an unmatched quote', () => {
    expect(tokenizeLine('set /a x"y')).toEqual(['set', '/a', 'x"y']);
    expect(tokenizeLine('set /a "x y')).toEqual(['set', '/a', 'x', 'y']);
  });
  it('a line of blanks is the command " " (zkCli then says: Command not found)', () => {
    expect(tokenizeLine(' ')).toEqual([' ']);
    expect(tokenizeLine('')).toEqual([]);
  });
});

describe('parseOptions (commons-cli DefaultParser behaviour)', () => {
  it('options before, between and after the arguments', () => {
    const p = parseOptions(['set', '/a', '-s', 'data', '-v', '3'], setSpec);
    expect(p.args).toEqual(['set', '/a', 'data']);
    expect([...p.flags]).toEqual(['s']);
    expect(p.values.get('v')).toBe('3');
  });
  it('clusters and attached values', () => {
    const ls = parseOptions(['ls', '-sw', '/'], { flags: { s: 'stat', w: 'watch', R: 'recurse' } });
    expect([...ls.flags].sort()).toEqual(['s', 'w']);
    expect(parseOptions(['set', '-v1', '/a', 'x'], setSpec).values.get('v')).toBe('1');
    expect(parseOptions(['set', '-sv', '2', '/a', 'x'], setSpec).values.get('v')).toBe('2');
  });
  it('a negative number is a value after an option, an unknown option elsewhere', () => {
    expect(parseOptions(['set', '-v', '-1', '/a', 'x'], setSpec).values.get('v')).toBe('-1');
    expect(() => parseOptions(['set', '/a', '-1'], setSpec)).toThrow(
      'org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -1',
    );
  });
  it('unknown and missing-value options are worded like commons-cli', () => {
    expect(() => parseOptions(['ls', '-x', '/'], { flags: { s: 'stat' } })).toThrow(OptionParseError);
    expect(() => parseOptions(['ls', '-x', '/'], { flags: { s: 'stat' } })).toThrow('Unrecognized option: -x');
    expect(() => parseOptions(['delete', '-v'], { values: { v: 'version' } })).toThrow(
      'org.apache.commons.cli.MissingArgumentException: Missing argument for option: v',
    );
    expect(() => parseOptions(['set', '--v', '1'], setSpec)).toThrow('Unrecognized option: --v');
  });
  it('no long names; -- ends the options; - is an argument', () => {
    expect(() => parseOptions(['get', '--stats', '/a'], { flags: { s: 'stats' } })).toThrow('Unrecognized option: --stats');
    expect(parseOptions(['create', '--', '/a', '-s'], { flags: { s: 'sequential' } }).args).toEqual(['create', '/a', '-s']);
    expect(parseOptions(['ls', '-'], {}).args).toEqual(['ls', '-']);
  });
});

describe('Java number parsing', () => {
  it('Integer.parseInt and Long.parseLong accept only what Java accepts', () => {
    expect(parseJavaInt('12')).toBe(12);
    expect(parseJavaInt('-1')).toBe(-1);
    expect(parseJavaInt('abc')).toBeNull();
    expect(parseJavaInt('2147483648')).toBeNull();
    expect(parseJavaLong('1099511627775')).toBe(1099511627775n);
    expect(parseJavaLong('1.5')).toBeNull();
    expect(parseJavaLong('100000000', 16)).toBe(0x100000000n);
    expect(parseJavaLong('-Ff', 16)).toBe(-255n);
    expect(parseJavaLong('0x1', 16)).toBeNull();
    expect(parseJavaLong('8000000000000000', 16)).toBeNull();
  });
  it('Integer.decode (redo) takes hex and octal', () => {
    expect(decodeJavaInt('10')).toBe(10);
    expect(decodeJavaInt('0x1f')).toBe(31);
    expect(decodeJavaInt('010')).toBe(8);
    expect(decodeJavaInt('0')).toBe(0);
    expect(decodeJavaInt('x')).toBeNull();
  });
});
