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
import { Adler32, adler32, adler32Combine } from './adler32';
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

/** node bytes are handed out in chunks of about this size */
export const SNAPSHOT_CHUNK_BYTES = 1024 * 1024;

/**
 * Encodes a snapshot one node at a time, for a fuzzy snapshot written while the server goes on
 * serving (each node encoded as it is at that moment). The ACL cache sits before the nodes in
 * the file but is only known once every node is seen, so the node bytes are kept as chunks with
 * their Adler-32 running along; finish() then builds the head (header, sessions, ACL cache)
 * and the seal, whose checksum is combined from the head's and the nodes' (adler32Combine):
 * no pass over the whole file at the end. ACL refs are numbered from 1 in first-use order, one
 * per distinct ACL list (the tree shares one stored list among equal ACLs: identity first).
 */
export class SnapshotEncoder {
  private w = new JuteWriter(64 * 1024);
  private readonly chunks: Uint8Array[] = [];
  private readonly bodySum = new Adler32();
  private bodyBytes = 0;
  private readonly refByList = new Map<readonly ACL[], bigint>();
  private readonly refByKey = new Map<string, bigint>();
  private readonly lists: (readonly ACL[])[] = [];
  private done = false;
  nodeCount = 0;

  constructor(private readonly chunkBytes = SNAPSHOT_CHUNK_BYTES) {}

  /** Encodes `n` now. The caller keeps parents before children. */
  node(n: SnapshotNode): void {
    assert(!this.done, 'snapshot encoder: node after finish');
    const w = this.w;
    w.ustring(n.path === '/' ? '' : n.path);
    w.buffer(n.data);
    w.long(this.refFor(n.acl));
    writeStat(w, n.stat);
    this.nodeCount += 1;
    if (w.length >= this.chunkBytes) this.cut();
  }

  /** Node bytes encoded so far (all of them are kept until finish). */
  get bytesSoFar(): number {
    return this.bodyBytes + this.w.length;
  }

  /** The whole file as parts to write in order: head, node chunks, seal. */
  finish(sessions: readonly SnapshotSession[]): Uint8Array[] {
    assert(!this.done, 'snapshot encoder: finished twice');
    this.w.ustring(TERMINATOR);
    this.cut();
    this.done = true;
    const head = new JuteWriter(4096);
    head.raw(encodeFileHeader(SNAP_MAGIC, SNAPSHOT_DBID));
    head.int(sessions.length);
    for (const s of sessions) head.long(s.id).int(s.timeoutMs);
    head.int(this.lists.length);
    this.lists.forEach((acl, i) => {
      head.long(BigInt(i + 1));
      head.vector(acl, writeAcl);
    });
    const headBytes = head.bytes();
    const sum = adler32Combine(adler32(headBytes), this.bodySum.value(), this.bodyBytes);
    const seal = new JuteWriter(16).long(BigInt(sum)).ustring(TERMINATOR).bytes();
    return [headBytes, ...this.chunks.splice(0), seal];
  }

  private refFor(acl: readonly ACL[]): bigint {
    const known = this.refByList.get(acl);
    if (known !== undefined) return known;
    const key = aclKey(acl);
    let ref = this.refByKey.get(key);
    if (ref === undefined) {
      ref = BigInt(this.lists.length + 1);
      this.refByKey.set(key, ref);
      this.lists.push(acl.map((a) => ({ perms: a.perms, id: { scheme: a.id.scheme, id: a.id.id } })));
    }
    // bounded like the tree's ACL cache: lists that are all different are looked up by key
    if (this.refByList.size < 10_000) this.refByList.set(acl, ref);
    return ref;
  }

  private cut(): void {
    if (this.w.length === 0) return;
    const bytes = this.w.bytes();
    this.bodySum.update(bytes);
    this.bodyBytes += bytes.length;
    this.chunks.push(bytes);
    this.w = new JuteWriter(Math.min(this.chunkBytes + 64 * 1024, 2 * 1024 * 1024));
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
  const enc = new SnapshotEncoder();
  for (const n of data.nodes) enc.node(n);
  const parts = enc.finish(data.sessions);
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
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

/** ZooKeeper 3.6+ appends ZxidDigest + a second seal over everything before it. */
function verifyDigestSection(bytes: Uint8Array, r: JuteReader, name: string): void {
  r.long(); // zxid
  r.int(); // digest version
  r.long(); // digest
  const computed = new Adler32().update(bytes, 0, r.offset).value();
  if (r.long() !== BigInt(computed)) throw corrupt(name, 'checksum mismatch in the digest section');
  if (r.string() !== TERMINATOR) throw corrupt(name, 'missing "/" after the digest checksum');
}
