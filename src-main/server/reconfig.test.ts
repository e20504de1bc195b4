import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/error-codes';
import { Membership } from '../common/membership';
import { OpCode } from '../jute/types';
import { DataTree } from '../tree/data-tree';
import type { PrepContext } from './prep';
import { prepReconfig } from './reconfig';
import type { ReconfigSupport } from './types';

const current = Membership.parse(
  'server.1=127.0.0.1:2881:3881:participant;0.0.0.0:2181\nserver.2=127.0.0.1:2882:3882:participant;0.0.0.0:2182\nserver.3=127.0.0.1:2883:3883:participant;0.0.0.0:2183\nversion=100000000',
) as Membership;
const SUPER = [{ scheme: 'super', id: '' }];
const ctx = (over: Partial<PrepContext> = {}): PrepContext => ({ sessionId: 1n, zxid: 0x100000005n, timeMs: 0n, authIds: [{ scheme: 'ip', id: '127.0.0.1' }], skipAcl: false, extendedTypesEnabled: false, sessionError: 0, ...over });
const support = (over: Partial<ReconfigSupport> = {}): ReconfigSupport => ({ enabled: true, standaloneEnabled: false, lastSeen: () => current, inProgress: () => false, quorumSynced: () => true, ...over });
const req = (over: Partial<{ joiningServers: string | null; leavingServers: string | null; newMembers: string | null; curConfigId: bigint }> = {}) => ({ joiningServers: null, leavingServers: null, newMembers: null, curConfigId: -1n, ...over });
const err = (r: ReturnType<typeof prepReconfig>): number => (r.ok ? 0 : r.err);

describe('reconfig prep: ZooKeeper 3.8 order of checks', () => {
  const tree = new DataTree();

  it('disabled comes first, then the session, then standalone, then in progress, then the version', () => {
    const bad = req({ leavingServers: '3', curConfigId: 5n });
    expect(err(prepReconfig(undefined, 'leader', tree, ctx({ sessionError: ErrorCode.SESSIONEXPIRED }), bad, 5n, false))).toBe(ErrorCode.RECONFIGDISABLED);
    expect(err(prepReconfig(support(), 'standalone', tree, ctx({ sessionError: ErrorCode.SESSIONEXPIRED }), bad, 5n, false))).toBe(ErrorCode.SESSIONEXPIRED);
    expect(err(prepReconfig(support(), 'standalone', tree, ctx(), bad, 5n, false))).toBe(ErrorCode.UNIMPLEMENTED);
    expect(err(prepReconfig(support({ inProgress: () => true }), 'leader', tree, ctx(), bad, 5n, false))).toBe(ErrorCode.RECONFIGINPROGRESS);
    expect(err(prepReconfig(support(), 'leader', tree, ctx(), bad, 5n, true))).toBe(ErrorCode.RECONFIGINPROGRESS);
    expect(err(prepReconfig(support(), 'leader', tree, ctx(), bad, 5n, false))).toBe(ErrorCode.BADVERSION);
  });

  it('then the membership: malformed, too few participants, no synced quorum; the ACL (WRITE) last', () => {
    expect(err(prepReconfig(support(), 'leader', tree, ctx(), req({ joiningServers: 'server.4=h:1' }), 5n, false))).toBe(ErrorCode.BADARGUMENTS);
    expect(err(prepReconfig(support({ standaloneEnabled: true }), 'leader', tree, ctx(), req({ leavingServers: '2,3' }), 5n, false))).toBe(ErrorCode.BADARGUMENTS);
    expect(err(prepReconfig(support(), 'leader', tree, ctx(), req({ leavingServers: '1,2,3' }), 5n, false))).toBe(ErrorCode.BADARGUMENTS);
    expect(err(prepReconfig(support({ quorumSynced: () => false }), 'leader', tree, ctx(), req({ leavingServers: '3' }), 5n, false))).toBe(ErrorCode.NEWCONFIGNOQUORUM);
    expect(err(prepReconfig(support(), 'leader', tree, ctx(), req({ leavingServers: '3', curConfigId: 0x100000000n }), 5n, false))).toBe(ErrorCode.NOAUTH);
    expect(prepReconfig(support(), 'leader', tree, ctx({ skipAcl: true }), req({ leavingServers: '3' }), 5n, false).ok).toBe(true);
  });

  it('the txn: SetDataTxn of /zookeeper/config, version -1, the new text stamped with the txn zxid', () => {
    const r = prepReconfig(support(), 'leader', tree, ctx({ authIds: SUPER }), req({ joiningServers: 'server.4=127.0.0.1:2884:3884:observer;2184', leavingServers: '1' }), 0x100000005n, false);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.txn).toMatchObject({ type: OpCode.setData, path: '/zookeeper/config', version: -1 });
    expect(new TextDecoder().decode((r.txn as { data: Uint8Array }).data)).toBe(
      'server.2=127.0.0.1:2882:3882:participant;0.0.0.0:2182\nserver.3=127.0.0.1:2883:3883:participant;0.0.0.0:2183\nserver.4=127.0.0.1:2884:3884:observer;0.0.0.0:2184\nversion=100000005',
    );
  });
});
