import { describe, expect, it } from 'vitest';
import { makeZxid, type Zxid } from '../common/ids';
import { decodeTxnEntry } from '../jute/index';
import { encodeSnapshot, recover, SnapshotPolicy, type LoggedTxn } from '../storage/index';
import { createTxn, HeldWritesDisk } from '../storage/test-support';
import { DataTree } from '../tree/data-tree';
import type { PersistOp } from '../zab/types';
import { QuorumPersistence } from './quorum-persist';

/**
 * A follower's persistence over a disk whose log writes land when the test says so (as libuv's
 * pool may run them: late, in any order), driven the way ZAB's effects drive it.
 */
const layout = { snapDir: '/data/version-2', logDir: '/data/log/version-2' };

async function follower(disk: HeldWritesDisk) {
  const rec = await recover(disk, layout, { preallocBytes: 4096, asyncWrites: true, trustEmptySnapshot: true });
  let tree = rec.snapshot ? DataTree.fromSnapshot(rec.snapshot) : new DataTree();
  for (const t of rec.txns) tree.applyTxn(decodeTxnEntry(t.bytes));
  if (rec.snapshot === null) await rec.snapshots.save(tree.exportSnapshot());
  const persisted: number[] = [];
  const failures: Error[] = [];
  const turn: (() => void)[] = [];
  const persistence = new QuorumPersistence({
    disk,
    snapDir: layout.snapDir,
    txnLog: rec.log,
    snapshots: rec.snapshots,
    policy: new SnapshotPolicy({ snapCount: 100_000, randomInt: () => 0 }),
    tree: () => tree,
    replaceTree: (t) => {
      tree = t;
    },
    persisted: (seq) => persisted.push(seq),
    failed: (e) => failures.push(e),
    truncated: () => {},
    info: () => {},
    warn: () => {},
    defer: (fn) => turn.push(fn),
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
