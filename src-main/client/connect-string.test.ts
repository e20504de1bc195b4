import { describe, expect, it } from 'vitest';
import { fromServerPath, parseConnectString, toServerPath } from './connect-string';

describe('parseConnectString', () => {
  it('hosts with ports, default port 2181, chroot', () => {
    expect(parseConnectString('a:1,b,127.0.0.1:2182/app/x')).toEqual({
      hosts: [{ host: 'a', port: 1 }, { host: 'b', port: 2181 }, { host: '127.0.0.1', port: 2182 }],
      chroot: '/app/x',
    });
  });
  it('IPv6 in brackets; "/" chroot is no chroot; spaces ignored', () => {
    expect(parseConnectString(' [::1]:2190 , [fe80::1]/')).toEqual({
      hosts: [{ host: '::1', port: 2190 }, { host: 'fe80::1', port: 2181 }],
      chroot: '',
    });
  });
  it('bad inputs name the problem', () => {
    expect(() => parseConnectString('')).toThrow(/names no server/);
    expect(() => parseConnectString('a:x')).toThrow(/bad host:port/);
    expect(() => parseConnectString('a:70000')).toThrow(/bad host:port/);
    expect(() => parseConnectString('a:1/app/')).toThrow(/must not end/);
    expect(() => parseConnectString('a:1/a//b')).toThrow(/empty segment/);
  });
});

describe('chroot path mapping', () => {
  it('caller paths to server paths and back', () => {
    expect(toServerPath('', '/a')).toBe('/a');
    expect(toServerPath('/app', '/')).toBe('/app');
    expect(toServerPath('/app', '/a/b')).toBe('/app/a/b');
    expect(fromServerPath('/app', '/app')).toBe('/');
    expect(fromServerPath('/app', '/app/a')).toBe('/a');
    expect(fromServerPath('/app', '/apple')).toBe('/apple');
    expect(fromServerPath('/app', '/zookeeper/config')).toBe('/zookeeper/config');
  });
});
