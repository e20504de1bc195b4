/**
 * TypeScript shapes of ZooKeeper's jute records (zookeeper.jute), shared by the codec
 * (jute/), the data tree (tree/), storage (storage/) and the request pipeline (server/).
 * Field names follow zookeeper.jute. Buffers are `Uint8Array | null`: null (length -1) and
 * empty (length 0) are different on the wire and must stay different.
 */
import type { SessionId, Zxid } from '../common/ids';

export type Bytes = Uint8Array;

export const OpCode = {
  notification: 0,
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getACL: 6,
  setACL: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  reconfig: 16,
  checkWatches: 17,
  removeWatches: 18,
  createContainer: 19,
  deleteContainer: 20,
  createTTL: 21,
  multiRead: 22,
  auth: 100,
  setWatches: 101,
  sasl: 102,
  getEphemerals: 103,
  getAllChildrenNumber: 104,
  setWatches2: 105,
  addWatch: 106,
  whoAmI: 107,
  createSession: -10,
  closeSession: -11,
  error: -1,
} as const;
export type OpCodeName = keyof typeof OpCode;
export type OpCodeValue = (typeof OpCode)[OpCodeName];

export const Perms = { READ: 1, WRITE: 2, CREATE: 4, DELETE: 8, ADMIN: 16, ALL: 31 } as const;

/** CreateMode flags as sent in CreateRequest.flags. */
export const CreateFlags = {
  PERSISTENT: 0,
  EPHEMERAL: 1,
  PERSISTENT_SEQUENTIAL: 2,
  EPHEMERAL_SEQUENTIAL: 3,
  CONTAINER: 4,
  PERSISTENT_WITH_TTL: 5,
  PERSISTENT_SEQUENTIAL_WITH_TTL: 6,
} as const;

export const WatcherEventType = {
  None: -1,
  NodeCreated: 1,
  NodeDeleted: 2,
  NodeDataChanged: 3,
  NodeChildrenChanged: 4,
  DataWatchRemoved: 5,
  ChildWatchRemoved: 6,
  PersistentWatchRemoved: 7,
} as const;

export const KeeperState = {
  Disconnected: 0,
  SyncConnected: 3,
  AuthFailed: 4,
  ConnectedReadOnly: 5,
  SaslAuthenticated: 6,
  Expired: -112,
  Closed: 7,
} as const;

/** WatcherType in checkWatches/removeWatches. */
export const WatcherType = { Children: 1, Data: 2, Any: 3, Persistent: 4, PersistentRecursive: 5 } as const;
/** AddWatchRequest.mode */
export const AddWatchMode = { PERSISTENT: 0, PERSISTENT_RECURSIVE: 1 } as const;

export interface Id {
  scheme: string;
  id: string;
}
export interface ACL {
  perms: number;
  id: Id;
}

export interface Stat {
  czxid: Zxid;
  mzxid: Zxid;
  ctime: bigint;
  mtime: bigint;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: SessionId;
  dataLength: number;
  numChildren: number;
  pzxid: Zxid;
}

/** The persisted part of a Stat (snapshots): no dataLength, no numChildren. */
export type StatPersisted = Omit<Stat, 'dataLength' | 'numChildren'>;

// ---- handshake and headers ----
export interface ConnectRequest {
  protocolVersion: number;
  lastZxidSeen: Zxid;
  timeOut: number;
  sessionId: SessionId;
  passwd: Bytes;
  /** undefined when the client did not send the byte (node-zookeeper-client). */
  readOnly?: boolean;
}
export interface ConnectResponse {
  protocolVersion: number;
  timeOut: number;
  sessionId: SessionId;
  passwd: Bytes;
  /** written only when the request carried readOnly. */
  readOnly?: boolean;
}
export interface RequestHeader {
  xid: number;
  type: number;
}
export interface ReplyHeader {
  xid: number;
  zxid: Zxid;
  err: number;
}
export interface WatcherEvent {
  type: number;
  state: number;
  path: string;
}

// ---- requests (client -> server bodies) ----
export interface CreateRequest { path: string; data: Bytes | null; acl: ACL[]; flags: number }
export interface CreateTTLRequest extends CreateRequest { ttl: bigint }
export interface DeleteRequest { path: string; version: number }
export interface PathWatchRequest { path: string; watch: boolean } // exists, getData, getChildren, getChildren2
export interface SetDataRequest { path: string; data: Bytes | null; version: number }
export interface PathRequest { path: string } // getACL, sync, deleteContainer, getAllChildrenNumber
export interface SetACLRequest { path: string; acl: ACL[]; version: number }
export interface CheckVersionRequest { path: string; version: number }
export interface GetEphemeralsRequest { prefixPath: string }
export interface WatchesRequest { path: string; type: number } // checkWatches, removeWatches
export interface AddWatchRequest { path: string; mode: number }
export interface AuthPacket { type: number; scheme: string; auth: Bytes | null }
export interface SetWatches {
  relativeZxid: Zxid;
  dataWatches: string[];
  existWatches: string[];
  childWatches: string[];
}
export interface SetWatches2 extends SetWatches {
  persistentWatches: string[];
  persistentRecursiveWatches: string[];
}
export interface GetSASLRequest { token: Bytes | null }
export interface ReconfigRequest { joiningServers: string | null; leavingServers: string | null; newMembers: string | null; curConfigId: bigint }

/** One op inside multi / multiRead. */
export type MultiOp =
  | { type: typeof OpCode.create | typeof OpCode.create2 | typeof OpCode.createContainer; req: CreateRequest }
  | { type: typeof OpCode.createTTL; req: CreateTTLRequest }
  | { type: typeof OpCode.delete; req: DeleteRequest }
  | { type: typeof OpCode.setData; req: SetDataRequest }
  | { type: typeof OpCode.check; req: CheckVersionRequest }
  | { type: typeof OpCode.getChildren | typeof OpCode.getData; req: PathRequest };

/** A decoded client request: the opcode with its body. */
export type Request =
  | { type: typeof OpCode.create | typeof OpCode.create2 | typeof OpCode.createContainer; req: CreateRequest }
  | { type: typeof OpCode.createTTL; req: CreateTTLRequest }
  | { type: typeof OpCode.delete; req: DeleteRequest }
  | { type: typeof OpCode.exists | typeof OpCode.getData | typeof OpCode.getChildren | typeof OpCode.getChildren2; req: PathWatchRequest }
  | { type: typeof OpCode.setData; req: SetDataRequest }
  | { type: typeof OpCode.getACL | typeof OpCode.sync | typeof OpCode.deleteContainer | typeof OpCode.getAllChildrenNumber; req: PathRequest }
  | { type: typeof OpCode.setACL; req: SetACLRequest }
  | { type: typeof OpCode.check; req: CheckVersionRequest }
  | { type: typeof OpCode.multi | typeof OpCode.multiRead; req: { ops: MultiOp[] } }
  | { type: typeof OpCode.getEphemerals; req: GetEphemeralsRequest }
  | { type: typeof OpCode.checkWatches | typeof OpCode.removeWatches; req: WatchesRequest }
  | { type: typeof OpCode.addWatch; req: AddWatchRequest }
  | { type: typeof OpCode.auth; req: AuthPacket }
  | { type: typeof OpCode.setWatches; req: SetWatches }
  | { type: typeof OpCode.setWatches2; req: SetWatches2 }
  | { type: typeof OpCode.sasl; req: GetSASLRequest }
  | { type: typeof OpCode.reconfig; req: ReconfigRequest }
  | { type: typeof OpCode.ping | typeof OpCode.closeSession | typeof OpCode.whoAmI; req: null };

// ---- responses (server -> client bodies; sent only when err == 0) ----
export type MultiResult =
  | { type: typeof OpCode.create; path: string }
  | { type: typeof OpCode.create2 | typeof OpCode.createContainer | typeof OpCode.createTTL; path: string; stat: Stat }
  | { type: typeof OpCode.delete | typeof OpCode.check }
  | { type: typeof OpCode.setData; stat: Stat }
  | { type: typeof OpCode.getData; data: Bytes | null; stat: Stat }
  | { type: typeof OpCode.getChildren; children: string[] }
  | { type: typeof OpCode.error; err: number };

export type Response =
  | { type: typeof OpCode.create; path: string }
  | { type: typeof OpCode.create2 | typeof OpCode.createContainer | typeof OpCode.createTTL; path: string; stat: Stat }
  | { type: typeof OpCode.exists | typeof OpCode.setData | typeof OpCode.setACL; stat: Stat }
  | { type: typeof OpCode.getData; data: Bytes | null; stat: Stat }
  | { type: typeof OpCode.getACL; acl: ACL[]; stat: Stat }
  | { type: typeof OpCode.getChildren; children: string[] }
  | { type: typeof OpCode.getChildren2; children: string[]; stat: Stat }
  | { type: typeof OpCode.sync; path: string }
  | { type: typeof OpCode.multi | typeof OpCode.multiRead; results: MultiResult[] }
  | { type: typeof OpCode.getEphemerals; ephemerals: string[] }
  | { type: typeof OpCode.getAllChildrenNumber; totalNumber: number }
  | { type: typeof OpCode.addWatch } // ErrorResponse{err=0}: a 4-byte zero body
  | { type: typeof OpCode.whoAmI; clientInfo: { authScheme: string; user: string }[] }
  | { type: typeof OpCode.sasl; token: Bytes | null }
  | { type: typeof OpCode.reconfig; data: Bytes | null; stat: Stat }
  | { type: 'empty' }; // delete, ping, closeSession, auth, setWatches*, checkWatches, removeWatches, deleteContainer

// ---- transactions (what is logged, replicated and applied) ----
export interface TxnHeader {
  clientId: SessionId;
  cxid: number;
  zxid: Zxid;
  time: bigint;
  type: number;
}

export type Txn =
  | { type: typeof OpCode.create; path: string; data: Bytes | null; acl: ACL[]; ephemeral: boolean; parentCVersion: number }
  | { type: typeof OpCode.createContainer; path: string; data: Bytes | null; acl: ACL[]; parentCVersion: number }
  | { type: typeof OpCode.createTTL; path: string; data: Bytes | null; acl: ACL[]; parentCVersion: number; ttl: bigint }
  | { type: typeof OpCode.delete | typeof OpCode.deleteContainer; path: string }
  | { type: typeof OpCode.setData; path: string; data: Bytes | null; version: number }
  | { type: typeof OpCode.setACL; path: string; acl: ACL[]; version: number }
  | { type: typeof OpCode.check; path: string; version: number }
  | { type: typeof OpCode.createSession; timeOut: number }
  | { type: typeof OpCode.closeSession; paths2Delete?: string[] }
  | { type: typeof OpCode.error; err: number }
  | { type: typeof OpCode.multi; txns: Txn[] };

/** TxnDigest{version, treeDigest}: ZooKeeper 3.6+ appends it after the txn in its log. */
export interface TxnDigest {
  version: number;
  treeDigest: bigint;
}

/** A transaction with its header: the unit of the txn log and of ZAB proposals. */
export interface TxnEntry {
  header: TxnHeader;
  txn: Txn;
  /** present when the entry carried a trailing TxnDigest (Apache ZooKeeper 3.6+ logs). */
  digest?: TxnDigest;
}
