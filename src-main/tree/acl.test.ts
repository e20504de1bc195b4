import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ACL, Id } from '../jute/types';
import { authenticate, base64, checkAcl, digestId, fixupAcl, ipMatches, isValidAclId, redactDigests } from './acl';

const sha1 = (b: Uint8Array) => new Uint8Array(createHash('sha1').update(b).digest());
const acl = (perms: number, scheme: string, id: string): ACL => ({ perms, id: { scheme, id } });

describe('acl: digest ids', () => {
  it('digestId is user:BASE64(SHA1("user:password")) as zkCli computes it', () => {
    expect(digestId('user:pass', sha1)).toBe(`user:${createHash('sha1').update('user:pass').digest('base64')}`);
    expect(digestId('super:secret', sha1)).toBe(`super:${createHash('sha1').update('super:secret').digest('base64')}`);
  });
  it('base64 matches the standard alphabet with padding', () => {
    for (const s of ['', 'a', 'ab', 'abc', 'abcd', '\u00ff\u00fe']) {
      const b = new TextEncoder().encode(s);
      expect(base64(b)).toBe(Buffer.from(b).toString('base64'));
    }
  });
  it('superDigest match adds super:"" besides the digest id', () => {
    const superDigest = digestId('super:pw', sha1);
    const ids = authenticate('digest', new TextEncoder().encode('super:pw'), { remoteAddress: '1.2.3.4', sha1, superDigest });
    expect(ids).toEqual([{ scheme: 'digest', id: superDigest }, { scheme: 'super', id: '' }]);
    expect(authenticate('kerberos', null, { remoteAddress: '1.2.3.4', sha1 })).toBeNull();
    expect(authenticate('world', null, { remoteAddress: '1.2.3.4', sha1 })).toBeNull();
    expect(authenticate('ip', null, { remoteAddress: '1.2.3.4', sha1 })).toEqual([{ scheme: 'ip', id: '1.2.3.4' }]);
  });
});

describe('acl: checkAcl', () => {
  const me: Id[] = [
    { scheme: 'ip', id: '10.0.0.7' },
    { scheme: 'digest', id: 'bob:hash' },
  ];
  const cases: [string, ACL[], number, Id[], boolean][] = [
    ['empty ACL allows everything', [], 31, [], true],
    ['world:anyone with the bit', [acl(1, 'world', 'anyone')], 1, [], true],
    ['world:anyone without the bit', [acl(1, 'world', 'anyone')], 2, [], false],
    ['digest match', [acl(31, 'digest', 'bob:hash')], 4, me, true],
    ['digest mismatch', [acl(31, 'digest', 'alice:hash')], 4, me, false],
    ['ip exact', [acl(8, 'ip', '10.0.0.7')], 8, me, true],
    ['ip subnet', [acl(8, 'ip', '10.0.0.0/24')], 8, me, true],
    ['ip other subnet', [acl(8, 'ip', '10.0.1.0/24')], 8, me, false],
    ['super bypasses', [acl(1, 'digest', 'x:y')], 16, [{ scheme: 'super', id: '' }], true],
    ['READ|ADMIN passes with ADMIN only', [acl(16, 'world', 'anyone')], 1 | 16, [], true],
  ];
  for (const [name, a, perm, ids, want] of cases) it(name, () => expect(checkAcl(a, perm, ids)).toBe(want));
});

describe('acl: fixupAcl and validity', () => {
  it('removes duplicates, expands auth to digest ids only, rejects invalid ones', () => {
    const ids: Id[] = [
      { scheme: 'ip', id: '1.1.1.1' },
      { scheme: 'digest', id: 'u:h' },
    ];
    expect(fixupAcl([acl(31, 'world', 'anyone'), acl(31, 'world', 'anyone')], ids)).toEqual([acl(31, 'world', 'anyone')]);
    expect(fixupAcl([acl(31, 'auth', '')], ids)).toEqual([acl(31, 'digest', 'u:h')]);
    expect(fixupAcl([acl(31, 'auth', '')], [{ scheme: 'ip', id: '1.1.1.1' }])).toBeNull();
    expect(fixupAcl([], ids)).toBeNull();
    expect(fixupAcl(null, ids)).toBeNull();
    expect(fixupAcl([acl(31, 'world', 'someone')], ids)).toBeNull();
    expect(fixupAcl([acl(31, 'foo', 'bar')], ids)).toBeNull();
  });
  it.each([
    ['digest', 'user:hash', true],
    ['digest', 'user', false],
    ['digest', 'user:', false],
    ['digest', 'a:b:c', false],
    ['ip', '127.0.0.1', true],
    ['ip', '10.0.0.0/8', true],
    ['ip', '10.0.0.0/33', false],
    ['ip', '300.0.0.1', false],
    ['ip', '::1', true],
    ['ip', 'fe80::/10', true],
    ['ip', 'nonsense', false],
  ])('isValidAclId(%s:%s) = %s', (scheme, id, want) => expect(isValidAclId({ scheme, id })).toBe(want));
  it('ipMatches handles IPv4-mapped client addresses and IPv6 prefixes', () => {
    expect(ipMatches('::ffff:127.0.0.1', '127.0.0.0/8')).toBe(true);
    expect(ipMatches('::1', '::1')).toBe(true);
    expect(ipMatches('fe80::1', 'fe80::/16')).toBe(true);
    expect(ipMatches('127.0.0.1', '::1')).toBe(false);
  });
  it('redactDigests hides digest hashes only', () => {
    expect(redactDigests([acl(31, 'digest', 'bob:abc='), acl(1, 'world', 'anyone')])).toEqual([acl(31, 'digest', 'bob:x'), acl(1, 'world', 'anyone')]);
  });
});
