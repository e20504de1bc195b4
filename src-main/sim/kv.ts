/**
 * The simulator's state machine: a key-value map fed by committed txns whose opaque bytes are
 * "key=value" in UTF-8. It keeps the ordered list of applied (zxid, data) so the checkers can
 * compare histories, and serializes to bytes for SNAP.
 */
import { assert } from '../common/assert';
import { hex, type Zxid } from '../common/ids';
import { fromUtf8, utf8 } from '../jute/buffer';
import type { DiskImage } from './disk';

export interface Applied {
  readonly zxid: Zxid;
  readonly data: string;
}

export class KvState {
  readonly map = new Map<string, string>();
  history: Applied[] = [];

  get lastZxid(): Zxid {
    const last = this.history[this.history.length - 1];
    return last ? last.zxid : 0n;
  }

  apply(zxid: Zxid, bytes: Uint8Array): void {
    assert(zxid > this.lastZxid, `kv: applied ${hex(zxid)} after ${hex(this.lastZxid)} (zxids must increase)`);
    const data = fromUtf8(bytes);
    this.history.push({ zxid, data });
    const eq = data.indexOf('=');
    if (eq > 0) this.map.set(data.slice(0, eq), data.slice(eq + 1));
  }

  serialize(): Uint8Array {
    return utf8(JSON.stringify(this.history.map((a) => [a.zxid.toString(16), a.data])));
  }

  static deserialize(bytes: Uint8Array): KvState {
    const kv = new KvState();
    const rows = JSON.parse(fromUtf8(bytes)) as [string, string][];
    for (const [z, d] of rows) kv.apply(BigInt(`0x${z}`), utf8(d));
    return kv;
  }

  /** what a restarted server rebuilds: snapshot, then every logged txn after it */
  static fromImage(img: DiskImage): KvState {
    const kv = img.snapshot ? KvState.deserialize(img.snapshot.bytes) : new KvState();
    for (const t of img.log) if (t.zxid > kv.lastZxid) kv.apply(t.zxid, t.data);
    return kv;
  }
}
