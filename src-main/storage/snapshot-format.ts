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
  return JSON.stringify(acl.map((a) => [a.perms, a.id.scheme, a.id.id]));
}

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/')) || '/';
}

/** The snapshot file bytes for `data` (without the optional digest section). */
export function encodeSnapshot(data: SnapshotData): Uint8Array {
  // ZooKeeper (and decodeSnapshot) reject a node listed before its parent: catch it here
  const seen = new Set<string>();
  for (const n of data.nodes) {
    assert(n.path === '/' ? seen.size === 0 : seen.has(parentOf(n.path)), `snapshot: node ${n.path} is not in pre-order (root first, parents before children)`);
    seen.add(n.path);
  }
  const w = new JuteWriter(64 * 1024);
  w.raw(encodeFileHeader(SNAP_MAGIC, SNAPSHOT_DBID));
  w.int(data.sessions.length);
  for (const s of data.sessions) w.long(s.id).int(s.timeoutMs);

  // ACL cache: one ref per distinct ACL list, numbered from 1 in first-use order
  const refs = new Map<string, bigint>();
  const lists: ACL[][] = [];
  const nodeRefs: bigint[] = [];
  for (const n of data.nodes) {
    const key = aclKey(n.acl);
    let ref = refs.get(key);
    if (ref === undefined) {
      ref = BigInt(lists.length + 1);
      refs.set(key, ref);
      lists.push(n.acl);
    }
    nodeRefs.push(ref);
  }
  w.int(lists.length);
  lists.forEach((acl, i) => {
    w.long(BigInt(i + 1));
    w.vector(acl, writeAcl);
  });

  data.nodes.forEach((n, i) => {
    w.ustring(n.path === '/' ? '' : n.path);
    w.buffer(n.data);
    w.long(nodeRefs[i]!);
    writeStat(w, n.stat);
  });
  w.ustring(TERMINATOR);
  const body = w.bytes();
  const seal = new JuteWriter(16).long(BigInt(new Adler32().update(body).value())).ustring(TERMINATOR).bytes();
  const out = new Uint8Array(body.length + seal.length);
  out.set(body);
  out.set(seal, body.length);
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
