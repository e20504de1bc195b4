/**
 * Which replicated txns change the membership. ZooKeeper logs a reconfig as a TxnHeader of
 * type 16 (reconfig) with a SetDataTxn of /zookeeper/config whose data is the new membership
 * text (its version being the txn's zxid). The ZAB core only needs to know that a txn is one,
 * and the membership it makes; this reads it from the txn bytes. Pure.
 */
import { Membership, type Member } from '../common/membership';
import { decodeTxnEntry } from '../jute/txns';
import { OpCode } from '../jute/types';
import type { QuorumMaj } from './quorum';
import type { TxnRecord } from './types';

/** TxnHeader: clientId long, cxid int, zxid long, time long, then the type int. */
const HEADER_TYPE_OFFSET = 28;

export function reconfigOfTxnEntry(txn: TxnRecord): Membership | null {
  const d = txn.data;
  if (d.length < HEADER_TYPE_OFFSET + 4) return null;
  // asked of every txn proposed and committed: four bytes read as they are (no DataView each)
  const o = HEADER_TYPE_OFFSET;
  const type = ((d[o] as number) << 24) | ((d[o + 1] as number) << 16) | ((d[o + 2] as number) << 8) | (d[o + 3] as number);
  if (type !== OpCode.reconfig) return null;
  const entry = decodeTxnEntry(d);
  if (entry.txn.type !== OpCode.setData || entry.txn.data === null) return null;
  const m = Membership.parse(new TextDecoder().decode(entry.txn.data));
  return typeof m === 'string' ? null : m;
}

/** A membership for cores built from a bare QuorumMaj (tests, the simulator): made-up addresses. */
export function membershipOfQuorum(quorum: QuorumMaj, version = 0n): Membership {
  const members: Member[] = quorum.members().map((id) => ({
    id,
    host: '127.0.0.1',
    quorumPort: 20000 + id,
    electionPort: 30000 + id,
    type: quorum.isVoter(id) ? 'participant' : 'observer',
    clientHost: '0.0.0.0',
    clientPort: 10000 + id,
  }));
  return new Membership(members, version);
}
