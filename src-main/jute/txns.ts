/**
 * Transactions as ZooKeeper writes them into its txn log and ZAB proposals:
 * TxnHeader{clientId, cxid, zxid, time, type} + the txn record chosen by header.type
 * (+ an optional TxnDigest{version, treeDigest}). A MultiTxn holds Txn{type, data buffer}
 * entries whose data is the serialized sub-txn record.
 *
 * Header types that share a record with another txn decode to that txn's shape:
 * create2 (15) → a `create` Txn, reconfig (16) → a `setData` Txn (the header keeps the real
 * type). Inside a multi, a create2 sub-txn decodes to `create` and re-encodes as type 1;
 * ZooKeeper applies both identically.
 */
import { assert, unreachable } from '../common/assert';
import { JuteFormatError, JuteReader, JuteWriter } from './buffer';
import { readACLs, readStrings, writeACLs, writeStrings } from './records';
import { UnknownOpCodeError } from './requests';
import { OpCode, type Txn, type TxnEntry, type TxnHeader } from './types';

/** TxnDigest is int + long. */
const DIGEST_BYTES = 12;

export function writeTxnHeader(w: JuteWriter, h: TxnHeader): void {
  w.long(h.clientId).int(h.cxid).long(h.zxid).long(h.time).int(h.type);
}
export function readTxnHeader(r: JuteReader): TxnHeader {
  const clientId = r.long();
  const cxid = r.int();
  const zxid = r.long();
  const time = r.long();
  return { clientId, cxid, zxid, time, type: r.int() };
}

/** The Txn shape that a header/sub-txn type decodes to (see the file comment). */
function txnTypeFor(headerType: number): Txn['type'] | undefined {
  switch (headerType) {
    case OpCode.create:
    case OpCode.create2:
      return OpCode.create;
    case OpCode.reconfig:
    case OpCode.setData:
      return OpCode.setData;
    case OpCode.createContainer:
    case OpCode.createTTL:
    case OpCode.delete:
    case OpCode.deleteContainer:
    case OpCode.setACL:
    case OpCode.check:
    case OpCode.createSession:
    case OpCode.closeSession:
    case OpCode.error:
    case OpCode.multi:
      return headerType;
    default:
      return undefined;
  }
}

/** Writes the txn record of `txn` (no header). */
export function writeTxnBody(w: JuteWriter, txn: Txn): void {
  switch (txn.type) {
    case OpCode.create:
      w.ustring(txn.path).buffer(txn.data);
      writeACLs(w, txn.acl);
      w.bool(txn.ephemeral).int(txn.parentCVersion);
      return;
    case OpCode.createContainer:
      w.ustring(txn.path).buffer(txn.data);
      writeACLs(w, txn.acl);
      w.int(txn.parentCVersion);
      return;
    case OpCode.createTTL:
      w.ustring(txn.path).buffer(txn.data);
      writeACLs(w, txn.acl);
      w.int(txn.parentCVersion).long(txn.ttl);
      return;
    case OpCode.delete:
    case OpCode.deleteContainer:
      w.ustring(txn.path);
      return;
    case OpCode.setData:
      w.ustring(txn.path).buffer(txn.data).int(txn.version);
      return;
    case OpCode.setACL:
      w.ustring(txn.path);
      writeACLs(w, txn.acl);
      w.int(txn.version);
      return;
    case OpCode.check:
      w.ustring(txn.path).int(txn.version);
      return;
    case OpCode.createSession:
      w.int(txn.timeOut);
      return;
    case OpCode.closeSession:
      // older logs have no body: keep that form when there is no list
      if (txn.paths2Delete !== undefined) writeStrings(w, txn.paths2Delete);
      return;
    case OpCode.error:
      w.int(txn.err);
      return;
    case OpCode.multi:
      w.vector(txn.txns, (ww, sub) => {
        assert(sub.type !== OpCode.multi && sub.type !== OpCode.createSession && sub.type !== OpCode.closeSession, `txn type ${sub.type} cannot be inside a multi`);
        const inner = new JuteWriter(64);
        writeTxnBody(inner, sub);
        ww.int(sub.type).buffer(inner.bytes());
      });
      return;
    default:
      return unreachable(txn, 'txn type');
  }
}

/** Reads the txn record for header/sub-txn type `type`. closeSession reads its optional body. */
export function readTxnBody(type: number, r: JuteReader, depth = 0): Txn {
  const shape = txnTypeFor(type);
  if (shape === undefined) throw new UnknownOpCodeError(type, 'txn');
  switch (shape) {
    case OpCode.create: {
      const path = r.string();
      const data = r.buffer();
      const acl = readACLs(r);
      const ephemeral = r.bool();
      return { type: shape, path, data, acl, ephemeral, parentCVersion: r.int() };
    }
    case OpCode.createContainer: {
      const path = r.string();
      const data = r.buffer();
      const acl = readACLs(r);
      return { type: shape, path, data, acl, parentCVersion: r.int() };
    }
    case OpCode.createTTL: {
      const path = r.string();
      const data = r.buffer();
      const acl = readACLs(r);
      const parentCVersion = r.int();
      return { type: shape, path, data, acl, parentCVersion, ttl: r.long() };
    }
    case OpCode.delete:
    case OpCode.deleteContainer:
      return { type: shape, path: r.string() };
    case OpCode.setData: {
      const path = r.string();
      const data = r.buffer();
      return { type: shape, path, data, version: r.int() };
    }
    case OpCode.setACL: {
      const path = r.string();
      const acl = readACLs(r);
      return { type: shape, path, acl, version: r.int() };
    }
    case OpCode.check: {
      const path = r.string();
      return { type: shape, path, version: r.int() };
    }
    case OpCode.createSession:
      return { type: shape, timeOut: r.int() };
    case OpCode.closeSession:
      return readCloseSession(r);
    case OpCode.error:
      return { type: shape, err: r.int() };
    case OpCode.multi: {
      if (depth > 0) throw new JuteFormatError('multi txn nested inside a multi txn');
      const txns =
        r.vector((rr) => {
          const subType = rr.int();
          const data = rr.buffer() ?? new Uint8Array(0);
          if (subType === OpCode.multi || subType === OpCode.createSession || subType === OpCode.closeSession) {
            throw new JuteFormatError(`txn type ${subType} cannot be inside a multi`);
          }
          const sub = new JuteReader(data);
          const txn = readTxnBody(subType, sub, depth + 1);
          if (sub.remaining !== 0) throw new JuteFormatError(`multi sub-txn type ${subType}: ${sub.remaining} trailing bytes`);
          return txn;
        }) ?? [];
      return { type: shape, txns };
    }
    default:
      return unreachable(shape, 'txn shape');
  }
}

/**
 * CloseSessionTxn{paths2Delete} or, in older logs, no body at all. A body-less entry may still
 * be followed by a 12-byte digest, so a body is accepted only if it leaves 0 or 12 bytes.
 */
function readCloseSession(r: JuteReader): Txn {
  const start = r.offset;
  const total = r.remaining;
  if (total === 0) return { type: OpCode.closeSession };
  try {
    const paths2Delete = readStrings(r);
    if (r.remaining === 0 || r.remaining === DIGEST_BYTES) return { type: OpCode.closeSession, paths2Delete };
  } catch (e) {
    if (total !== DIGEST_BYTES) throw e;
  }
  if (total === DIGEST_BYTES) {
    r.offset = start; // no body, just the digest
    return { type: OpCode.closeSession };
  }
  throw new JuteFormatError('closeSession txn: malformed paths2Delete');
}

/** TxnHeader + txn record (+ digest when present): the bytes of one txn-log entry. */
export function encodeTxnEntry(entry: TxnEntry): Uint8Array {
  // room for a header, a path and a small value without growing (a setData of 100 bytes is ~170)
  const w = new JuteWriter(256);
  writeTxnEntry(w, entry);
  return w.take();
}

/**
 * encodeTxnEntry into `w`, after what it already holds. Returns the entry's bytes as a view
 * into w's buffer: valid until w is reset and written again (copy them before that).
 */
export function writeTxnEntry(w: JuteWriter, entry: TxnEntry): Uint8Array {
  const expected = txnTypeFor(entry.header.type);
  // the message is built only on failure (this runs for every txn)
  if (!(expected === entry.txn.type || (entry.header.type === OpCode.deleteContainer && entry.txn.type === OpCode.deleteContainer))) {
    assert(false, `txn header type ${entry.header.type} does not match txn type ${entry.txn.type}`);
  }
  const start = w.length;
  writeTxnHeader(w, entry.header);
  writeTxnBody(w, entry.txn);
  if (entry.digest !== undefined) w.int(entry.digest.version).long(entry.digest.treeDigest);
  return w.viewFrom(start);
}

/**
 * encodeTxnEntry for a stream of entries whose bytes are kept (a leader's proposals): each
 * entry's bytes are a view into a shared block instead of a buffer of their own (an ArrayBuffer
 * per txn was ~2.5% of a leader's CPU). A block is never written over; a new one starts when it
 * is nearly full, and lives as long as a view into it.
 */
export class TxnEntryEncoder {
  private w: JuteWriter;

  constructor(private readonly blockBytes = 64 * 1024) {
    this.w = new JuteWriter(blockBytes);
  }

  encode(entry: TxnEntry): Uint8Array {
    // an entry that does not fit grows the writer into a new buffer: views handed out before
    // keep pointing into the old one, unchanged
    if (this.w.length > this.blockBytes - 1024) this.w = new JuteWriter(this.blockBytes);
    return writeTxnEntry(this.w, entry);
  }
}

/** Reads one txn-log entry; throws JuteUnderflow / JuteFormatError / UnknownOpCodeError. */
export function decodeTxnEntry(bytes: Uint8Array, shareBuffers = false): TxnEntry {
  const r = new JuteReader(bytes);
  // the entry's byte fields (a node's data) as views into `bytes` instead of copies: for bytes
  // nobody changes and that are no bigger than the entry (a committed txn's record)
  r.shareBuffers = shareBuffers;
  const header = readTxnHeader(r);
  const txn = readTxnBody(header.type, r);
  if (r.remaining === 0) return { header, txn };
  if (r.remaining === DIGEST_BYTES) {
    const version = r.int();
    return { header, txn, digest: { version, treeDigest: r.long() } };
  }
  throw new JuteFormatError(`txn type ${header.type}: ${r.remaining} unexpected trailing bytes`);
}
