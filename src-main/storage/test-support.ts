/**
 * Helpers shared by the storage tests (and the fs-disk test): real txn bytes from the jute
 * codec, a small snapshot, a Disk wrapper that dies after a chosen number of operations, and one
 * whose off-loop writes land when the test says so.
 */
import { makeZxid, type Zxid } from '../common/ids';
import { encodeTxnEntry } from '../jute/txns';
import { OpCode } from '../jute/types';
import type { Disk } from './disk';
import type { LoggedTxn } from './log-format';
import { MemoryDisk } from './memory-disk';
import type { SnapshotData } from './snapshot-model';

const OPEN_ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** A create txn for /n<counter> at `zxid`, encoded by jute like the server will. */
export function createTxn(zxid: Zxid, dataBytes = 8): LoggedTxn {
  const data = new Uint8Array(dataBytes).map((_, i) => (i * 7 + Number(zxid & 0xffn)) & 0xff);
  const bytes = encodeTxnEntry({
    header: { clientId: 0x1000000abcn, cxid: Number(zxid & 0xffffn), zxid, time: 1_764_000_000_000n + zxid, type: OpCode.create },
    txn: { type: OpCode.create, path: `/n${zxid.toString(16)}`, data, acl: OPEN_ACL, ephemeral: false, parentCVersion: Number(zxid & 0xffffn) },
  });
  return { zxid, bytes };
}

/** createTxn for counters [from, to] in `epoch`. */
export function txnRange(epoch: number, from: number, to: number): LoggedTxn[] {
  const out: LoggedTxn[] = [];
  for (let c = from; c <= to; c++) out.push(createTxn(makeZxid(epoch, c)));
  return out;
}

function stat(zxid: Zxid, ephemeralOwner = 0n) {
  return { czxid: zxid, mzxid: zxid, ctime: 1_764_000_000_000n, mtime: 1_764_000_000_500n, version: 1, cversion: 2, aversion: 0, ephemeralOwner, pzxid: zxid };
}

/** A tree like ZooKeeper's after a few creates: root, /zookeeper, /zookeeper/quota, /app, /app/e. */
export function sampleSnapshot(zxid: Zxid): SnapshotData {
  const digest = [{ perms: 1, id: { scheme: 'digest', id: 'bob:HhVf9Z5xjNfBAf5lE6H2B2n3sjU=' } }, { perms: 31, id: { scheme: 'world', id: 'anyone' } }];
  return {
    zxid,
    sessions: [
      { id: 0x1000000abcn, timeoutMs: 30_000 },
      { id: 0x2000000001n, timeoutMs: 4_000 },
    ],
    nodes: [
      { path: '/', data: new Uint8Array(0), acl: OPEN_ACL, stat: stat(0n) },
      { path: '/zookeeper', data: new Uint8Array(0), acl: OPEN_ACL, stat: stat(0n) },
      { path: '/zookeeper/quota', data: new Uint8Array(0), acl: OPEN_ACL, stat: stat(0n) },
      { path: '/app', data: new TextEncoder().encode(`state at ${zxid}`), acl: digest, stat: stat(zxid) },
      { path: '/app/e', data: null, acl: OPEN_ACL, stat: stat(zxid, 0x1000000abcn) },
    ],
  };
}

export class SimulatedDeath extends Error {
  override name = 'SimulatedDeath';
}

/**
 * Passes operations to `inner` until `opsBeforeDeath` have run, then throws SimulatedDeath
 * on every call: the process died there. What reached `inner` stays (a kill keeps the page
 * cache; for a power cut, call crash() on a MemoryDisk inner afterwards).
 */
export class DyingDisk implements Disk {
  ops = 0;
  constructor(
    private readonly inner: Disk,
    private readonly opsBeforeDeath: number,
  ) {}

  private step(): void {
    if (this.ops >= this.opsBeforeDeath) throw new SimulatedDeath(`died before operation ${this.ops + 1}`);
    this.ops += 1;
  }

  list(dir: string): string[] {
    this.step();
    return this.inner.list(dir);
  }
  read(path: string): Uint8Array | null {
    this.step();
    return this.inner.read(path);
  }
  size(path: string): number | null {
    this.step();
    return this.inner.size?.(path) ?? this.inner.read(path)?.length ?? null;
  }
  readAt(path: string, offset: number, length: number): Uint8Array | null {
    this.step();
    return this.inner.readAt?.(path, offset, length) ?? this.inner.read(path)?.slice(offset, offset + length) ?? null;
  }
  append(path: string, bytes: Uint8Array): void {
    this.step();
    this.inner.append(path, bytes);
  }
  writeAt(path: string, offset: number, bytes: Uint8Array): void {
    this.step();
    this.inner.writeAt(path, offset, bytes);
  }
  write(path: string, bytes: Uint8Array): void {
    this.step();
    this.inner.write(path, bytes);
  }
  truncate(path: string, sizeBytes: number): void {
    this.step();
    this.inner.truncate(path, sizeBytes);
  }
  rename(from: string, to: string): void {
    this.step();
    this.inner.rename(from, to);
  }
  remove(path: string): void {
    this.step();
    this.inner.remove(path);
  }
  mkdir(dir: string): void {
    this.step();
    this.inner.mkdir(dir);
  }
  async fsync(path: string): Promise<void> {
    this.step();
    await this.inner.fsync(path);
  }
  async fsyncDir(dir: string): Promise<void> {
    this.step();
    await this.inner.fsyncDir(dir);
  }
}

interface HeldWrite {
  path: string;
  offset: number;
  bytes: Uint8Array;
  durably: boolean;
  landed: () => void;
  failed: (e: unknown) => void;
}

/**
 * A MemoryDisk (with off-loop writes) whose writeAtAsync / writeAtDurably land only when the
 * test says so, in the order it picks, as libuv's thread pool may run them: `held` lists the
 * writes issued and not landed yet, release(i) lands one. Everything else goes to `inner` at once.
 */
export class HeldWritesDisk implements Disk {
  readonly held: HeldWrite[] = [];
  constructor(readonly inner: MemoryDisk = new MemoryDisk({ asyncWrites: true })) {}

  writeAtAsync(path: string, offset: number, bytes: Uint8Array): Promise<void> {
    return this.hold(path, offset, bytes, false);
  }
  writeAtDurably(path: string, offset: number, bytes: Uint8Array): Promise<void> {
    return this.hold(path, offset, bytes, true);
  }

  private hold(path: string, offset: number, bytes: Uint8Array, durably: boolean): Promise<void> {
    return new Promise((landed, failed) => this.held.push({ path, offset, bytes: bytes.slice(), durably, landed, failed }));
  }

  /** Lands the held write at `index` (0: the oldest issued); resolves once its caller has seen it land. */
  async release(index = 0): Promise<void> {
    const [w] = this.held.splice(index, 1);
    if (w === undefined) throw new Error(`no held write at ${index} (${this.held.length} held)`);
    await (w.durably ? this.inner.writeAtDurably! : this.inner.writeAtAsync!)(w.path, w.offset, w.bytes);
    w.landed();
    await settle();
  }

  /** The held write at `index` fails (EIO, a full disk): nothing of it lands. */
  async fail(index: number, error: Error): Promise<void> {
    const [w] = this.held.splice(index, 1);
    if (w === undefined) throw new Error(`no held write at ${index} (${this.held.length} held)`);
    w.failed(error);
    await settle();
  }

  /** Lands every held write, and those issued meanwhile, oldest or newest first, until none is left. */
  async releaseAll(order: 'oldest first' | 'newest first' = 'oldest first'): Promise<void> {
    await settle();
    for (let i = 0; i < 1000 && this.held.length > 0; i++) await this.release(order === 'oldest first' ? 0 : this.held.length - 1);
    if (this.held.length > 0) throw new Error('writes kept coming');
  }

  list(dir: string): string[] {
    return this.inner.list(dir);
  }
  read(path: string): Uint8Array | null {
    return this.inner.read(path);
  }
  size(path: string): number | null {
    return this.inner.size(path);
  }
  readAt(path: string, offset: number, length: number): Uint8Array | null {
    return this.inner.readAt(path, offset, length);
  }
  append(path: string, bytes: Uint8Array): void {
    this.inner.append(path, bytes);
  }
  writeAt(path: string, offset: number, bytes: Uint8Array): void {
    this.inner.writeAt(path, offset, bytes);
  }
  write(path: string, bytes: Uint8Array): void {
    this.inner.write(path, bytes);
  }
  truncate(path: string, sizeBytes: number): void {
    this.inner.truncate(path, sizeBytes);
  }
  rename(from: string, to: string): void {
    this.inner.rename(from, to);
  }
  remove(path: string): void {
    this.inner.remove(path);
  }
  mkdir(dir: string): void {
    this.inner.mkdir(dir);
  }
  fsync(path: string): Promise<void> {
    return this.inner.fsync(path);
  }
  fsyncDir(dir: string): Promise<void> {
    return this.inner.fsyncDir(dir);
  }
}

/** Lets every promise chain that can move on do so (a few rounds of microtasks). */
async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}
