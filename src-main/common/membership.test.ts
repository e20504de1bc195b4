import { describe, expect, it } from 'vitest';
import { Membership, nextMembership, parseServerSpec } from './membership';

const m3 = Membership.parse(
  'server.1=127.0.0.1:2881:3881:participant;127.0.0.1:2181\nserver.2=127.0.0.1:2882:3882;2182\nserver.3=127.0.0.1:2883:3883:participant;0.0.0.0:2183\nversion=100000000',
) as Membership;

describe('membership: ZooKeeper QuorumMaj text', () => {
  it('prints server lines in id order with the role and 0.0.0.0 for a bare client port, then version in hex (no trailing newline)', () => {
    expect(m3.toText()).toBe(
      'server.1=127.0.0.1:2881:3881:participant;127.0.0.1:2181\nserver.2=127.0.0.1:2882:3882:participant;0.0.0.0:2182\nserver.3=127.0.0.1:2883:3883:participant;0.0.0.0:2183\nversion=100000000',
    );
    expect(m3.version).toBe(0x100000000n);
    expect(m3.serverLines().endsWith('0.0.0.0:2183')).toBe(true);
  });

  it('a server without a client part prints without one; ipv6 hosts in brackets; observers listed as such', () => {
    const m = new Membership([parseServerSpec(4, '[::1]:1:2:observer') as never, parseServerSpec(5, 'h:3:4') as never], 0n);
    expect(m.toText()).toBe('server.4=[::1]:1:2:observer\nserver.5=h:3:4:participant\nversion=0');
    expect(m.voters).toEqual([5]);
    expect(m.observers).toEqual([4]);
  });

  it('bad specs say what is wrong', () => {
    expect(parseServerSpec(1, 'h:1')).toMatch(/expected server\.N=host/);
    expect(parseServerSpec(1, 'h:1:2:leader')).toMatch(/unrecognised peer type 'leader'/);
    expect(parseServerSpec(1, 'h:1:1')).toMatch(/both 1/);
    expect(parseServerSpec(1, 'h:1:2;x')).toMatch(/client port 'x' is not a port/);
  });
});

describe('membership: the next one a reconfig asks for (PrepRequestProcessor)', () => {
  const none = { joiningServers: null, leavingServers: null, newMembers: null };

  it('incremental: leaving ids go, joiners are added or replace (role change), order by id', () => {
    const next = nextMembership(m3, { ...none, leavingServers: '2', joiningServers: 'server.4=127.0.0.1:2884:3884;2184, server.3=127.0.0.1:2883:3883:observer;2183' });
    expect(Array.isArray(next)).toBe(true);
    const m = new Membership(next as never, 5n);
    expect(m.voters).toEqual([1, 4]);
    expect(m.observers).toEqual([3]);
  });

  it('incremental refusals: BADARGUMENTS for a malformed joiner, one without a client port, or a used address; MARSHALLINGERROR for a non-numeric id', () => {
    expect(nextMembership(m3, { ...none, joiningServers: 'server.4' })).toMatchObject({ code: 'BADARGUMENTS' });
    expect(nextMembership(m3, { ...none, joiningServers: 'server.4=h:1' })).toMatchObject({ code: 'BADARGUMENTS' });
    expect(nextMembership(m3, { ...none, joiningServers: 'server.4=h:1:2' })).toMatchObject({ code: 'BADARGUMENTS', message: /3 ports/ });
    expect(nextMembership(m3, { ...none, joiningServers: 'server.4=127.0.0.1:2881:3999;2199' })).toMatchObject({ code: 'BADARGUMENTS' });
    expect(nextMembership(m3, { ...none, leavingServers: 'two' })).toMatchObject({ code: 'MARSHALLINGERROR' });
  });

  it('non-incremental: the new members, comma or newline separated; other keys ignored', () => {
    const next = nextMembership(m3, { ...none, newMembers: 'server.7=h:1:2;3,server.8=h:4:5:observer;6\nversion=99' });
    const m = new Membership(next as never, 1n);
    expect(m.voters).toEqual([7]);
    expect(m.observers).toEqual([8]);
    expect(nextMembership(m3, { ...none, newMembers: 'server.7=h:1' })).toMatchObject({ code: 'BADARGUMENTS' });
  });
});
