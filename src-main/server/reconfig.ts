/**
 * Prep of a `reconfig` request (op 16), in ZooKeeper 3.8's order of checks
 * (PrepRequestProcessor): disabled → session → standalone → in progress → curConfigId →
 * next membership (incremental or whole) → enough participants → synced quorum in the new
 * config → WRITE on /zookeeper/config (super and skipACL pass). The txn is a SetDataTxn of
 * /zookeeper/config holding the new membership text, its version being the txn's own zxid.
 * Pure.
 */
import { ErrorCode } from '../common/error-codes';
import type { Zxid } from '../common/ids';
import { Membership, nextMembership } from '../common/membership';
import type { ReconfigRequest, Txn } from '../jute/types';
import { OpCode, Perms } from '../jute/types';
import { checkAcl } from '../tree/acl';
import type { DataTree } from '../tree/data-tree';
import type { PrepContext } from './prep';
import type { ReconfigSupport } from './types';

export const CONFIG_NODE = '/zookeeper/config';

export type ReconfigPrep = { ok: true; txn: Txn; next: Membership } | { ok: false; err: number; message: string };

export function prepReconfig(
  support: ReconfigSupport | undefined,
  role: 'standalone' | 'leader' | 'learner',
  tree: DataTree,
  ctx: PrepContext,
  req: ReconfigRequest,
  zxid: Zxid,
  pendingHere: boolean,
): ReconfigPrep {
  const fail = (err: number, message: string): ReconfigPrep => ({ ok: false, err, message });
  if (support === undefined || !support.enabled) return fail(ErrorCode.RECONFIGDISABLED, 'reconfig is disabled (reconfigEnabled=false)');
  if (ctx.sessionError !== 0) return fail(ctx.sessionError, 'session expired');
  if (role !== 'leader') return fail(ErrorCode.UNIMPLEMENTED, 'reconfig needs an ensemble');
  if (support.inProgress() || pendingHere) return fail(ErrorCode.RECONFIGINPROGRESS, 'a reconfig is in progress');
  const lastSeen = support.lastSeen();
  if (req.curConfigId !== -1n && req.curConfigId !== lastSeen.version) {
    return fail(ErrorCode.BADVERSION, `Reconfiguration from version ${req.curConfigId} failed -- last seen version is ${lastSeen.version}`);
  }
  const members = nextMembership(lastSeen, req);
  if (!Array.isArray(members)) return fail(ErrorCode[members.code], members.message);
  const next = new Membership(members, zxid);
  const voters = next.voters.length;
  if (support.standaloneEnabled && voters < 2) return fail(ErrorCode.BADARGUMENTS, 'Reconfig failed - new configuration must include at least 2 followers');
  if (voters < 1) return fail(ErrorCode.BADARGUMENTS, 'Reconfig failed - new configuration must include at least 1 follower');
  if (!support.quorumSynced(next)) return fail(ErrorCode.NEWCONFIGNOQUORUM, 'Reconfig failed - there must be a connected and synced quorum in new configuration');
  const acl = tree.aclOf(CONFIG_NODE);
  if (!ctx.skipAcl && acl !== undefined && !checkAcl(acl, Perms.WRITE, ctx.authIds)) return fail(ErrorCode.NOAUTH, 'no WRITE on /zookeeper/config');
  return { ok: true, txn: { type: OpCode.setData, path: CONFIG_NODE, data: new TextEncoder().encode(next.toText()), version: -1 }, next };
}
