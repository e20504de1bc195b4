/**
 * Client → server request bodies (what follows the RequestHeader), for every opcode of the
 * Request union, including multi/multiRead framed by MultiHeaders. Decoding is as lenient as
 * ZooKeeper about trailing bytes; a truncated or malformed body throws JuteUnderflow or
 * JuteFormatError, an opcode with no request record throws UnknownOpCodeError.
 */
import { unreachable } from '../common/assert';
import { JuteFormatError, type JuteReader, type JuteWriter } from './buffer';
import {
  readACLs,
  readMultiHeader,
  readStrings,
  writeACLs,
  writeMultiHeader,
  writeStrings,
} from './records';
import {
  OpCode,
  type CreateRequest,
  type CreateTTLRequest,
  type MultiOp,
  type Request,
  type SetWatches,
  type SetWatches2,
} from './types';

/** The opcode has no client request record (unknown, notification, createSession, error...). */
export class UnknownOpCodeError extends JuteFormatError {
  override name = 'UnknownOpCodeError';
  constructor(
    readonly opCode: number,
    where = 'request',
  ) {
    super(`unknown ${where} opcode ${opCode}`);
  }
}

const requestTypes: ReadonlySet<number> = new Set<number>([
  OpCode.create, OpCode.create2, OpCode.createContainer, OpCode.createTTL, OpCode.delete,
  OpCode.exists, OpCode.getData, OpCode.getChildren, OpCode.getChildren2, OpCode.setData,
  OpCode.getACL, OpCode.sync, OpCode.deleteContainer, OpCode.getAllChildrenNumber, OpCode.setACL,
  OpCode.check, OpCode.multi, OpCode.multiRead, OpCode.getEphemerals, OpCode.checkWatches,
  OpCode.removeWatches, OpCode.addWatch, OpCode.auth, OpCode.setWatches, OpCode.setWatches2,
  OpCode.sasl, OpCode.reconfig, OpCode.ping, OpCode.closeSession, OpCode.whoAmI,
]);

/** True when decodeRequest knows a request record for this opcode. */
export function isRequestType(type: number): type is Request['type'] {
  return requestTypes.has(type);
}

/** Opcodes accepted inside a multi (writes) and a multiRead (reads). */
export const multiWriteOps: ReadonlySet<number> = new Set<number>([
  OpCode.create, OpCode.create2, OpCode.createTTL, OpCode.createContainer, OpCode.delete, OpCode.setData, OpCode.check,
]);
export const multiReadOps: ReadonlySet<number> = new Set<number>([OpCode.getChildren, OpCode.getData]);

// ---- create ----
function writeCreate(w: JuteWriter, c: CreateRequest): void {
  w.ustring(c.path).buffer(c.data);
  writeACLs(w, c.acl);
  w.int(c.flags);
}
function readCreate(r: JuteReader): CreateRequest {
  const path = r.string();
  const data = r.buffer();
  const acl = readACLs(r);
  return { path, data, acl, flags: r.int() };
}
function writeCreateTTL(w: JuteWriter, c: CreateTTLRequest): void {
  writeCreate(w, c);
  w.long(c.ttl);
}
function readCreateTTL(r: JuteReader): CreateTTLRequest {
  const c = readCreate(r);
  return { ...c, ttl: r.long() };
}

function writeSetWatches(w: JuteWriter, s: SetWatches): void {
  w.long(s.relativeZxid);
  writeStrings(w, s.dataWatches);
  writeStrings(w, s.existWatches);
  writeStrings(w, s.childWatches);
}
function readSetWatches(r: JuteReader): SetWatches {
  const relativeZxid = r.long();
  const dataWatches = readStrings(r);
  const existWatches = readStrings(r);
  return { relativeZxid, dataWatches, existWatches, childWatches: readStrings(r) };
}
function writeSetWatches2(w: JuteWriter, s: SetWatches2): void {
  writeSetWatches(w, s);
  writeStrings(w, s.persistentWatches);
  writeStrings(w, s.persistentRecursiveWatches);
}
function readSetWatches2(r: JuteReader): SetWatches2 {
  const s = readSetWatches(r);
  const persistentWatches = readStrings(r);
  return { ...s, persistentWatches, persistentRecursiveWatches: readStrings(r) };
}

// ---- multi ----
function writeMultiOp(w: JuteWriter, op: MultiOp): void {
  writeMultiHeader(w, { type: op.type, done: false, err: -1 });
  switch (op.type) {
    case OpCode.getChildren:
    case OpCode.getData:
      // GetChildrenRequest / GetDataRequest: multiRead sets no watches, the flag is false
      return encodeRequest(w, { type: op.type, req: { path: op.req.path, watch: false } });
    default:
      return encodeRequest(w, op);
  }
}

/** What a multi or multiRead may carry; checked before decoding (a nested multi is not read). */
const MULTI_OP_TYPES: ReadonlySet<number> = new Set([
  OpCode.create,
  OpCode.create2,
  OpCode.createContainer,
  OpCode.createTTL,
  OpCode.delete,
  OpCode.setData,
  OpCode.check,
  OpCode.getChildren,
  OpCode.getData,
]);

function readMultiOp(type: number, r: JuteReader): MultiOp {
  if (!MULTI_OP_TYPES.has(type)) throw new UnknownOpCodeError(type, 'multi op');
  const request = decodeRequest(type, r);
  switch (request.type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
    case OpCode.delete:
    case OpCode.setData:
    case OpCode.check:
      return request;
    case OpCode.getChildren:
    case OpCode.getData:
      // watch flag: ignored in multiRead
      return { type: request.type, req: { path: request.req.path } };
    default:
      throw new UnknownOpCodeError(type, 'multi op');
  }
}

/** MultiOperationRecord: ops, each after a MultiHeader(type, false, -1), then (-1, true, -1). */
export function writeMultiOps(w: JuteWriter, ops: readonly MultiOp[]): void {
  for (const op of ops) writeMultiOp(w, op);
  writeMultiHeader(w, { type: -1, done: true, err: -1 });
}

/**
 * Reads a MultiOperationRecord. Loops are bounded by the frame: every op consumes at least a
 * 9-byte header, and running out of bytes throws.
 */
export function readMultiOps(r: JuteReader): MultiOp[] {
  const ops: MultiOp[] = [];
  for (;;) {
    const h = readMultiHeader(r);
    if (h.done) return ops;
    ops.push(readMultiOp(h.type, r));
  }
}

/** Writes the request body for `request` (no RequestHeader). */
export function encodeRequest(w: JuteWriter, request: Request): void {
  switch (request.type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
      return writeCreate(w, request.req);
    case OpCode.createTTL:
      return writeCreateTTL(w, request.req);
    case OpCode.delete:
      w.ustring(request.req.path).int(request.req.version);
      return;
    case OpCode.exists:
    case OpCode.getData:
    case OpCode.getChildren:
    case OpCode.getChildren2:
      w.ustring(request.req.path).bool(request.req.watch);
      return;
    case OpCode.setData:
      w.ustring(request.req.path).buffer(request.req.data).int(request.req.version);
      return;
    case OpCode.getACL:
    case OpCode.sync:
    case OpCode.deleteContainer:
    case OpCode.getAllChildrenNumber:
      w.ustring(request.req.path);
      return;
    case OpCode.setACL:
      w.ustring(request.req.path);
      writeACLs(w, request.req.acl);
      w.int(request.req.version);
      return;
    case OpCode.check:
      w.ustring(request.req.path).int(request.req.version);
      return;
    case OpCode.multi:
    case OpCode.multiRead:
      return writeMultiOps(w, request.req.ops);
    case OpCode.getEphemerals:
      w.ustring(request.req.prefixPath);
      return;
    case OpCode.checkWatches:
    case OpCode.removeWatches:
      w.ustring(request.req.path).int(request.req.type);
      return;
    case OpCode.addWatch:
      w.ustring(request.req.path).int(request.req.mode);
      return;
    case OpCode.auth:
      w.int(request.req.type).ustring(request.req.scheme).buffer(request.req.auth);
      return;
    case OpCode.setWatches:
      return writeSetWatches(w, request.req);
    case OpCode.setWatches2:
      return writeSetWatches2(w, request.req);
    case OpCode.sasl:
      w.buffer(request.req.token);
      return;
    case OpCode.reconfig:
      w.ustring(request.req.joiningServers).ustring(request.req.leavingServers).ustring(request.req.newMembers);
      w.long(request.req.curConfigId);
      return;
    case OpCode.ping:
    case OpCode.closeSession:
    case OpCode.whoAmI:
      return;
    default:
      return unreachable(request, 'request type');
  }
}

/** Reads the body of a request of opcode `type` (the RequestHeader already read). */
export function decodeRequest(type: number, r: JuteReader): Request {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
      return { type, req: readCreate(r) };
    case OpCode.createTTL:
      return { type, req: readCreateTTL(r) };
    case OpCode.delete: {
      const path = r.string();
      return { type, req: { path, version: r.int() } };
    }
    case OpCode.exists:
    case OpCode.getData:
    case OpCode.getChildren:
    case OpCode.getChildren2: {
      const path = r.string();
      return { type, req: { path, watch: r.bool() } };
    }
    case OpCode.setData: {
      const path = r.string();
      const data = r.buffer();
      return { type, req: { path, data, version: r.int() } };
    }
    case OpCode.getACL:
    case OpCode.sync:
    case OpCode.deleteContainer:
    case OpCode.getAllChildrenNumber:
      return { type, req: { path: r.string() } };
    case OpCode.setACL: {
      const path = r.string();
      const acl = readACLs(r);
      return { type, req: { path, acl, version: r.int() } };
    }
    case OpCode.check: {
      const path = r.string();
      return { type, req: { path, version: r.int() } };
    }
    case OpCode.multi:
    case OpCode.multiRead: {
      // which ops a multi / multiRead may hold is the server's check (multiWriteOps, multiReadOps)
      return { type, req: { ops: readMultiOps(r) } };
    }
    case OpCode.getEphemerals:
      return { type, req: { prefixPath: r.string() } };
    case OpCode.checkWatches:
    case OpCode.removeWatches: {
      const path = r.string();
      return { type, req: { path, type: r.int() } };
    }
    case OpCode.addWatch: {
      const path = r.string();
      return { type, req: { path, mode: r.int() } };
    }
    case OpCode.auth: {
      const authType = r.int();
      const scheme = r.string();
      return { type, req: { type: authType, scheme, auth: r.buffer() } };
    }
    case OpCode.setWatches:
      return { type, req: readSetWatches(r) };
    case OpCode.setWatches2:
      return { type, req: readSetWatches2(r) };
    case OpCode.sasl:
      return { type, req: { token: r.buffer() } };
    case OpCode.reconfig: {
      const joiningServers = r.ustring();
      const leavingServers = r.ustring();
      const newMembers = r.ustring();
      return { type, req: { joiningServers, leavingServers, newMembers, curConfigId: r.long() } };
    }
    case OpCode.ping:
    case OpCode.closeSession:
    case OpCode.whoAmI:
      return { type, req: null };
    default:
      throw new UnknownOpCodeError(type);
  }
}
