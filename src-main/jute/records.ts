/**
 * Codecs for the small shared records of zookeeper.jute: Id, ACL, Stat, StatPersisted, the
 * request/reply headers, the handshake records, WatcherEvent and MultiHeader. Field order is
 * exactly zookeeper.jute's; every reader throws JuteUnderflow/JuteFormatError on bad input.
 */
import { JuteFormatError, type JuteReader, type JuteWriter } from './buffer';
import type {
  ACL,
  ConnectRequest,
  ConnectResponse,
  Id,
  ReplyHeader,
  RequestHeader,
  Stat,
  StatPersisted,
  WatcherEvent,
} from './types';

// ---- Id / ACL ----
export function writeId(w: JuteWriter, id: Id): void {
  w.ustring(id.scheme);
  w.ustring(id.id);
}
export function readId(r: JuteReader): Id {
  return { scheme: r.string(), id: r.string() };
}
export function writeACL(w: JuteWriter, acl: ACL): void {
  w.int(acl.perms);
  writeId(w, acl.id);
}
export function readACL(r: JuteReader): ACL {
  const perms = r.int();
  return { perms, id: readId(r) };
}
export function writeACLs(w: JuteWriter, acl: readonly ACL[]): void {
  w.vector(acl, writeACL);
}
/** A null ACL vector reads as an empty list: the server rejects both as INVALIDACL. */
export function readACLs(r: JuteReader): ACL[] {
  return r.vector(readACL) ?? [];
}

// ---- string vectors ----
export function writeStrings(w: JuteWriter, items: readonly string[]): void {
  w.vector(items, (ww, s) => ww.ustring(s));
}
/** vector<ustring>; a null vector reads as []. */
export function readStrings(r: JuteReader): string[] {
  return r.vector((rr) => rr.string()) ?? [];
}

// ---- Stat (68 bytes) / StatPersisted (60 bytes) ----
export const STAT_BYTES = 68;
export function writeStat(w: JuteWriter, s: Stat): void {
  w.long(s.czxid).long(s.mzxid).long(s.ctime).long(s.mtime);
  w.int(s.version).int(s.cversion).int(s.aversion);
  w.long(s.ephemeralOwner);
  w.int(s.dataLength).int(s.numChildren);
  w.long(s.pzxid);
}
export function readStat(r: JuteReader): Stat {
  const czxid = r.long();
  const mzxid = r.long();
  const ctime = r.long();
  const mtime = r.long();
  const version = r.int();
  const cversion = r.int();
  const aversion = r.int();
  const ephemeralOwner = r.long();
  const dataLength = r.int();
  const numChildren = r.int();
  const pzxid = r.long();
  return { czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner, dataLength, numChildren, pzxid };
}
export function writeStatPersisted(w: JuteWriter, s: StatPersisted): void {
  w.long(s.czxid).long(s.mzxid).long(s.ctime).long(s.mtime);
  w.int(s.version).int(s.cversion).int(s.aversion);
  w.long(s.ephemeralOwner);
  w.long(s.pzxid);
}
export function readStatPersisted(r: JuteReader): StatPersisted {
  const czxid = r.long();
  const mzxid = r.long();
  const ctime = r.long();
  const mtime = r.long();
  const version = r.int();
  const cversion = r.int();
  const aversion = r.int();
  const ephemeralOwner = r.long();
  const pzxid = r.long();
  return { czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner, pzxid };
}
/** An all-zero Stat (what ZooKeeper reports for the root and /zookeeper). */
export function emptyStat(): Stat {
  return {
    czxid: 0n, mzxid: 0n, ctime: 0n, mtime: 0n, version: 0, cversion: 0, aversion: 0,
    ephemeralOwner: 0n, dataLength: 0, numChildren: 0, pzxid: 0n,
  };
}

// ---- headers ----
export function writeRequestHeader(w: JuteWriter, h: RequestHeader): void {
  w.int(h.xid).int(h.type);
}
export function readRequestHeader(r: JuteReader): RequestHeader {
  const xid = r.int();
  return { xid, type: r.int() };
}
export function writeReplyHeader(w: JuteWriter, h: ReplyHeader): void {
  w.int(h.xid).long(h.zxid).int(h.err);
}
export function readReplyHeader(r: JuteReader): ReplyHeader {
  const xid = r.int();
  const zxid = r.long();
  return { xid, zxid, err: r.int() };
}

/** MultiHeader{type, done, err}: frames every op and result of multi / multiRead. */
export interface MultiHeader {
  type: number;
  done: boolean;
  err: number;
}
export function writeMultiHeader(w: JuteWriter, h: MultiHeader): void {
  w.int(h.type).bool(h.done).int(h.err);
}
export function readMultiHeader(r: JuteReader): MultiHeader {
  const type = r.int();
  const done = r.bool();
  return { type, done, err: r.int() };
}

// ---- handshake ----
/**
 * ConnectRequest; readOnly is written only when defined (node-zookeeper-client sends 44 bytes
 * without it, Java/C/kazoo 45 with it).
 */
export function writeConnectRequest(w: JuteWriter, c: ConnectRequest): void {
  w.int(c.protocolVersion).long(c.lastZxidSeen).int(c.timeOut).long(c.sessionId).buffer(c.passwd);
  if (c.readOnly !== undefined) w.bool(c.readOnly);
}
/** Reads a ConnectRequest; the readOnly byte is optional and detected by what remains. */
export function readConnectRequest(r: JuteReader): ConnectRequest {
  const protocolVersion = r.int();
  const lastZxidSeen = r.long();
  const timeOut = r.int();
  const sessionId = r.long();
  const passwd = r.buffer() ?? new Uint8Array(0);
  const out: ConnectRequest = { protocolVersion, lastZxidSeen, timeOut, sessionId, passwd };
  if (r.remaining > 0) out.readOnly = r.bool();
  return out;
}
/** ConnectResponse; readOnly written only when defined (mirror the request's form). */
export function writeConnectResponse(w: JuteWriter, c: ConnectResponse): void {
  w.int(c.protocolVersion).int(c.timeOut).long(c.sessionId).buffer(c.passwd);
  if (c.readOnly !== undefined) w.bool(c.readOnly);
}
export function readConnectResponse(r: JuteReader): ConnectResponse {
  const protocolVersion = r.int();
  const timeOut = r.int();
  const sessionId = r.long();
  const passwd = r.buffer() ?? new Uint8Array(0);
  const out: ConnectResponse = { protocolVersion, timeOut, sessionId, passwd };
  if (r.remaining > 0) out.readOnly = r.bool();
  return out;
}

// ---- notifications ----
export function writeWatcherEvent(w: JuteWriter, e: WatcherEvent): void {
  w.int(e.type).int(e.state).ustring(e.path);
}
export function readWatcherEvent(r: JuteReader): WatcherEvent {
  const type = r.int();
  const state = r.int();
  return { type, state, path: r.string() };
}

/** Fails when a record left bytes unread where the format has no optional tail. */
export function expectEnd(r: JuteReader, what: string): void {
  if (r.remaining !== 0) throw new JuteFormatError(`${what}: ${r.remaining} unexpected trailing bytes`);
}
