/**
 * The txn log over a Disk: a directory of `log.<hex first zxid>` files in ZooKeeper's format
 * (see log-format.ts). Pure.
 *
 * - open() scans every file, cuts a torn tail at the last good entry (and says so through
 *   `note`), removes files left without a single entry, and refuses corruption in the middle.
 * - append()/appendBatch() collect entries in memory; sync() writes them (one write per file,
 *   off the event loop when the Disk offers writeAtAsync) and makes everything appended before it
 *   durable with one fsync per touched file (+ the directory when a file was created): group
 *   commit. A failed fsync breaks the log for good (no retry can tell what reached the disk).
 * - A new file is started by the first append after open(), roll() or truncateAfter(), like
 *   ZooKeeper (which rolls the log when it starts a snapshot).
 * - Preallocation, as ZooKeeper: a file is filled with zeros in `preallocBytes` blocks ahead of
 *   its entries, which are written in place (Disk.writeAt) at a tracked position. fdatasync then
 *   has only data to flush, no new size (measured ~40% faster per group commit; see README). A zero tail
 *   (checksum and length read as 0) is the clean end of a file, for ZooLab and ZooKeeper alike.
 *   The zeros are real writes, not a sparse hole: a hole would still need block allocation
 *   (metadata) at each fdatasync. A torn non-zero tail is cut at open() together with the
 *   zeros after it: that file is never appended to again (the next append starts a new file).
 */
import { assert } from '../common/assert';
import { ZooLabError } from '../common/errors';
import { hex, zxidCounter, zxidEpoch, type Zxid } from '../common/ids';
import { joinPath, type Disk } from './disk';
import { filesByZxid, logFileName, LOG_PREFIX } from './file-names';
import {
  encodeFileHeader,
  encodeLogEntries,
  scanLogFile,
  TXNLOG_DBID,
  TXNLOG_MAGIC,
  txnZxid,
  type LoggedTxn,
  type ScannedEntry,
} from './log-format';

export interface LogFileInfo {
  name: string;
  /** zxid in the file name (ZooKeeper names a file after its first txn) */
  nameZxid: Zxid;
  /** null when the file holds no entry yet */
  firstZxid: Zxid | null;
  lastZxid: Zxid | null;
  entryCount: number;
  sizeBytes: number;
}

export interface TxnLogOptions {
  /** dbid written in new file headers; ZooKeeper writes 0 */
  dbId?: bigint;
  /** receives one line per repair (torn tail cut, empty file removed) */
  note?: (message: string) => void;
  /**
   * Zeros written ahead of the entries, in blocks of this many bytes (0: none, files hold only
   * their entries). Default DEFAULT_PREALLOC_BYTES. ZooKeeper's zookeeper.preAllocSize (KiB).
   */
  preallocBytes?: number;
  /**
   * Hand the log's writes to Disk.writeAtAsync / writeAtDurably when the disk has them (every
   * server): a write waiting in the kernel behind a running fsync, or 16 MiB of preallocated
   * zeros, then stalls no request. The log still changes at once as its callers see it (append,
   * read, truncateAfter, roll, removeFilesBefore); only the disk lags: a cut or a removal waits
   * for every write started before it, and writes started after it wait for it (see exclusive).
   * Default false: every write lands before the call returns.
   */
  asyncWrites?: boolean;
}

/**
 * 16 MiB, not ZooKeeper's 64 MiB: ZooKeeper makes a sparse file (one byte written at the end),
 * ZooLab writes real zeros, so a new file costs its block in writes and one flush. A file holds
 * the txns between two snapshots (snapCount ~100k of ~150 bytes ≈ 15 MiB), so it rarely grows.
 */
export const DEFAULT_PREALLOC_BYTES = 16 * 1024 * 1024;
/** zeros are written in chunks of at most this size */
const ZERO_CHUNK_BYTES = 1024 * 1024;
let zeroChunk: Uint8Array | null = null;

/** a write handed to the disk's thread pool and not landed yet */
interface InFlightWrite {
  file: LogFileInfo;
  offset: number;
  bytes: Uint8Array;
  done: Promise<void>;
  /** entries (+ header), not zeros */
  entries: boolean;
  /** a later entries write, which carried these bytes too, has landed (see startWrite) */
  covered: boolean;
}

export class TxnLog {
  private readonly files: LogFileInfo[];
  private current: LogFileInfo | null = null;
  private readonly dirtyPaths = new Set<string>();
  private dirDirty = false;
  private lastLogged: Zxid;
  private lastDurable: Zxid;
  private pendingSync: Promise<void> = Promise.resolve();
  private broken: Error | null = null;
  private readonly dbId: bigint;
  /** framed entries appended to `unwrittenFile` since the last write, written by writeOut() */
  private unwritten: Uint8Array[] = [];
  private unwrittenBytes = 0;
  private unwrittenFile: LogFileInfo | null = null;
  /** writes handed to Disk.writeAtAsync and not landed yet: read() lays them over the file */
  private readonly inFlight = new Set<InFlightWrite>();
  /** settles once every write (and cut or removal) started so far has landed; rejected for good by a failed one */
  private landed: Promise<void> = Promise.resolve();
  /** the newest cut or removal still waiting for the writes before it; later writes wait for it */
  private gate: Promise<void> | null = null;
  /** headers of files started here whose first entries are not written yet (see writeOut) */
  private readonly headers = new Map<LogFileInfo, Uint8Array>();
  /** physical size (entries + preallocated zeros) of files this process writes */
  private readonly allocated = new Map<LogFileInfo, number>();
  private readonly preallocBytes: number;
  private readonly asyncWrites: boolean;

  private constructor(
    private readonly disk: Disk,
    readonly dir: string,
    files: LogFileInfo[],
    options: TxnLogOptions,
  ) {
    this.files = files;
    this.dbId = options.dbId ?? TXNLOG_DBID;
    const block = options.preallocBytes ?? DEFAULT_PREALLOC_BYTES;
    assert(Number.isSafeInteger(block) && block >= 0, `txn log: preallocBytes ${block} must be a whole number >= 0`);
    this.preallocBytes = block;
    this.asyncWrites = options.asyncWrites === true && disk.writeAtAsync !== undefined;
    this.lastLogged = lastZxidOf(files);
    this.lastDurable = this.lastLogged;
  }

  /**
   * Scans `dir` (created if missing), repairs torn tails, and returns the log ready to append.
   * Throws STORAGE_CORRUPT for damage that is not a torn tail.
   */
  static async open(disk: Disk, dir: string, options: TxnLogOptions = {}): Promise<TxnLog> {
    const note = options.note ?? (() => {});
    disk.mkdir(dir);
    const found = filesByZxid(disk.list(dir), LOG_PREFIX);
    const files: LogFileInfo[] = [];
    const repaired: string[] = [];
    let removedAny = false;
    let last: Zxid | null = null;
    for (const [index, { name, zxid: nameZxid }] of found.entries()) {
      const path = joinPath(dir, name);
      const bytes = readLogFile(disk, path);
      if (bytes === null) continue;
      const scan = scanLogFile(bytes, name, last);
      if (scan.headerIncomplete) {
        disk.remove(path);
        removedAny = true;
        note(`txn log ${name}: ${bytes.length} bytes without a complete file header (crash while creating it); removed`);
        continue;
      }
      const size = scan.goodEnd;
      // a zero tail is preallocation (ours or ZooKeeper's): the clean end of the file
      if (scan.tail !== null && !scan.tail.zeros) {
        const next = found[index + 1];
        const lastGood = scan.entries.length > 0 ? scan.entries[scan.entries.length - 1]!.zxid : last;
        if (next !== undefined && lastGood !== null && lostBeforeNextFile(lastGood, next.zxid)) {
          throw new ZooLabError(
            'STORAGE_CORRUPT',
            `txn log ${name} has a bad entry at byte ${scan.goodEnd} (${scan.tail.reason}) after zxid ${hex(lastGood)}, and the next file ${next.name} ` +
              `continues at ${hex(next.zxid)}: the txns in between are lost, not torn. ` +
              `Restore this data directory from a backup, or delete it and let the server resync from the ensemble.`,
          );
        }
        const after = scan.entries.length > 0 ? `after zxid ${hex(scan.entries[scan.entries.length - 1]!.zxid)}` : 'after the header';
        note(`txn log ${name}: torn tail at byte ${scan.goodEnd} (${scan.tail.reason}); cut ${(disk.size?.(path) ?? bytes.length) - scan.goodEnd} bytes ${after}`);
        disk.truncate(path, scan.goodEnd);
        repaired.push(path);
      }
      if (scan.entries.length === 0) {
        disk.remove(path);
        removedAny = true;
        note(`txn log ${name}: no complete entry; removed`);
        continue;
      }
      const first = scan.entries[0]!.zxid;
      if (first !== nameZxid) note(`txn log ${name}: first entry has zxid ${hex(first)}, not the one in its name`);
      last = scan.entries[scan.entries.length - 1]!.zxid;
      files.push({ name, nameZxid, firstZxid: first, lastZxid: last, entryCount: scan.entries.length, sizeBytes: size });
    }
    await Promise.all([...repaired.map((p) => disk.fsync(p)), ...(repaired.length > 0 || removedAny ? [disk.fsyncDir(dir)] : [])]);
    return new TxnLog(disk, dir, files, options);
  }

  /** The zxid of the last entry in the log (appended, maybe not yet synced); 0n when empty. */
  get lastZxid(): Zxid {
    return this.lastLogged;
  }

  /** The last zxid known durable (everything open() found, then each completed sync()). */
  get durableZxid(): Zxid {
    return this.lastDurable;
  }

  /** The log files, oldest first. */
  logFiles(): readonly Readonly<LogFileInfo>[] {
    return this.files;
  }

  append(txn: LoggedTxn): void {
    this.appendBatch([txn]);
  }

  /** Appends txns (strictly increasing zxids, after lastZxid) with one write per file. */
  appendBatch(txns: readonly LoggedTxn[]): void {
    if (txns.length === 0) return;
    this.checkUsable();
    let prev = this.lastLogged;
    for (const t of txns) {
      // messages built only on failure (four hex() per txn showed in the write profile)
      if (t.zxid <= prev) assert(false, `txn log: append of zxid ${hex(t.zxid)} after ${hex(prev)}: zxids must increase`);
      const inHeader = txnZxid(t.bytes);
      if (inHeader !== t.zxid) assert(false, `txn log: zxid ${hex(t.zxid)} does not match the TxnHeader's ${hex(inHeader)}`);
      prev = t.zxid;
    }
    const file = this.current ?? this.startFile(txns[0]!.zxid);
    const framed = encodeLogEntries(txns);
    if (file !== this.unwrittenFile) {
      this.writeOut();
      this.unwrittenFile = file;
    }
    this.unwritten.push(framed);
    this.unwrittenBytes += framed.length;
    file.firstZxid ??= txns[0]!.zxid;
    file.lastZxid = prev;
    file.entryCount += txns.length;
    file.sizeBytes += framed.length;
    this.lastLogged = prev;
  }

  /**
   * Writes what appendBatch collected to the page cache, in one write. Appends only wait in
   * memory until the next sync(): nothing is acknowledged before that sync's fsync anyway, and
   * one write per group commit instead of one per txn keeps the syscalls off the request path.
   */
  private writeOut(): void {
    if (this.unwritten.length === 0) return;
    const parts = this.unwritten;
    let bytes: Uint8Array;
    if (parts.length === 1) bytes = parts[0] as Uint8Array;
    else {
      bytes = new Uint8Array(this.unwrittenBytes);
      let at = 0;
      for (const p of parts) {
        bytes.set(p, at);
        at += p.length;
      }
    }
    this.unwritten = [];
    this.unwrittenBytes = 0;
    const file = this.unwrittenFile;
    assert(file !== null, 'txn log: unwritten entries without a file');
    // file.sizeBytes already counts these bytes (appendBatch): they go just before that end
    const end = file.sizeBytes;
    let at = end - bytes.length;
    const header = this.headers.get(file);
    if (header !== undefined) {
      // a new file's first entries carry its header again: when they are made durable in one
      // step (writeAtDurably), the header is too; never entries behind a header a power cut lost
      this.headers.delete(file);
      assert(at === header.length, 'txn log: the first entries of a file follow its header');
      const withHeader = new Uint8Array(header.length + bytes.length);
      withHeader.set(header);
      withHeader.set(bytes, header.length);
      bytes = withHeader;
      at = 0;
    }
    this.startWrite(file, at, bytes, true);
    const allocated = Math.max(end, this.allocated.get(file) ?? 0);
    this.allocated.set(file, allocated);
    if (this.preallocBytes > 0 && end >= allocated) this.preallocate(file, end);
  }

  /** Zeros from `from` (the end of the entries) to the next block boundary past it. */
  private preallocate(file: LogFileInfo, from: number): void {
    const to = (Math.floor(from / this.preallocBytes) + 1) * this.preallocBytes;
    zeroChunk ??= new Uint8Array(ZERO_CHUNK_BYTES);
    for (let at = from; at < to; at += ZERO_CHUNK_BYTES) {
      const n = Math.min(ZERO_CHUNK_BYTES, to - at);
      this.startWrite(file, at, n === ZERO_CHUNK_BYTES ? zeroChunk : zeroChunk.subarray(0, n));
    }
    this.allocated.set(file, to);
  }

  /**
   * One write into a log file: off the caller's thread when the disk can (Disk.writeAtAsync),
   * so a write that waits in the kernel behind a running fsync stalls no request. sync()
   * fsyncs only after every write started before it has landed; a failed write breaks the log.
   */
  private startWrite(file: LogFileInfo, offset: number, bytes: Uint8Array, entries = false): void {
    const path = joinPath(this.dir, file.name);
    if (!this.asyncWrites || this.disk.writeAtAsync === undefined) {
      this.disk.writeAt(path, offset, bytes);
      this.dirtyPaths.add(path);
      return;
    }
    // entries: written and made durable in one step when the disk can (Disk.writeAtDurably),
    // so their sync() needs no fsync of its own; zeros are fsynced by the next sync()
    const durably = entries && this.disk.writeAtDurably !== undefined;
    if (!durably) this.dirtyPaths.add(path);
    // The pool runs writes in any order, and a later group commit's entries may land before an
    // earlier one's: a kill or power cut between would leave zeros in front of good entries,
    // which open() must refuse as corruption in the middle. So an entries write carries the
    // entries of the writes before it that have not landed (nor been carried by one that has)
    // again, from the first of them: the entries on disk are always one run from the header.
    if (entries) {
      let from = offset;
      for (const w of this.inFlight) if (w.file === file && w.entries && !w.covered && w.offset < from) from = w.offset;
      if (from < offset) {
        const run = new Uint8Array(offset + bytes.length - from);
        for (const w of this.inFlight) if (w.file === file && w.entries && !w.covered && w.offset >= from) run.set(w.bytes, w.offset - from);
        run.set(bytes, offset - from);
        bytes = run;
        offset = from;
      }
    }
    // one over a range still being written with other bytes (entries into zeros just
    // preallocated there) waits for that write, or the zeros could land last; entries over
    // entries are the same bytes and need not wait
    const end = offset + bytes.length;
    const under: Promise<void>[] = [];
    for (const w of this.inFlight) if (w.file === file && !(entries && w.entries) && w.offset < end && offset < w.offset + w.bytes.length) under.push(w.done);
    // and nothing lands before a cut or removal started earlier (exclusive) has run
    if (this.gate !== null) under.push(this.gate);
    const at = offset;
    const data = bytes;
    const issue = (): Promise<void> => (durably ? this.disk.writeAtDurably!(path, at, data) : this.disk.writeAtAsync!(path, at, data));
    const write: InFlightWrite = { file, offset, bytes, done: Promise.resolve(), entries, covered: false };
    this.inFlight.add(write);
    const done = (under.length > 0 ? Promise.all(under).then(issue) : issue()).then(
      () => {
        // the entries writes started before this one are on the disk now (this one carried them)
        if (entries) {
          for (const w of this.inFlight) {
            if (w === write) break;
            if (w.file === file && w.entries) w.covered = true;
          }
        }
        this.inFlight.delete(write);
      },
      (e: unknown) => {
        this.broken ??= e instanceof Error ? e : new Error(String(e));
        throw e;
      },
    );
    write.done = done;
    this.landed = Promise.all([this.landed, done]).then(() => undefined);
    this.landed.catch(() => {}); // the next sync() (or truncateAfter) reports it
  }

  private startFile(firstZxid: Zxid): LogFileInfo {
    this.writeOut();
    const name = logFileName(firstZxid);
    assert(!this.files.some((f) => f.name === name), `txn log: ${name} already exists`);
    const header = encodeFileHeader(TXNLOG_MAGIC, this.dbId);
    // off the loop, the file comes with its first write (header + first entries, see writeOut),
    // behind any cut or removal still waiting (a removed file of the same name, see exclusive)
    if (!this.asyncWrites) this.disk.write(joinPath(this.dir, name), header);
    this.dirtyPaths.add(joinPath(this.dir, name));
    const file: LogFileInfo = { name, nameZxid: firstZxid, firstZxid: null, lastZxid: null, entryCount: 0, sizeBytes: header.length };
    this.headers.set(file, header);
    this.allocated.set(file, header.length); // the zeros come with the first writeOut
    this.files.push(file);
    this.current = file;
    this.dirDirty = true;
    return file;
  }

  /** The next append starts a new file (ZooKeeper rolls the log when it starts a snapshot). */
  roll(): void {
    this.writeOut();
    this.forgetCurrent();
  }

  /** The current file is never written again: drop its bookkeeping. */
  private forgetCurrent(): void {
    if (this.current !== null) this.allocated.delete(this.current);
    this.current = null;
  }

  /**
   * Resolves with the last zxid appended before the call once all of it is durable (one
   * fsync per file touched, plus the directory if a file was created). Concurrent calls are
   * fine; each waits for the ones before it. A rejected sync leaves the log unusable.
   */
  async sync(): Promise<Zxid> {
    this.checkUsable();
    this.writeOut();
    const upTo = this.lastLogged;
    const paths = [...this.dirtyPaths];
    this.dirtyPaths.clear();
    const dir = this.dirDirty;
    this.dirDirty = false;
    const mine = this.landed.then(() => Promise.all([...paths.map((p) => this.disk.fsync(p)), ...(dir ? [this.disk.fsyncDir(this.dir)] : [])]));
    const both = Promise.all([this.pendingSync, mine]).then(
      () => undefined,
      (e: unknown) => {
        this.broken ??= e instanceof Error ? e : new Error(String(e));
        throw e;
      },
    );
    this.pendingSync = both;
    await both;
    if (upTo > this.lastDurable) this.lastDurable = upTo;
    if (this.lastDurable > this.lastLogged) this.lastDurable = this.lastLogged; // a truncate ran meanwhile
    return upTo;
  }

  private checkUsable(): void {
    if (this.broken !== null) {
      throw new ZooLabError('DATADIR_NOT_WRITABLE', `txn log in ${this.dir} is unusable after a failed fsync: ${this.broken.message}`, { cause: this.broken });
    }
  }

  /**
   * Entries with zxid >= fromZxid, in order, across files. Re-reads the files from the disk.
   * Throws STORAGE_CORRUPT if a file went bad since open().
   */
  *read(fromZxid: Zxid): Generator<LoggedTxn> {
    this.writeOut();
    for (const f of this.files) {
      if (f.lastZxid === null || f.lastZxid < fromZxid) continue;
      for (const e of this.scanFile(f)) {
        if (e.zxid >= fromZxid) yield { zxid: e.zxid, bytes: e.bytes };
      }
    }
  }

  private scanFile(f: LogFileInfo): ScannedEntry[] {
    const path = joinPath(this.dir, f.name);
    // only the entries: what follows sizeBytes is preallocated zeros (open() checked the file)
    let bytes = this.disk.readAt !== undefined ? this.disk.readAt(path, 0, f.sizeBytes) : this.disk.read(path);
    if (bytes === null) {
      // a file started here whose first write (header and entries) has not landed yet
      let coming = false;
      for (const w of this.inFlight) coming ||= w.file === f;
      if (!coming) throw new ZooLabError('STORAGE_CORRUPT', `txn log ${f.name} disappeared from ${this.dir}`);
      bytes = new Uint8Array(0);
    }
    // entries still on their way to the disk: as the file will read once they land
    for (const w of this.inFlight) {
      if (w.file !== f || w.offset >= f.sizeBytes) continue; // (zeros past the entries: not needed)
      const part = w.bytes.subarray(0, f.sizeBytes - w.offset);
      if (bytes.length < w.offset + part.length) {
        const grown = new Uint8Array(w.offset + part.length);
        grown.set(bytes);
        bytes = grown;
      }
      bytes.set(part, w.offset);
    }
    const scan = scanLogFile(bytes.length > f.sizeBytes ? bytes.subarray(0, f.sizeBytes) : bytes, f.name);
    if ((scan.tail !== null && !scan.tail.zeros) || scan.headerIncomplete) {
      throw new ZooLabError('STORAGE_CORRUPT', `txn log ${f.name} changed under ZooLab: ${scan.tail?.reason ?? 'header incomplete'} at byte ${scan.goodEnd}`);
    }
    return scan.entries;
  }

  /**
   * ZAB TRUNC: removes every entry with zxid > `zxid` (cuts one file, removes the later ones)
   * and starts a new file on the next append. Returns how many entries were removed, once the
   * cut is durable. Unlike ZooKeeper, truncating to a zxid older than the whole log is allowed
   * (the log just becomes empty); the caller must also drop snapshots newer than `zxid`.
   *
   * The log changes before the call returns: lastZxid, read() and the next append see it cut
   * (a quorum member rebuilds its tree from read() and appends the leader's txns at once). The
   * disk follows: with writes in flight (asyncWrites) the cut waits for them, since one landing
   * after it would bring cut entries back, and writes started after the call wait for the cut.
   */
  truncateAfter(zxid: Zxid): Promise<number> {
    // a failure (an unusable log, a file gone bad, a cut the disk refused) rejects, never throws
    try {
      return this.cutAfter(zxid);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private cutAfter(zxid: Zxid): Promise<number> {
    this.writeOut();
    this.checkUsable();
    let removed = 0;
    // what the disk must do: cut a file to `end`, or remove it (end null)
    const cuts: { path: string; end: number | null }[] = [];
    for (let i = this.files.length - 1; i >= 0; i--) {
      const f = this.files[i]!;
      if (f.lastZxid === null || f.lastZxid <= zxid) continue;
      const path = joinPath(this.dir, f.name);
      const entries = this.scanFile(f); // with the writes in flight laid over
      const keep = entries.filter((e) => e.zxid <= zxid);
      removed += entries.length - keep.length;
      if (keep.length === 0) {
        this.files.splice(i, 1);
        this.dirtyPaths.delete(path);
        this.allocated.delete(f);
        cuts.push({ path, end: null });
        continue;
      }
      const end = keep[keep.length - 1]!.end;
      f.lastZxid = keep[keep.length - 1]!.zxid;
      f.entryCount = keep.length;
      f.sizeBytes = end;
      cuts.push({ path, end });
    }
    this.forgetCurrent();
    this.lastLogged = lastZxidOf(this.files);
    if (this.lastDurable > this.lastLogged) this.lastDurable = this.lastLogged;
    if (cuts.length === 0) return Promise.resolve(0);
    const onDisk = this.exclusive(() => {
      // truncate drops a file's preallocation too: the next append starts a new file
      for (const c of cuts) {
        if (c.end === null) this.disk.remove(c.path);
        else this.disk.truncate(c.path, c.end);
      }
    });
    const removedFile = cuts.some((c) => c.end === null);
    return onDisk
      .then(() => Promise.all([...cuts.filter((c) => c.end !== null).map((c) => this.disk.fsync(c.path)), ...(removedFile ? [this.disk.fsyncDir(this.dir)] : [])]))
      .then(() => removed);
  }

  /**
   * Runs `change` (cut or remove log files) on the disk once every write started so far has
   * landed, and holds back every write started after it until it has run (startWrite): a write
   * landing after a cut would bring cut entries back, one landing after a removal would make
   * the file again (or land in a new file that reuses the name, which the removal would take).
   * At once when nothing is in flight (always, without asyncWrites); a failure breaks the log.
   */
  private exclusive(change: () => void): Promise<void> {
    if (this.inFlight.size === 0 && this.gate === null) {
      change();
      return Promise.resolve();
    }
    const gate = this.landed.then(change).catch((e: unknown) => {
      this.broken ??= e instanceof Error ? e : new Error(String(e));
      throw e;
    });
    this.gate = gate;
    this.landed = gate;
    const clear = (): void => {
      if (this.gate === gate) this.gate = null;
    };
    gate.then(clear, clear);
    return gate;
  }

  /**
   * Purge helper: removes the log files whose every txn is at or before `snapshotZxid` (a
   * snapshot at that zxid makes them unnecessary). ZooKeeper's PurgeTxnLog, which cannot see
   * inside files, keeps one more: the newest file starting at or before the zxid. Never
   * removes the file being appended. Returns the names removed.
   */
  removeFilesBefore(snapshotZxid: Zxid): string[] {
    this.writeOut();
    const gone = this.files.filter((f) => f !== this.current && f.lastZxid !== null && f.lastZxid <= snapshotZxid);
    const paths = gone.map((f) => joinPath(this.dir, f.name));
    for (const f of gone) {
      this.dirtyPaths.delete(joinPath(this.dir, f.name));
      this.allocated.delete(f);
      this.files.splice(this.files.indexOf(f), 1);
    }
    // (after the writes in flight, which may be some of these files' last entries or zeros)
    if (paths.length > 0) this.exclusive(() => paths.forEach((p) => this.disk.remove(p))).catch(() => {}); // a failure breaks the log: the next sync reports it
    return gone.map((f) => f.name);
  }
}

/** zeros kept after a file's last non-zero byte when it is read for a scan */
const ZERO_TAIL_KEPT_BYTES = 4096;
const READ_BACK_CHUNK_BYTES = 1024 * 1024;

/**
 * A log file as far as a scan needs it: up to its last non-zero byte (every entry ends with
 * 'B', so none is past it) plus a few zeros, which scan the same as the whole zero tail. The
 * last non-zero byte is found reading back from the end a chunk at a time, so a preallocated
 * 16 MiB file holding little is never in memory whole. Without Disk.size/readAt: the whole file.
 */
function readLogFile(disk: Disk, path: string): Uint8Array | null {
  if (disk.size === undefined || disk.readAt === undefined) return disk.read(path);
  const size = disk.size(path);
  if (size === null) return null;
  let end = size;
  while (end > 0) {
    const from = Math.max(0, end - READ_BACK_CHUNK_BYTES);
    const chunk = disk.readAt(path, from, end - from);
    if (chunk === null) return null;
    let i = chunk.length - 1;
    while (i >= 0 && chunk[i] === 0) i--;
    if (i >= 0) {
      end = from + i + 1;
      break;
    }
    end = from;
  }
  return disk.readAt(path, 0, Math.min(size, end + ZERO_TAIL_KEPT_BYTES));
}

/**
 * A bad tail in a file that is not the last one is a torn write only if the server, when it
 * restarted, carried on right after the last good entry (same epoch, next counter) or in a
 * new epoch (after syncing with a leader). A gap in the same epoch means acknowledged txns
 * were in the damaged bytes.
 */
function lostBeforeNextFile(lastGood: Zxid, nextFirst: Zxid): boolean {
  return zxidEpoch(nextFirst) === zxidEpoch(lastGood) && zxidCounter(nextFirst) > zxidCounter(lastGood) + 1;
}

function lastZxidOf(files: readonly LogFileInfo[]): Zxid {
  for (let i = files.length - 1; i >= 0; i--) {
    const z = files[i]!.lastZxid;
    if (z !== null) return z;
  }
  return 0n;
}
