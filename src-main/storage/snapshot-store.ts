/**
 * Snapshots over a Disk: `snapshot.<hex zxid>` files in ZooKeeper's format. Pure.
 *
 * save(): encode, write `tmp.snapshot.<hex>`, fsync it, rename it to `snapshot.<hex>`, fsync
 * the directory. A crash at any point leaves either no new snapshot (only a temp file, which
 * the next load removes) or a complete one; a snapshot under the final name is never partial.
 * begin(): the same, in bounded steps the caller spreads over event-loop turns, for a fuzzy
 * snapshot of a tree that goes on changing meanwhile, written out as it is encoded (see
 * SnapshotSave).
 * loadNewest(): the newest snapshot whose checksum and structure are valid, falling back to
 * older ones (up to 100, like ZooKeeper), with one note per snapshot skipped.
 */
import { ZooLabError, isZooLabError } from '../common/errors';
import type { Zxid } from '../common/ids';
import { joinPath, type Disk } from './disk';
import { filesByZxid, snapshotFileName, SNAPSHOT_PREFIX, SNAPSHOT_TEMP_PREFIX } from './file-names';
import { assert } from '../common/assert';
import { decodeSnapshot, encodeSnapshot, snapshotSealProblem, SnapshotEncoder } from './snapshot-format';
import type { ACL } from '../jute/types';
import type { SnapshotData, SnapshotNode, SnapshotSession } from './snapshot-model';

export interface SnapshotFileInfo {
  name: string;
  zxid: Zxid;
}

export interface LoadedSnapshot {
  name: string;
  data: SnapshotData;
}

/** ZooKeeper gives up after trying this many snapshots. */
export const SNAPSHOT_LOAD_TRIES_MAX = 100;

export class SnapshotStore {
  /** saves in progress by zxid: a second save of the same zxid joins the first (same temp name) */
  private readonly saving = new Map<Zxid, Promise<string>>();
  /** streamed saves started: each gets its own temp file name */
  private streamed = 0;

  constructor(
    private readonly disk: Disk,
    readonly dir: string,
  ) {}

  /** Snapshot files (final names only), newest first. */
  list(): SnapshotFileInfo[] {
    return filesByZxid(this.disk.list(this.dir), SNAPSHOT_PREFIX).reverse();
  }

  /**
   * Writes `data` as snapshot.<hex data.zxid> crash-safely; resolves with the name once
   * durable. A save of a zxid already being saved joins that save (a tree exports the same
   * state at the same zxid).
   */
  save(data: SnapshotData): Promise<string> {
    return this.saveOnce(data.zxid, () => encodeSnapshot(data));
  }

  /**
   * save() of a snapshot already encoded and checked (a leader's SNAP, read with decodeSnapshot):
   * its bytes as they are, without encoding the tree again on the event loop (~2 s for 200k znodes).
   */
  saveEncoded(zxid: Zxid, bytes: Uint8Array): Promise<string> {
    return this.saveOnce(zxid, () => bytes);
  }

  private saveOnce(zxid: Zxid, encode: () => Uint8Array): Promise<string> {
    const running = this.saving.get(zxid);
    if (running !== undefined) return running;
    const p = this.write(zxid, encode).finally(() => this.saving.delete(zxid));
    this.saving.set(zxid, p);
    return p;
  }

  /**
   * Starts a snapshot named after `zxid`, written in steps (SnapshotSave.step) from `nodes`, a
   * pre-order walk that may run while the tree keeps changing (DataTree.fuzzySnapshotNodes):
   * `zxid` must be the tree's last applied zxid when the walk starts, so that replaying the
   * log after it repairs whatever the walk saw half-changed. `acls`: every ACL list a node had
   * at that zxid (the file's ACL cache comes before the nodes; see SnapshotEncoder).
   */
  begin(zxid: Zxid, sessions: readonly SnapshotSession[], acls: readonly (readonly ACL[])[], nodes: Iterator<SnapshotNode>): SnapshotSave {
    this.disk.mkdir(this.dir);
    this.streamed += 1;
    // its own temp name: never the same file as a save() of the same zxid running meanwhile
    const temp = joinPath(this.dir, `${SNAPSHOT_TEMP_PREFIX}${BigInt.asUintN(64, zxid).toString(16)}.${this.streamed}`);
    return new SnapshotSave(this.disk, this.dir, temp, zxid, new SnapshotEncoder(sessions, acls), nodes);
  }

  private async write(zxid: Zxid, encode: () => Uint8Array): Promise<string> {
    this.disk.mkdir(this.dir);
    const name = snapshotFileName(zxid);
    const temp = joinPath(this.dir, `${SNAPSHOT_TEMP_PREFIX}${BigInt.asUintN(64, zxid).toString(16)}`);
    this.disk.write(temp, encode());
    await this.disk.fsync(temp);
    this.disk.rename(temp, joinPath(this.dir, name));
    await this.disk.fsyncDir(this.dir);
    return name;
  }

  /** Reads and verifies one snapshot. Throws STORAGE_CORRUPT. */
  load(info: SnapshotFileInfo): SnapshotData {
    const bytes = this.disk.read(joinPath(this.dir, info.name));
    if (bytes === null) throw new ZooLabError('STORAGE_CORRUPT', `snapshot ${info.name} disappeared from ${this.dir}`);
    return decodeSnapshot(bytes, info.zxid, info.name);
  }

  /**
   * Is this snapshot whole: header, and its final seal's checksum right? Checked without
   * building the tree (see snapshotSealProblem): autopurge asks this of every snapshot it keeps.
   * Loading still decodes and verifies everything, and falls back past a bad one.
   */
  isValid(info: SnapshotFileInfo): boolean {
    const bytes = this.disk.read(joinPath(this.dir, info.name));
    return bytes !== null && snapshotSealProblem(bytes) === null;
  }

  /**
   * The newest valid snapshot, or null when there is no snapshot file at all. Skipped
   * (corrupt) snapshots are reported through `note`; if every snapshot is corrupt this throws
   * STORAGE_CORRUPT rather than silently starting from an empty tree.
   */
  loadNewest(note: (message: string) => void = () => {}): LoadedSnapshot | null {
    const all = this.list();
    if (all.length === 0) return null;
    const tried = all.slice(0, SNAPSHOT_LOAD_TRIES_MAX);
    for (const info of tried) {
      try {
        return { name: info.name, data: this.load(info) };
      } catch (e) {
        if (!isZooLabError(e, 'STORAGE_CORRUPT')) throw e;
        note(`${e.message}; falling back to an older snapshot`);
      }
    }
    throw new ZooLabError(
      'STORAGE_CORRUPT',
      `none of the ${tried.length} newest snapshots in ${this.dir} is valid (newest ${tried[0]!.name}). ` +
        `Restore the data directory from a backup, or delete it and let the server resync from the ensemble.`,
    );
  }

  /** Removes leftover temp files of saves that crashed; returns their names. */
  removeTemps(): string[] {
    const temps = this.disk.list(this.dir).filter((n) => n.startsWith(SNAPSHOT_TEMP_PREFIX));
    for (const n of temps) this.disk.remove(joinPath(this.dir, n));
    return temps;
  }

  /**
   * Removes snapshots newer than `zxid` (after a ZAB TRUNC they describe txns that no longer
   * exist); resolves with their names once the removal is durable.
   */
  async removeAfter(zxid: Zxid): Promise<string[]> {
    const gone = this.list().filter((s) => s.zxid > zxid);
    for (const s of gone) this.disk.remove(joinPath(this.dir, s.name));
    if (gone.length > 0) await this.disk.fsyncDir(this.dir);
    return gone.map((s) => s.name);
  }

  remove(info: SnapshotFileInfo): void {
    this.disk.remove(joinPath(this.dir, info.name));
  }
}

/**
 * One snapshot being written in bounded steps, so the event loop can serve requests between
 * them (ZooKeeper snapshots on its own thread, "without stopping traffic"). Each step() encodes
 * up to `nodesMax` nodes and writes a part to the temp file whenever about SNAPSHOT_CHUNK_BYTES
 * are encoded, so the snapshot is never held in memory as a whole (a 290k-znode tree is ~60 MiB
 * of snapshot); the step that ends the walk writes the rest and the seal. After step() returns
 * false, done() makes it durable and gives it its final name, as save() does. Nothing is under
 * the final name before that, so a crash at any point leaves no partial snapshot (only a temp
 * file recovery removes).
 */
export class SnapshotSave {
  private started = false;
  private walked = false;
  private finished = false;
  /** done() has begun (the temp file is being made durable) */
  private closing = false;
  private abandoned = false;

  constructor(
    private readonly disk: Disk,
    private readonly dir: string,
    private readonly temp: string,
    readonly zxid: Zxid,
    private readonly encoder: SnapshotEncoder,
    private readonly nodes: Iterator<SnapshotNode>,
  ) {}

  /** Nodes encoded so far. */
  get nodeCount(): number {
    return this.encoder.nodeCount;
  }

  /** Nodes written with a placeholder ACL (theirs was set after the snapshot's zxid). */
  get aclsNotInTable(): number {
    return this.encoder.aclsNotInTable;
  }

  /** One bounded piece of work; true while more remains. */
  step(nodesMax: number): boolean {
    assert(!this.finished && !this.walked, 'snapshot save: step after the last one');
    for (let i = 0; i < nodesMax; i++) {
      const next = this.nodes.next();
      if (next.done === true) {
        this.write(this.encoder.finish());
        this.walked = true;
        return false;
      }
      this.encoder.node(next.value);
    }
    const part = this.encoder.takeFull();
    if (part !== null) this.write(part);
    return true;
  }

  /**
   * After the last step: fsync the temp file, rename it, fsync the directory; the name. Null
   * when abandon() came while the temp file was being fsynced: it is removed, never renamed.
   */
  async done(): Promise<string | null> {
    assert(this.walked && !this.finished, 'snapshot save: done before the last step');
    this.finished = true;
    this.closing = true;
    try {
      await this.disk.fsync(this.temp);
    } catch (e) {
      if (!this.abandoned) throw e;
    }
    if (this.abandoned) {
      this.disk.remove(this.temp);
      return null;
    }
    const name = snapshotFileName(this.zxid);
    this.disk.rename(this.temp, joinPath(this.dir, name));
    await this.disk.fsyncDir(this.dir);
    return name;
  }

  /**
   * Gives up (the server is stopping, or a TRUNC / SNAP made the snapshot describe a history
   * that is gone): removes the temp file if one was started. During done()'s fsync the temp
   * file goes when it ends, and done() resolves null; once done() has renamed it (it is then
   * under its final name, and the caller removes it like any other snapshot) this changes nothing.
   */
  abandon(): void {
    if (this.abandoned) return;
    this.abandoned = true;
    if (this.closing) return;
    this.finished = true;
    if (this.started) this.disk.remove(this.temp);
  }

  private write(part: Uint8Array): void {
    const first = !this.started;
    this.started = true; // a failed first write may still have created the file
    if (first) this.disk.write(this.temp, part);
    else this.disk.append(this.temp, part);
  }
}
