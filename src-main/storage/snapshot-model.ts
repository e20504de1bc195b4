/**
 * The in-memory shape of a snapshot, shared by the data tree (which exports and imports it)
 * and storage (which encodes it in ZooKeeper's snapshot file format). Pure.
 */
import type { SessionId, Zxid } from '../common/ids';
import type { ACL, StatPersisted } from '../jute/types';

export interface SnapshotSession {
  id: SessionId;
  timeoutMs: number;
}

export interface SnapshotNode {
  /** absolute path; "/" for the root */
  path: string;
  data: Uint8Array | null;
  acl: ACL[];
  stat: StatPersisted;
}

export interface SnapshotData {
  /** highest zxid applied to the tree when the snapshot was started (fuzzy: may include later txns) */
  zxid: Zxid;
  sessions: SnapshotSession[];
  /** parents before children (pre-order walk from "/") */
  nodes: SnapshotNode[];
}
