import { describe, expect, it } from 'vitest';
import { makeZxid, type Zxid } from '../common/ids';
import { decodeTxnEntry, encodeTxnEntry } from '../jute/index';
import { OpCode, type Txn } from '../jute/types';
import { OPEN_ACL_UNSAFE } from '../tree/acl';
import { encodeSnapshot, recover, SnapshotPolicy, type LoggedTxn } from '../storage/index';
import { createTxn, HeldWritesDisk } from '../storage/test-support';
import { DataTree, nextVersion } from '../tree/data-tree';
import type { PersistOp } from '../zab/types';
import { QuorumPersistence } from './quorum-persist';

/**
 * A follower's persistence over a disk whose log writes land when the test says so (as libuv's
 * pool may run them: late, in any order), driven the way ZAB's effects drive it.
 */
const layout = { snapDir: '/data/version-2', logDir: '/data/log/version-2' };

async function follower(disk: HeldWritesDisk, opts: { snapCount?: number; stepNodes?: number; autopurgeSnapRetainCount?: number } = {}) {
  const rec = await recover(disk, layout, { preallocBytes: 4096, asyncWrites: true, trustEmptySnapshot: true });
  let tree = rec.snapshot ? DataTree.fromSnapshot(rec.snapshot) : new DataTree();
  for (const t of rec.txns) tree.applyTxn(decodeTxnEntry(t.bytes));
  if (rec.snapshot === null) await rec.snapshots.save(tree.exportSnapshot());
  const persisted: number[] = [];
  const failures: Error[] = [];
  const infos: string[] = [];
  const turn: (() => void)[] = [];
  const persistence = new QuorumPersistence({
    disk,
    snapDir: layout.snapDir,
    txnLog: rec.log,
    snapshots: rec.snapshots,
    // randomInt 0: a snapshot starts at exactly the (snapCount/2 + 1)th append after the last one
    policy: new SnapshotPolicy({ snapCount: opts.snapCount ?? 100_000, randomInt: () => 0 }),
    tree: () => tree,
    replaceTree: (t) => {
      tree = t;
    },
    persisted: (seq) => persisted.push(seq),
    failed: (e) => failures.push(e),
    truncated: () => {},
    info: (m) => infos.push(m),
    warn: () => {},
    defer: (fn) => turn.push(fn),
    // a snapshot slice is one step of stepNodes nodes per turn (no time budget to read)
    nowMs: () => 0,
    snapshotSliceMs: 0,
    snapshotStepNodes: opts.stepNodes ?? 256,
    ...(opts.autopurgeSnapRetainCount !== undefined ? { autopurgeSnapRetainCount: opts.autopurgeSnapRetainCount } : {}),
  });
  let seq = 0;
  const persist = (op: PersistOp): number => {
    persistence.persist(++seq, op);
    return seq;
  };
  return {
    rec,
    persisted,
    failures,
    tree: () => tree,
    persist,
    append: (t: LoggedTxn): number => persist({ kind: 'append', txn: { zxid: t.zxid, sessionId: 0n, xid: 0, data: t.bytes } }),
    /** ZAB's commit effect: the tree applies a txn this member logged */
    commit: (t: LoggedTxn) => tree.applyTxn(decodeTxnEntry(t.bytes)),
    /** the event-loop turn ends: the group commit starts */
    endTurn: () => turn.splice(0).forEach((fn) => fn()),
    stop: () => persistence.stop(),
    purge: (n: number) => persistence.purge(n),
    infos,
    snapshotInProgress: () => persistence.snapshotInProgress,
  };
}

const z = (epoch: number, counter: number): Zxid => makeZxid(epoch, counter);
const node = (zxid: Zxid) => `/n${zxid.toString(16)}`;

describe('quorum persistence: TRUNC and SNAP while log writes are in flight', () => {
  for (const order of ['oldest first', 'newest first'] as const) {
    it(`TRUNC of a tail whose write is in flight: the tree rolls back at once; the cut lands after that write, the leader's txns after the cut; a restart has exactly the leader's history (${order})`, async () => {
      const disk = new HeldWritesDisk();
      const m = await follower(disk);
      const [t1, t2, t3, t4, n1] = [createTxn(z(1, 1)), createTxn(z(1, 2)), createTxn(z(1, 3)), createTxn(z(1, 4)), createTxn(z(2, 1))];
      m.append(t1);
      m.append(t2);
      m.commit(t1);
      m.commit(t2);
      m.endTurn();
      await disk.releaseAll(order);
      expect(m.persisted).toEqual([2]);
      // 1:3 and 1:4 proposed by a leader that then died; 1:3 even applied here (the rebuild path)
      m.append(t3);
      m.append(t4);
      m.commit(t3);
      m.endTurn();
      await Promise.resolve();
      expect(disk.held).toHaveLength(1); // their write, on the pool
      // the new leader: TRUNC to 1:2, then its epoch-2 txns
      const trunc = m.persist({ kind: 'truncate', zxid: z(1, 2) });
      expect(m.tree().lastProcessedZxid).toBe(z(1, 2));
      expect(m.tree().getData(node(z(1, 3)))).toBeUndefined();
      expect(m.tree().getData(node(z(1, 2)))).toBeDefined();
      expect(m.rec.log.lastZxid).toBe(z(1, 2));
      const next = m.append(n1);
      m.endTurn();
      await Promise.resolve();
      // nothing reported for the TRUNC or after it while the tail's write is in flight, and
      // nothing else is written before it lands (the cut must come first)
      expect(m.persisted).toEqual([2]);
      expect(disk.held.map((w) => w.path)).toEqual([`${layout.logDir}/log.100000001`]);
      await disk.release(0);
      expect(disk.inner.size(`${layout.logDir}/log.100000001`)).toBeLessThan(4096); // cut
      expect(m.persisted.filter((s) => s >= trunc)).toEqual([]); // the leader's txn is not durable yet
      await disk.releaseAll(order);
      expect(m.persisted).toEqual([2, 4, trunc, next]);
      await m.stop();
      expect(m.failures).toEqual([]);
      // power cut, restart: the log holds the leader's history only
      const again = await recover(disk.inner.crash(), layout, { preallocBytes: 4096 });
      expect(again.notes.filter((n) => n.startsWith('txn log'))).toEqual([]); // nothing torn or cut
      expect(again.txns.map((t) => t.zxid)).toEqual([z(1, 1), z(1, 2), z(2, 1)]);
    });
  }

  it('SNAP while the old log\'s writes are in flight: the tree is the snapshot at once; the old file goes only after its writes land and is not made again', async () => {
    const disk = new HeldWritesDisk();
    const m = await follower(disk);
    const txns = [createTxn(z(1, 1)), createTxn(z(1, 2)), createTxn(z(1, 3))];
    for (const t of txns) m.append(t);
    m.endTurn();
    await Promise.resolve();
    expect(disk.held.length).toBeGreaterThan(0); // header + entries, and the file's zeros
    const leaderTree = new DataTree();
    for (const t of txns.slice(0, 2)) leaderTree.applyTxn(decodeTxnEntry(t.bytes));
    const snap = m.persist({ kind: 'snapshot', zxid: z(1, 2), snapshot: encodeSnapshot({ ...leaderTree.exportSnapshot(), zxid: z(1, 2) }) });
    expect(m.tree().lastProcessedZxid).toBe(z(1, 2));
    const next = m.append(createTxn(z(2, 1)));
    m.endTurn();
    await disk.releaseAll('newest first');
    expect(m.persisted).toEqual([3, snap, next]);
    await m.stop();
    expect(disk.inner.list(layout.logDir)).toEqual(['log.200000001']);
    const again = await recover(disk.inner.crash(), layout, { preallocBytes: 4096 });
    expect(again.snapshot?.zxid).toBe(z(1, 2));
    expect(again.txns.map((t) => t.zxid)).toEqual([z(2, 1)]);
  });

  it('a failed log write stops persisting: failed() once, nothing more reported; a TRUNC after it fails quietly too', async () => {
    const disk = new HeldWritesDisk();
    const m = await follower(disk);
    m.append(createTxn(z(1, 1)));
    m.endTurn();
    await Promise.resolve();
    await disk.fail(disk.held.findIndex((w) => w.durably), new Error('EIO'));
    await disk.releaseAll();
    expect(m.failures.map((e) => e.message)).toEqual(['EIO']);
    expect(() => m.persist({ kind: 'truncate', zxid: 0n })).not.toThrow();
    m.append(createTxn(z(2, 1)));
    m.endTurn();
    await disk.releaseAll();
    expect(m.persisted).toEqual([]);
    expect(m.failures).toHaveLength(1);
  });
});

/**
 * Txns as a leader preps them (valid against its own tree): creates under / and one level down,
 * setData of any node, delete of a leaf; seeded.
 */
function workload(epoch: number, seed: number) {
  const leader = new DataTree();
  let counter = 0;
  let r = seed;
  const rand = (n: number): number => {
    r = (r * 1103515245 + 12345) % 2 ** 31;
    return Math.floor(r / 65536) % n;
  };
  const paths: string[] = [];
  const entry = (txn: Txn): LoggedTxn => {
    const zxid = makeZxid(epoch, ++counter);
    const bytes = encodeTxnEntry({ header: { clientId: 0x1000000abcn, cxid: counter, zxid, time: 1_764_000_000_000n + BigInt(counter), type: txn.type }, txn });
    leader.applyTxn(decodeTxnEntry(bytes));
    return { zxid, bytes };
  };
  const data = (size = 0) => {
    const v = new TextEncoder().encode(`v${epoch}.${counter}`);
    return size <= v.length ? v : new Uint8Array(size).map((_, i) => v[i % v.length]!);
  };
  const create = (parent: string, name: string, size = 0): LoggedTxn => {
    const path = `${parent === '/' ? '' : parent}/${name}`;
    paths.push(path);
    return entry({ type: OpCode.create, path, data: data(size), acl: [...OPEN_ACL_UNSAFE], ephemeral: false, parentCVersion: leader.record(parent)!.stat.cversion + 1 });
  };
  return {
    leader,
    /** creates only (to grow a tree) */
    grow: (size = 0): LoggedTxn => create('/', `n${epoch}-${counter}`, size),
    next: (): LoggedTxn => {
      const kind = rand(4);
      if (paths.length < 4) return create('/', `c${epoch}-${counter}`);
      const at = paths[rand(paths.length)]!;
      if (kind === 0) return create(rand(2) === 0 || at.split('/').length > 2 ? '/' : at, `c${epoch}-${counter}`);
      if (kind === 1 && leader.allChildrenNumber(at) === 0) {
        paths.splice(paths.indexOf(at), 1);
        return entry({ type: OpCode.delete, path: at });
      }
      return entry({ type: OpCode.setData, path: at, data: data(), version: nextVersion(leader.record(at)!.stat.version) });
    },
  };
}

/** A disk whose fsyncs of sliced snapshots' temp files (tmp.snapshot.<zxid>.<n>) wait until the test releases them (the rest as HeldWritesDisk). */
class HeldSnapshotFsyncDisk extends HeldWritesDisk {
  readonly fsyncs: { path: string; release: () => void }[] = [];
  override fsync(path: string): Promise<void> {
    if (!/\/tmp\.snapshot\.[0-9a-f]+\.\d+$/.test(path)) return super.fsync(path);
    return new Promise((resolve, reject) => this.fsyncs.push({ path, release: () => void super.fsync(path).then(resolve, reject) }));
  }
}

type Member = Awaited<ReturnType<typeof follower>>;

/** `n` turns of one txn each, committed in its own turn, its write landed before the next turn */
async function committedTurns(m: Member, disk: HeldWritesDisk, next: () => LoggedTxn, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t = next();
    m.append(t);
    m.commit(t);
    m.endTurn();
    await disk.releaseAll();
  }
}

/** `n` turns of one new txn each (pushed to `logged`) that commit the one before, as a follower's COMMIT trails its PROPOSAL */
async function trailingTurns(m: Member, disk: HeldWritesDisk, next: () => LoggedTxn, logged: LoggedTxn[], n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    logged.push(next());
    m.append(logged[logged.length - 1]!);
    if (logged.length > 1) m.commit(logged[logged.length - 2]!);
    m.endTurn();
    await disk.releaseAll();
  }
}

const snapshotFiles = (disk: HeldWritesDisk) => disk.inner.list(layout.snapDir).filter((n) => n.includes('snapshot')).sort();

async function recoveredTree(disk: HeldWritesDisk) {
  const again = await recover(disk.inner.crash(), layout, { preallocBytes: 4096 });
  const t = again.snapshot ? DataTree.fromSnapshot(again.snapshot) : new DataTree();
  for (const l of again.txns) t.applyTxn(decodeTxnEntry(l.bytes));
  return { again, tree: t };
}

describe('quorum persistence: snapCount snapshots in slices while ZAB goes on', () => {
  /**
   * A follower with a tree of 300 znodes and snapCount 600: the 301st append starts a snapshot.
   * Commits trail appends by one (the snapshot's zxid is the last applied txn, not the last
   * logged one). Each turn: a txn appended, the one before it committed, one snapshot step.
   */
  async function inProgress(disk: HeldWritesDisk, seed: number, valueBytes = 0) {
    const m = await follower(disk, { snapCount: 600, stepNodes: 10 });
    const w = workload(1, seed);
    const logged: LoggedTxn[] = [];
    for (let i = 0; i < 300; i++) {
      logged.push(w.grow(valueBytes));
      m.append(logged[logged.length - 1]!);
      m.commit(logged[logged.length - 1]!);
    }
    m.endTurn();
    await disk.releaseAll();
    expect(m.snapshotInProgress()).toBeNull();
    const turn = async (): Promise<void> => {
      const t = w.next();
      logged.push(t);
      m.append(t);
      m.commit(logged[logged.length - 2]!);
      m.endTurn();
      await disk.releaseAll();
    };
    // the 301st append: the last applied txn is the 300th
    const z300 = logged[299]!.zxid;
    const t301 = w.next();
    logged.push(t301);
    m.append(t301);
    expect(m.snapshotInProgress()).toBe(z300);
    m.commit(t301);
    m.endTurn(); // the first slice and the group commit
    await disk.releaseAll();
    return { m, w, logged, turn, z: z300 };
  }

  it('a snapshot spans many turns while txns are appended and applied; it is named by the last applied zxid at its start, and a restart from it (plus the log after it) recovers exactly the tree', async () => {
    const disk = new HeldWritesDisk();
    const { m, logged, turn, z } = await inProgress(disk, 7);
    let turns = 1;
    for (; turns < 500 && m.snapshotInProgress() !== null; turns++) await turn();
    expect(m.snapshotInProgress()).toBeNull();
    expect(turns).toBeGreaterThan(25); // ~300 nodes, 10 a turn: txns changed the tree under the walk
    m.commit(logged[logged.length - 1]!);
    expect(snapshotFiles(disk)).toEqual(['snapshot.0', `snapshot.${z.toString(16)}`]);
    await m.stop();
    expect(m.failures).toEqual([]);
    const { again, tree } = await recoveredTree(disk);
    expect(again.snapshot?.zxid).toBe(z);
    expect(again.txns[0]?.zxid).toBe(z + 1n); // replay starts right after the snapshot's zxid
    expect(tree.digest()).toBe(m.tree().digest());
    expect(tree.exportSnapshot()).toEqual(m.tree().exportSnapshot());
    // fuzzy for real: the snapshot alone is not the tree at its zxid (later txns show in it)
    const atZ = new DataTree();
    for (const t of logged) if (t.zxid <= z) atZ.applyTxn(decodeTxnEntry(t.bytes));
    expect(DataTree.fromSnapshot(again.snapshot!).digest()).not.toBe(atZ.digest());
  });

  it('TRUNC mid-walk: the snapshot is given up (no temp file, no snapshot file after the cut) and a restart has exactly the leader\'s history', async () => {
    const disk = new HeldWritesDisk();
    const { m, w, logged, turn } = await inProgress(disk, 11);
    for (let i = 0; i < 5; i++) await turn();
    expect(m.snapshotInProgress()).not.toBeNull();
    // two proposals of a leader that then died: logged, not committed
    const lost = [w.next(), w.next()];
    for (const t of lost) m.append(t);
    m.commit(logged[logged.length - 1]!);
    m.endTurn();
    await disk.releaseAll();
    const cutAt = logged[logged.length - 1]!.zxid;
    m.persist({ kind: 'truncate', zxid: cutAt });
    expect(m.snapshotInProgress()).toBeNull();
    expect(snapshotFiles(disk)).toEqual(['snapshot.0']);
    // the new leader's history goes on from the cut (its own txns, in epoch 2)
    const w2 = workload(2, 3);
    for (const t of logged) w2.leader.applyTxn(decodeTxnEntry(t.bytes));
    await committedTurns(m, disk, () => w2.next(), 20);
    await m.stop();
    expect(m.failures).toEqual([]);
    const { tree } = await recoveredTree(disk);
    expect(tree.digest()).toBe(w2.leader.digest());
    expect(m.tree().digest()).toBe(w2.leader.digest());
    expect(snapshotFiles(disk)).toEqual(['snapshot.0']);
  });

  it('TRUNC while the finished walk\'s temp file is being fsynced: it is never renamed, done() ends quietly, and the cut still runs', async () => {
    const disk = new HeldSnapshotFsyncDisk();
    const { m, logged, turn } = await inProgress(disk, 5);
    for (let i = 0; i < 200 && disk.fsyncs.length === 0; i++) await turn();
    expect(disk.fsyncs).toHaveLength(1); // the walk ended: done() waits for the fsync
    m.commit(logged[logged.length - 1]!);
    const trunc = m.persist({ kind: 'truncate', zxid: logged[logged.length - 1]!.zxid });
    m.endTurn();
    await disk.releaseAll();
    expect(m.persisted).not.toContain(trunc); // the cut's durability waits for the abandoned fsync
    disk.fsyncs[0]!.release();
    await disk.releaseAll();
    expect(m.persisted).toContain(trunc);
    await m.stop();
    expect(m.failures).toEqual([]);
    expect(snapshotFiles(disk)).toEqual(['snapshot.0']); // no temp file, nothing renamed
    const { tree } = await recoveredTree(disk);
    expect(tree.digest()).toBe(m.tree().digest());
  });

  it('SNAP mid-walk: the walk over the old tree is given up; the leader\'s snapshot is the newest; a restart has the leader\'s tree and the txns after it', async () => {
    const disk = new HeldWritesDisk();
    const { m, logged, turn } = await inProgress(disk, 13);
    for (let i = 0; i < 5; i++) await turn();
    expect(m.snapshotInProgress()).not.toBeNull();
    // the leader's tree: a history of its own, further on
    const w2 = workload(2, 9);
    for (let i = 0; i < 50; i++) w2.next();
    const s = w2.leader.lastProcessedZxid;
    const snapBytes = encodeSnapshot({ ...w2.leader.exportSnapshot(), zxid: s });
    m.persist({ kind: 'snapshot', zxid: s, snapshot: snapBytes });
    expect(m.snapshotInProgress()).toBeNull();
    expect(m.tree().digest()).toBe(w2.leader.digest());
    await committedTurns(m, disk, () => w2.next(), 10);
    await m.stop();
    expect(m.failures).toEqual([]);
    expect(snapshotFiles(disk)).toEqual(['snapshot.0', `snapshot.${s.toString(16)}`]);
    expect(disk.inner.read(`${layout.snapDir}/snapshot.${s.toString(16)}`)).toEqual(snapBytes); // the leader's bytes, as they came
    const { again, tree } = await recoveredTree(disk);
    expect(again.snapshot?.zxid).toBe(s);
    expect(tree.digest()).toBe(w2.leader.digest());
    expect(logged.length).toBeGreaterThan(300);
  });

  it('stop mid-walk: the temp file is removed; a restart recovers the exact tree from the snapshot before and the log', async () => {
    const disk = new HeldWritesDisk();
    const { m, logged, turn } = await inProgress(disk, 17, 8192);
    for (let i = 0; i < 20; i++) await turn();
    // 8 KiB values: the parts encoded so far (~1 MiB each) are in the temp file already
    expect(disk.inner.list(layout.snapDir).some((n) => n.startsWith('tmp.snapshot.'))).toBe(true);
    m.commit(logged[logged.length - 1]!);
    await m.stop();
    expect(snapshotFiles(disk)).toEqual(['snapshot.0']);
    const { again, tree } = await recoveredTree(disk);
    expect(again.snapshot?.zxid).toBe(0n);
    expect(tree.digest()).toBe(m.tree().digest());
  });
});

describe('quorum persistence: autopurge through the serialized ops', () => {
  const logFiles = (disk: HeldWritesDisk) =>
    disk.inner
      .list(layout.logDir)
      .filter((n) => n.startsWith('log.'))
      .map((n) => BigInt(`0x${n.slice(4)}`))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const snapZxids = (disk: HeldWritesDisk) =>
    snapshotFiles(disk)
      .filter((n) => n.startsWith('snapshot.'))
      .map((n) => BigInt(`0x${n.slice(9)}`))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  it('after many snapshots and log rolls: exactly the newest 3 snapshots and the logs from the one holding the oldest kept snapshot\'s next txn; a restart recovers the same tree', async () => {
    const disk = new HeldWritesDisk();
    // snapCount 20, randomInt 0: a snapshot (and a log roll) every 11 appends
    const m = await follower(disk, { snapCount: 20, stepNodes: 1000, autopurgeSnapRetainCount: 3 });
    const w = workload(1, 5);
    const logged: LoggedTxn[] = [];
    await trailingTurns(m, disk, () => w.next(), logged, 120);
    // the last snapshot's slices, its save and the purge op after it
    for (let i = 0; i < 20 && (m.snapshotInProgress() !== null || m.infos.filter((x) => x.startsWith('autopurge')).length < 10); i++) {
      m.endTurn();
      await disk.releaseAll();
    }
    m.commit(logged[logged.length - 1]!);
    expect(m.failures).toEqual([]);
    const purges = m.infos.filter((x) => x.startsWith('autopurge: removed'));
    expect(purges.length).toBeGreaterThan(3);
    const snaps = snapZxids(disk);
    expect(snaps.length).toBe(3);
    // the newest three of the many taken
    const taken = m.infos.flatMap((x) => /^snapshot snapshot\.([0-9a-f]+) saved/.exec(x)?.[1] ?? []).map((h) => BigInt(`0x${h}`));
    expect(taken.length).toBeGreaterThan(8);
    expect(snaps).toEqual(taken.slice(-3));
    const oldestKept = snaps[0]!;
    const logs = logFiles(disk);
    expect(logs.length).toBeGreaterThan(1);
    // the first log file left holds the txn right after the oldest kept snapshot; the one
    // before it (all txns at or before that snapshot) is gone
    expect(logs[0]! <= oldestKept + 1n).toBe(true);
    expect(logs[1]! > oldestKept + 1n).toBe(true);
    expect(logged.some((t) => t.zxid < logs[0]!)).toBe(true);
    // a purge asked for by the timer runs as an op too: it removes nothing more now
    m.purge(3);
    m.endTurn();
    await disk.releaseAll();
    for (let i = 0; i < 5 && !m.infos.some((x) => x.startsWith('autopurge: nothing')); i++) {
      m.endTurn();
      await disk.releaseAll();
    }
    expect(m.infos.some((x) => x.startsWith('autopurge: nothing'))).toBe(true);
    expect(snapZxids(disk)).toEqual(snaps);
    await m.stop();
    expect(m.failures).toEqual([]);
    const { again, tree } = await recoveredTree(disk);
    expect(again.snapshot?.zxid).toBe(snaps[2]);
    expect(tree.digest()).toBe(m.tree().digest());
    expect(tree.digest()).toBe(w.leader.digest());
    // and from the oldest kept snapshot alone (the newer two gone), the logs left still replay to the same tree
    const crashed = disk.inner.crash();
    for (const z of snaps.slice(1)) crashed.remove(`${layout.snapDir}/snapshot.${z.toString(16)}`);
    const older = await recover(crashed, layout, { preallocBytes: 4096 });
    expect(older.snapshot?.zxid).toBe(oldestKept);
    const t2 = DataTree.fromSnapshot(older.snapshot!);
    for (const l of older.txns) t2.applyTxn(decodeTxnEntry(l.bytes));
    expect(t2.digest()).toBe(w.leader.digest());
  });

  it('a purge queued behind appends whose writes are in flight waits for them: nothing is removed before they land', async () => {
    const disk = new HeldWritesDisk();
    const m = await follower(disk, { snapCount: 20, stepNodes: 1000 });
    const w = workload(1, 9);
    const logged: LoggedTxn[] = [];
    await trailingTurns(m, disk, () => w.next(), logged, 70);
    for (let i = 0; i < 10 && m.snapshotInProgress() !== null; i++) {
      m.endTurn();
      await disk.releaseAll();
    }
    const snapsBefore = snapZxids(disk);
    const logsBefore = logFiles(disk);
    expect(snapsBefore.length).toBeGreaterThan(3);
    // more appends, their writes held; the purge after them
    const more = [w.next(), w.next()];
    for (const t of more) m.append(t);
    m.purge(3);
    m.endTurn();
    await Promise.resolve();
    expect(snapZxids(disk)).toEqual(snapsBefore);
    expect(logFiles(disk)).toEqual(logsBefore);
    for (let i = 0; i < 5 && snapZxids(disk).length > 3; i++) {
      await disk.releaseAll();
      m.endTurn();
    }
    await disk.releaseAll();
    expect(snapZxids(disk)).toEqual(snapsBefore.slice(-3));
    expect(logFiles(disk).length).toBeLessThan(logsBefore.length);
    expect(m.failures).toEqual([]);
    for (const t of more) m.commit(t);
    await m.stop();
    const { tree } = await recoveredTree(disk);
    expect(tree.digest()).toBe(w.leader.digest());
  });
});
