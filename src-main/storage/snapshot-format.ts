/**
 * ZooKeeper's snapshot file format (FileSnap + SerializeUtils + DataTree), byte for byte:
 *
 *   FileHeader   magic int "ZKSN" (0x5a4b534e), version int 2, dbid long -1
 *   sessions     int count, then (id long, timeout int) each
 *   ACL cache    int count, then (ref long, vector<ACL>) each; ref -1 (not stored) means
 *                OPEN_ACL_UNSAFE; ZooKeeper numbers the others from 1
 *   nodes        pre-order: path ustring (the root is ""), DataNode{data buffer, acl ref long,
 *                StatPersisted}; ended by the path "/"
 *   seal         Adler-32 (as a long) of every byte above, then the string "/"
 *   [digest]     optional ZxidDigest{zxid long, version int, digest long} + another seal
 *                (running checksum). ZooLab does not write it; it verifies one when present.
 *
 * The zxid is not inside the file: it is in the name (snapshot.<hex zxid>).
 */
import { assert } from '../common/assert';
import { ZooLabError } from '../common/errors';
import type { Zxid } from '../common/ids';
import type { ACL, StatPersisted } from '../jute/types';
import { JuteReader, JuteWriter } from '../jute/buffer';
import { Adler32 } from './adler32';
import { encodeFileHeader, FILE_FORMAT_VERSION, SNAP_MAGIC } from './log-format';
import type { SnapshotData, SnapshotNode, SnapshotSession } from './snapshot-model';

/** ZooKeeper's FileSnap writes dbid -1. */
export const SNAPSHOT_DBID = -1n;
/** ReferenceCountedACLCache: the ref that means OPEN_ACL_UNSAFE without a cache entry. */
export const OPEN_ACL_UNSAFE_REF = -1n;
const OPEN_ACL_UNSAFE: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const TERMINATOR = '/';

function writeAcl(w: JuteWriter, a: ACL): void {
  w.int(a.perms).ustring(a.id.scheme).ustring(a.id.id);
}

function readAcl(r: JuteReader): ACL {
  const perms = r.int();
  const scheme = r.string();
  return { perms, id: { scheme, id: r.string() } };
}

function writeStat(w: JuteWriter, s: StatPersisted): void {
  w.long(s.czxid).long(s.mzxid).long(s.ctime).long(s.mtime).int(s.version).int(s.cversion).int(s.aversion).long(s.ephemeralOwner).long(s.pzxid);
}

function readStat(r: JuteReader): StatPersisted {
  const czxid = r.long();
  const mzxid = r.long();
  const ctime = r.long();
  const mtime = r.long();
  const version = r.int();
  const cversion = r.int();
  const aversion = r.int();
  const ephemeralOwner = r.long();
  return { czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner, pzxid: r.long() };
}

function aclKey(acl: readonly ACL[]): string {
  let key = '';
  for (const a of acl) key += `${a.perms}\u0000${a.id.scheme}\u0000${a.id.id}\u0001`;
  return key;
}

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/')) || '/';
}

/** a streamed snapshot is written in parts of about this size */
export const SNAPSHOT_CHUNK_BYTES = 1024 * 1024;

/**
 * The ACL cache a snapshot of `nodes` needs: each distinct ACL list once, in first-use order
 * (the refs encodeSnapshot gives them: 1, 2, ...).
 */
export function aclTableOf(nodes: readonly SnapshotNode[]): (readonly ACL[])[] {
  const byKey = new Map<string, readonly ACL[]>();
  for (const n of nodes) {
    const key = aclKey(n.acl);
    if (!byKey.has(key)) byKey.set(key, n.acl);
  }
  return [...byKey.values()];
}

/**
 * Encodes a snapshot front to back, one node at a time, for a fuzzy snapshot written while the
 * server goes on serving (each node encoded as it is at that moment) and written out as it goes:
 * the caller writes each part takeFull() hands out, so at most about one part is in memory, not
 * the whole file. The ACL cache sits before the nodes in the file, so the ACL lists are given
 * up front (refs 1, 2, ... in the order given); a node whose list is not among them gets ref -1
 * (OPEN_ACL_UNSAFE, counted in aclsNotInTable). For a fuzzy snapshot that can only be a node
 * whose ACL was set after the snapshot's zxid, which replaying the log after it sets again.
 * The checksum runs along (Adler-32 of every byte before the seal).
 */
export class SnapshotEncoder {
  private readonly w: JuteWriter;
  private readonly sum = new Adler32();
  private readonly refByList = new Map<readonly ACL[], bigint>();
  private readonly refByKey = new Map<string, bigint>();
  /** a view of the writer's bytes was handed out: empty the writer before the next write */
  private handedOut = false;
  private done = false;
  nodeCount = 0;
  /** nodes written with ref -1 because their ACL list was not in the table */
  aclsNotInTable = 0;

  constructor(
    sessions: readonly SnapshotSession[],
    acls: readonly (readonly ACL[])[],
    private readonly chunkBytes = SNAPSHOT_CHUNK_BYTES,
  ) {
    this.w = new JuteWriter(Math.min(chunkBytes, SNAPSHOT_CHUNK_BYTES) + 64 * 1024);
    const w = this.w;
    w.raw(encodeFileHeader(SNAP_MAGIC, SNAPSHOT_DBID));
    w.int(sessions.length);
    for (const s of sessions) w.long(s.id).int(s.timeoutMs);
    w.int(acls.length);
    acls.forEach((acl, i) => {
      const ref = BigInt(i + 1);
      w.long(ref);
      w.vector(acl, writeAcl);
      const key = aclKey(acl);
      if (!this.refByKey.has(key)) this.refByKey.set(key, ref);
      if (this.refByList.size < 10_000) this.refByList.set(acl, ref);
    });
  }

  /** Encodes `n` now. The caller keeps parents before children. */
  node(n: SnapshotNode): void {
    assert(!this.done, 'snapshot encoder: node after finish');
    const w = this.writer();
    w.ustring(n.path === '/' ? '' : n.path);
    w.buffer(n.data);
    w.long(this.refFor(n.acl));
    writeStat(w, n.stat);
    this.nodeCount += 1;
  }

  /** Bytes encoded and not yet handed out. */
  get pendingBytes(): number {
    return this.handedOut ? 0 : this.w.length;
  }

  /**
   * The next part to write once about chunkBytes are encoded, else null. The view is only
   * valid until the encoder's next call: write it before.
   */
  takeFull(): Uint8Array | null {
    if (this.handedOut || this.w.length < this.chunkBytes) return null;
    return this.handOut();
  }

  /** Ends the nodes and seals the file; the last part to write (same validity as takeFull's). */
  finish(): Uint8Array {
    assert(!this.done, 'snapshot encoder: finished twice');
    this.done = true;
    const w = this.writer();
    w.ustring(TERMINATOR);
    this.sum.update(w.viewFrom(0));
    w.long(BigInt(this.sum.value())).ustring(TERMINATOR);
    this.handedOut = true;
    return w.viewFrom(0);
  }

  private handOut(): Uint8Array {
    const part = this.w.viewFrom(0);
    this.sum.update(part);
    this.handedOut = true;
    return part;
  }

  private writer(): JuteWriter {
    if (this.handedOut) {
      this.handedOut = false;
      this.w.reset(Number.MAX_SAFE_INTEGER);
    }
    return this.w;
  }

  private refFor(acl: readonly ACL[]): bigint {
    const known = this.refByList.get(acl);
    if (known !== undefined) return known;
    const ref = this.refByKey.get(aclKey(acl));
    if (ref !== undefined) {
      if (this.refByList.size < 10_000) this.refByList.set(acl, ref);
      return ref;
    }
    this.aclsNotInTable += 1;
    return OPEN_ACL_UNSAFE_REF;
  }
}

/** The snapshot file bytes for `data` (without the optional digest section). */
export function encodeSnapshot(data: SnapshotData): Uint8Array {
  // ZooKeeper (and decodeSnapshot) reject a node listed before its parent: catch it here
  const seen = new Set<string>();
  for (const n of data.nodes) {
    assert(n.path === '/' ? seen.size === 0 : seen.has(parentOf(n.path)), `snapshot: node ${n.path} is not in pre-order (root first, parents before children)`);
    seen.add(n.path);
  }
  const enc = new SnapshotEncoder(data.sessions, aclTableOf(data.nodes), Number.MAX_SAFE_INTEGER);
  for (const n of data.nodes) enc.node(n);
  return enc.finish().slice();
}

function corrupt(name: string, message: string): ZooLabError {
  return new ZooLabError('STORAGE_CORRUPT', `snapshot ${name}: ${message}`);
}

/**
 * Parses and verifies a snapshot file; `zxid` comes from its name. Throws STORAGE_CORRUPT
 * (with the reason) for a bad header, a bad checksum, a truncated file, a node whose parent
 * is missing or an unknown ACL ref.
 */
export function decodeSnapshot(bytes: Uint8Array, zxid: Zxid, name = 'snapshot'): SnapshotData {
  const r = new JuteReader(bytes);
  try {
    const magic = r.int();
    if (magic !== SNAP_MAGIC) throw corrupt(name, `magic 0x${(magic >>> 0).toString(16)} is not "ZKSN" (0x5a4b534e)`);
    const version = r.int();
    if (version !== FILE_FORMAT_VERSION) throw corrupt(name, `format version ${version}, only ${FILE_FORMAT_VERSION} is supported`);
    r.long(); // dbid

    const sessionCount = r.int();
    if (sessionCount < 0 || sessionCount * 12 > r.remaining) throw corrupt(name, `impossible session count ${sessionCount}`);
    const sessions: SnapshotSession[] = [];
    for (let i = 0; i < sessionCount; i++) {
      const id = r.long();
      sessions.push({ id, timeoutMs: r.int() });
    }

    const aclCount = r.int();
    if (aclCount < 0 || aclCount * 12 > r.remaining) throw corrupt(name, `impossible ACL cache size ${aclCount}`);
    const acls = new Map<bigint, ACL[]>();
    for (let i = 0; i < aclCount; i++) {
      const ref = r.long();
      acls.set(ref, r.vector(readAcl) ?? []);
    }

    const nodes: SnapshotNode[] = [];
    const paths = new Set<string>();
    for (;;) {
      const raw = r.string();
      if (raw === TERMINATOR) break;
      const path = raw === '' ? '/' : raw;
      const data = r.buffer();
      const ref = r.long();
      const stat = readStat(r);
      const acl = ref === OPEN_ACL_UNSAFE_REF ? OPEN_ACL_UNSAFE.map((a) => ({ perms: a.perms, id: { ...a.id } })) : acls.get(ref);
      if (acl === undefined) throw corrupt(name, `node ${path} refers to ACL ${ref}, which is not in the ACL cache`);
      if (path !== '/') {
        const parent = parentOf(path);
        if (!path.startsWith('/') || !paths.has(parent)) throw corrupt(name, `node ${path} comes before its parent ${parent}`);
      }
      paths.add(path);
      nodes.push({ path, data, acl, stat });
    }

    const computed = new Adler32().update(bytes, 0, r.offset).value();
    const stored = r.long();
    if (stored !== BigInt(computed)) {
      throw corrupt(name, `checksum mismatch (stored 0x${BigInt.asUintN(64, stored).toString(16)}, computed 0x${computed.toString(16)})`);
    }
    if (r.string() !== TERMINATOR) throw corrupt(name, 'missing "/" after the checksum');
    if (r.remaining > 0) verifyDigestSection(bytes, r, name);
    return { zxid, sessions, nodes };
  } catch (e) {
    if (e instanceof ZooLabError) throw e;
    throw corrupt(name, `cannot be parsed (${e instanceof Error ? e.message : String(e)}); the file is truncated or damaged`);
  }
}

/** checksum long + "/" (int length 1, then the byte): the last thing in every snapshot file */
const SEAL_BYTES = 8 + 4 + 1;

/**
 * Is this a whole snapshot file, as far as its seal tells? The header's magic and version,
 * then the final seal: a "/" after an adler32 of everything before it (the tree's seal, or the
 * digest section's in a ZooKeeper 3.6+ file). Unlike decodeSnapshot this builds no tree, so
 * autopurge can vet the snapshots it keeps without stalling on big trees (ZooKeeper's own check
 * only looks for the "/"). Returns the reason it is not, or null.
 */
export function snapshotSealProblem(bytes: Uint8Array): string | null {
  if (bytes.length < 16 + SEAL_BYTES) return `only ${bytes.length} bytes: truncated`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getInt32(0) !== SNAP_MAGIC) return 'no "ZKSN" magic';
  if (view.getInt32(4) !== FILE_FORMAT_VERSION) return `format version ${view.getInt32(4)}`;
  const at = bytes.length - SEAL_BYTES;
  if (view.getInt32(at + 8) !== 1 || bytes[at + 12] !== 0x2f) return 'no "/" at the end: truncated or damaged';
  const stored = view.getBigInt64(at);
  const computed = new Adler32().update(bytes, 0, at).value();
  return stored === BigInt(computed) ? null : 'checksum mismatch';
}

/** ZooKeeper 3.6+ appends ZxidDigest + a second seal over everything before it. */
function verifyDigestSection(bytes: Uint8Array, r: JuteReader, name: string): void {
  r.long(); // zxid
  r.int(); // digest version
  r.long(); // digest
  const computed = new Adler32().update(bytes, 0, r.offset).value();
  if (r.long() !== BigInt(computed)) throw corrupt(name, 'checksum mismatch in the digest section');
  if (r.string() !== TERMINATOR) throw corrupt(name, 'missing "/" after the digest checksum');
}
