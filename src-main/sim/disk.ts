/**
 * A fake disk for one simulated server: what the process sees (`view`, the page cache) and what
 * survives a crash (`durable`). Writes land in the view at once and become durable when an fsync
 * that covers them completes. A crash keeps the durable image plus a seeded random prefix of the
 * writes not yet fsynced: a torn tail is the last of them cut short, which recovery discards, so
 * it is modelled as the shorter prefix.
 */
import { assert } from '../common/assert';
import { hex, type Zxid } from '../common/ids';
import type { PersistOp, TxnRecord } from '../zab/types';
import type { Prng } from './prng';

export interface DiskImage {
  acceptedEpoch: number;
  currentEpoch: number;
  snapshot: { zxid: Zxid; bytes: Uint8Array } | null;
  /** txns logged after the snapshot, ascending */
  log: TxnRecord[];
}

export function emptyImage(): DiskImage {
  return { acceptedEpoch: 0, currentEpoch: 0, snapshot: null, log: [] };
}

function cloneImage(img: DiskImage): DiskImage {
  return { acceptedEpoch: img.acceptedEpoch, currentEpoch: img.currentEpoch, snapshot: img.snapshot, log: [...img.log] };
}

export function lastLogged(img: DiskImage): Zxid {
  const last = img.log[img.log.length - 1];
  return last ? last.zxid : (img.snapshot?.zxid ?? 0n);
}

export function applyOp(img: DiskImage, op: PersistOp): void {
  switch (op.kind) {
    case 'append':
      assert(op.txn.zxid > lastLogged(img), `disk: append ${hex(op.txn.zxid)} after ${hex(lastLogged(img))}`);
      img.log.push(op.txn);
      return;
    case 'truncate':
      assert(img.snapshot === null || img.snapshot.zxid <= op.zxid, `disk: truncate to ${hex(op.zxid)} below the snapshot`);
      while (img.log.length > 0 && (img.log[img.log.length - 1] as TxnRecord).zxid > op.zxid) img.log.pop();
      return;
    case 'snapshot':
      img.snapshot = { zxid: op.zxid, bytes: op.snapshot };
      img.log = [];
      return;
    case 'acceptedEpoch':
      img.acceptedEpoch = op.epoch;
      return;
    case 'currentEpoch':
      img.currentEpoch = op.epoch;
      return;
  }
}

/** Does this image hold the txn durably (in its log, or under its snapshot)? */
export function imageHolds(img: DiskImage, zxid: Zxid): boolean {
  if (img.snapshot !== null && img.snapshot.zxid >= zxid) return true;
  let lo = 0;
  let hi = img.log.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const z = (img.log[mid] as TxnRecord).zxid;
    if (z === zxid) return true;
    if (z < zxid) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

export class SimDisk {
  durable: DiskImage = emptyImage();
  view: DiskImage = emptyImage();
  private pending: { seq: number; op: PersistOp }[] = [];
  /** seq an fsync in flight will cover, or null */
  fsyncUpTo: number | null = null;
  tornTails = 0;

  write(seq: number, op: PersistOp): void {
    applyOp(this.view, op);
    this.pending.push({ seq, op });
  }

  get lastPendingSeq(): number | null {
    const last = this.pending[this.pending.length - 1];
    return last ? last.seq : null;
  }

  /** fsync done: everything written up to seq is durable */
  completeFsync(upTo: number): void {
    while (this.pending.length > 0 && (this.pending[0] as { seq: number }).seq <= upTo) {
      applyOp(this.durable, (this.pending.shift() as { op: PersistOp }).op);
    }
    this.fsyncUpTo = null;
  }

  /** power cut: keep a random prefix of the writes not yet fsynced */
  crash(prng: Prng): void {
    const keep = this.pending.length === 0 ? 0 : prng.int(this.pending.length + 1);
    if (keep < this.pending.length) this.tornTails++;
    for (let i = 0; i < keep; i++) applyOp(this.durable, (this.pending[i] as { op: PersistOp }).op);
    this.pending = [];
    this.fsyncUpTo = null;
    this.view = cloneImage(this.durable);
  }
}
