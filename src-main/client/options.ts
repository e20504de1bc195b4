/**
 * What a ZkClient is given and gives back: options, events, reply and argument shapes, the
 * standard ACLs, digest ids and the multi-op builders (`op`).
 */
import { createHash } from 'node:crypto';
import type { SessionId } from '../common/ids';
import { OpCode, CreateFlags, utf8, type ACL, type MultiOp, type ReplyHeader, type Response } from '../jute/index';
import type { HostPort } from './connect-string';
import type { WatchedEvent, Watcher } from './watches';

export type ClientState = 'connecting' | 'connected' | 'connectedReadOnly' | 'disconnected' | 'expired' | 'authFailed' | 'closed';

export interface ClientOptions {
  /** requested session timeout; the server clamps it (default 30000) */
  sessionTimeoutMs?: number;
  /** ask for a read-only session (allowed on a read-only server) */
  readOnly?: boolean;
  /** resume this session instead of creating one (with sessionPasswd) */
  sessionId?: SessionId;
  sessionPasswd?: Uint8Array;
  /** per-host TCP connect + handshake deadline (default sessionTimeoutMs / hosts, ≥ 1000) */
  connectTimeoutMs?: number;
  /** fail a call unanswered this long with REQUESTTIMEOUT and drop the connection (default: none) */
  requestTimeoutMs?: number;
  /** largest reply frame accepted (default 4 MiB, the Java client's) */
  maxPacketBytes?: number;
  /** longest pause between reconnect attempts (default 1000) */
  reconnectDelayMaxMs?: number;
  /** false: send the 44-byte ConnectRequest without readOnly, like node-zookeeper-client */
  sendReadOnlyByte?: boolean;
}

export interface ConnectedInfo {
  sessionId: SessionId;
  negotiatedTimeoutMs: number;
  readOnly: boolean;
  host: HostPort;
  /** true when this connection resumed an existing session */
  resumed: boolean;
}

/** One connection attempt that ended before a session was established (refused, closed, timed out). */
export interface ConnectFailure {
  host: HostPort;
  reason: string;
  /** attempts failed in a row since the last established connection (1 for the first) */
  failuresInARow: number;
  /** ms until the next attempt starts */
  nextAttemptInMs: number;
}

export interface ClientEvents {
  state: [state: ClientState, previous: ClientState];
  connected: [info: ConnectedInfo];
  disconnected: [reason: string];
  connectFailed: [failure: ConnectFailure];
  expired: [];
  closed: [];
  authFailed: [scheme: string];
  watch: [event: WatchedEvent];
}

/** A reply as it came: header (err included) and the decoded body when err is 0. */
export interface RawReply {
  header: ReplyHeader;
  response: Response | null;
}

export type DataInput = Uint8Array | string | null | undefined;
/** true: register a watch reported only through the 'watch' event; a function: also call it */
export type WatchArg = boolean | Watcher | undefined;

export interface CreateOptions {
  acl?: readonly ACL[];
  /** CreateFlags value (default PERSISTENT) */
  mode?: number;
  /** for the TTL modes, in ms */
  ttl?: number | bigint;
}

/** What reconfig changes: `joining`/`leaving` (incremental) or `newMembers` (the whole membership). */
export interface ReconfigChange {
  /** server lines, e.g. `server.4=127.0.0.1:2891:3891:participant;127.0.0.1:2184` */
  joining?: string | readonly string[] | null;
  /** server ids */
  leaving?: string | readonly (string | number)[] | null;
  /** server lines of the new membership (non-incremental) */
  newMembers?: string | readonly string[] | null;
  /** the configuration version this change is based on (the `version=` of /zookeeper/config, as a number); -1n: any */
  fromConfig?: bigint;
}

export const Acls = {
  OPEN_ACL_UNSAFE: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }] as ACL[],
  CREATOR_ALL_ACL: [{ perms: 31, id: { scheme: 'auth', id: '' } }] as ACL[],
  READ_ACL_UNSAFE: [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }] as ACL[],
} as const;

/** The id a digest ACL names for user:password: `user:base64(sha1("user:password"))`. */
export function digestAuthId(user: string, password: string): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;
}

export function toBytes(data: DataInput): Uint8Array | null {
  if (data === undefined || data === null) return data === null ? null : new Uint8Array(0);
  return typeof data === 'string' ? utf8(data) : data;
}

/** Builders for multi / multiRead ops (caller paths; the client applies its chroot). */
export const op = {
  create(path: string, data?: DataInput, options: CreateOptions = {}): MultiOp {
    const req = { path, data: toBytes(data), acl: [...(options.acl ?? Acls.OPEN_ACL_UNSAFE)], flags: options.mode ?? CreateFlags.PERSISTENT };
    if (req.flags === CreateFlags.CONTAINER) return { type: OpCode.createContainer, req };
    if (req.flags === CreateFlags.PERSISTENT_WITH_TTL || req.flags === CreateFlags.PERSISTENT_SEQUENTIAL_WITH_TTL) {
      return { type: OpCode.createTTL, req: { ...req, ttl: BigInt(options.ttl ?? 0) } };
    }
    return { type: OpCode.create, req };
  },
  /** create reported with its Stat (op 15) */
  create2(path: string, data?: DataInput, options: CreateOptions = {}): MultiOp {
    const m = op.create(path, data, options);
    return m.type === OpCode.create ? { type: OpCode.create2, req: m.req } : m;
  },
  delete(path: string, version = -1): MultiOp {
    return { type: OpCode.delete, req: { path, version } };
  },
  setData(path: string, data: DataInput, version = -1): MultiOp {
    return { type: OpCode.setData, req: { path, data: toBytes(data), version } };
  },
  check(path: string, version: number): MultiOp {
    return { type: OpCode.check, req: { path, version } };
  },
  getData(path: string): MultiOp {
    return { type: OpCode.getData, req: { path } };
  },
  getChildren(path: string): MultiOp {
    return { type: OpCode.getChildren, req: { path } };
  },
};
