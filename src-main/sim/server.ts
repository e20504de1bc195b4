/**
 * One simulated server's state: its election and ZAB cores (null while down), the KV state
 * machine, the fake disk, and what the checkers need to know of it.
 */
import type { SessionId, Zxid } from '../common/ids';
import type { Membership } from '../common/membership';
import type { ZabPeer } from '../zab/broadcast';
import type { FastLeaderElection } from '../zab/election';
import type { Sid } from '../zab/quorum';
import { SimDisk } from './disk';
import { KvState, type Applied } from './kv';

export interface ServerView {
  readonly id: Sid;
  readonly alive: boolean;
  readonly serving: boolean;
  readonly role: string;
  readonly epoch: number;
  readonly lastLoggedZxid: Zxid;
  readonly appliedZxid: Zxid;
  readonly history: readonly Applied[];
}

export class SimServer {
  alive = false;
  inc = 0;
  election: FastLeaderElection | null = null;
  zab: ZabPeer | null = null;
  readonly disk = new SimDisk();
  kv = new KvState();
  serving = false;
  servingEpoch = 0;
  checkedLen = 0;
  /** leader only: which server owns each session (ZooKeeper's session owner) */
  readonly owners = new Map<SessionId, Sid>();
  /** what its zoo.cfg.dynamic file holds: the newest membership that includes it */
  membership: Membership;
  /** a reconfig removed it: it takes no part until restarted */
  removed = false;
  constructor(
    readonly id: Sid,
    membership: Membership,
  ) {
    this.membership = membership;
  }
}
