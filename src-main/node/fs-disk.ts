/**
 * The real Disk (src-main/storage/disk.ts) over node:fs.
 *
 * Page-cache operations are synchronous system calls (microseconds), except writeAtAsync (the txn
 * log's writes: a write into a file being fsynced can block for tens of ms); fsync (fdatasync, as
 * ZooKeeper) and fsyncDir run
 * on libuv's thread pool, so a slow disk never blocks the event loop and group commit works:
 * append a batch, one fsync, all of it durable. `writeAt` is pwrite: the txn log writes into the
 * zeros it preallocated, so fdatasync has no size change to commit. Files being written keep an open descriptor
 * (a small LRU); a descriptor is closed only when no fsync or write is using it.
 *
 * fsyncDir opens the directory and fsyncs it, which makes creations, renames and removals
 * durable on Linux and macOS; on Windows directories cannot be fsynced and it is a no-op.
 * `forceSync: false` (zoo.cfg forceSync=no) turns every fsync into a no-op: faster, and
 * acknowledged writes can be lost on a power cut (not on a process kill).
 * IO failures are thrown as ZooLabError DATADIR_NOT_WRITABLE naming the path.
 */
import * as fs from 'node:fs';
import { ZooLabError } from '../common/errors';
import type { Disk } from '../storage/disk';

export interface FsDiskOptions {
  /** zoo.cfg forceSync; default true */
  forceSync?: boolean;
  /** called after each real fsync with its duration (for fsync.warningthresholdms and traces) */
  onFsync?: (path: string, durationMs: number) => void;
  /** descriptors kept open for appends; default 8 */
  openFilesMax?: number;
}

interface Handle {
  fd: number;
  /** fsyncs and writes in flight on this descriptor */
  busy: number;
  /** close once no fsync is in flight */
  closing: boolean;
}

function ioError(op: string, path: string, e: unknown): ZooLabError {
  const reason = e instanceof Error ? e.message : String(e);
  return new ZooLabError('DATADIR_NOT_WRITABLE', `cannot ${op} ${path}: ${reason}. Check that the data directory exists, is writable and the disk is not full.`, { cause: e });
}

/** the O_DSYNC descriptor of a path sits in the handle cache under the path + this */
const DSYNC_KEY = '\u0000dsync';

function isNotFound(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'ENOENT';
}

export class FsDisk implements Disk {
  private readonly handles = new Map<string, Handle>();
  private readonly forceSync: boolean;
  private readonly openFilesMax: number;

  constructor(private readonly options: FsDiskOptions = {}) {
    this.forceSync = options.forceSync ?? true;
    this.openFilesMax = Math.max(1, options.openFilesMax ?? 8);
  }

  list(dir: string): string[] {
    try {
      return fs.readdirSync(dir);
    } catch (e) {
      if (isNotFound(e)) return [];
      throw ioError('list', dir, e);
    }
  }

  read(path: string): Uint8Array | null {
    try {
      const b = fs.readFileSync(path);
      // a plain Uint8Array view: Buffer#slice shares memory, Uint8Array#slice copies
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch (e) {
      if (isNotFound(e)) return null;
      throw ioError('read', path, e);
    }
  }

  size(path: string): number | null {
    try {
      return fs.statSync(path).size;
    } catch (e) {
      if (isNotFound(e)) return null;
      throw ioError('read the size of', path, e);
    }
  }

  readAt(path: string, offset: number, length: number): Uint8Array | null {
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch (e) {
      if (isNotFound(e)) return null;
      throw ioError('read', path, e);
    }
    try {
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = fs.readSync(fd, out, done, length - done, offset + done);
        if (n === 0) break; // the end of the file
        done += n;
      }
      return done === length ? out : out.subarray(0, done);
    } catch (e) {
      throw ioError('read', path, e);
    } finally {
      fs.closeSync(fd);
    }
  }

  append(path: string, bytes: Uint8Array): void {
    const h = this.handleFor(path);
    try {
      // the descriptor is not O_APPEND (writeAt needs positioned writes), so append at the size
      const at = fs.fstatSync(h.fd).size;
      let done = 0;
      while (done < bytes.length) done += fs.writeSync(h.fd, bytes, done, bytes.length - done, at + done);
    } catch (e) {
      throw ioError('append to', path, e);
    }
  }

  writeAt(path: string, offset: number, bytes: Uint8Array): void {
    if (!Number.isSafeInteger(offset) || offset < 0) throw ioError('write to', path, new RangeError(`bad offset ${offset}`));
    const h = this.handleFor(path);
    try {
      let done = 0;
      while (done < bytes.length) done += fs.writeSync(h.fd, bytes, done, bytes.length - done, offset + done);
    } catch (e) {
      throw ioError('write to', path, e);
    }
  }

  writeAtAsync(path: string, offset: number, bytes: Uint8Array): Promise<void> {
    return this.writeOffLoop(path, offset, bytes, false);
  }

  /**
   * The txn log's group commit in one thread-pool job instead of two (a write, then an
   * fdatasync): a pwrite on a descriptor opened O_DSYNC returns once the bytes and what is
   * needed to read them back are durable, which is writeAt + fdatasync of that range. Every
   * hand-off to the pool wakes a thread, and on a busy 2-core machine the woken thread often
   * takes the event loop's core (the profile showed ~150 µs per hand-off). Without forceSync:
   * a plain write; where O_DSYNC does not exist (Windows): a write, then fsync.
   */
  async writeAtDurably(path: string, offset: number, bytes: Uint8Array): Promise<void> {
    if (!this.forceSync) return this.writeOffLoop(path, offset, bytes, false);
    if (fs.constants.O_DSYNC === undefined) {
      await this.writeOffLoop(path, offset, bytes, false);
      return this.fsync(path);
    }
    const start = performance.now();
    await this.writeOffLoop(path, offset, bytes, true);
    this.options.onFsync?.(path, performance.now() - start);
  }

  private writeOffLoop(path: string, offset: number, bytes: Uint8Array, dsync: boolean): Promise<void> {
    if (!Number.isSafeInteger(offset) || offset < 0) return Promise.reject(ioError('write to', path, new RangeError(`bad offset ${offset}`)));
    let h: Handle;
    try {
      h = this.handleFor(path, dsync);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    h.busy += 1; // the descriptor stays open until the write is done (see release)
    return new Promise<void>((resolve, reject) => {
      const from = (done: number): void => {
        fs.write(h.fd, bytes, done, bytes.length - done, offset + done, (err, n) => {
          if (err === null && done + n < bytes.length) {
            from(done + n);
            return;
          }
          h.busy -= 1;
          this.closeIfIdle(h);
          if (err !== null) reject(ioError(dsync ? 'write (O_DSYNC) to' : 'write to', path, err));
          else resolve();
        });
      };
      from(0);
    });
  }

  write(path: string, bytes: Uint8Array): void {
    this.release(path);
    try {
      fs.writeFileSync(path, bytes);
    } catch (e) {
      throw ioError('write', path, e);
    }
  }

  truncate(path: string, sizeBytes: number): void {
    try {
      fs.truncateSync(path, sizeBytes);
    } catch (e) {
      throw ioError('truncate', path, e);
    }
  }

  rename(from: string, to: string): void {
    this.release(from);
    this.release(to);
    try {
      fs.renameSync(from, to);
    } catch (e) {
      throw ioError(`rename ${from} to`, to, e);
    }
  }

  remove(path: string): void {
    this.release(path);
    try {
      fs.rmSync(path, { force: true });
    } catch (e) {
      throw ioError('remove', path, e);
    }
  }

  mkdir(dir: string): void {
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw ioError('create directory', dir, e);
    }
  }

  async fsync(path: string): Promise<void> {
    if (!this.forceSync) return;
    const cached = this.handles.get(path);
    if (cached !== undefined && !cached.closing) {
      cached.busy += 1;
      try {
        await this.timedFsync(path, cached.fd);
      } finally {
        cached.busy -= 1;
        this.closeIfIdle(cached);
      }
      return;
    }
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch (e) {
      throw ioError('open for fsync', path, e);
    }
    try {
      await this.timedFsync(path, fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  async fsyncDir(dir: string): Promise<void> {
    if (!this.forceSync || process.platform === 'win32') return;
    let fd: number;
    try {
      fd = fs.openSync(dir, 'r');
    } catch (e) {
      throw ioError('open directory for fsync', dir, e);
    }
    try {
      await this.timedFsync(dir, fd, true);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Closes every cached descriptor (after in-flight fsyncs finish). */
  close(): void {
    for (const key of [...this.handles.keys()]) this.releaseKey(key);
  }

  /**
   * Files: fdatasync, as ZooKeeper (FileChannel.force(false)): the data and the metadata needed
   * to read it back (the size an append changed) are durable, without waiting for timestamps;
   * on ext4 that often spares a journal commit, the slow part when the disk is shared.
   * Directories: a full fsync (their entries are the point).
   */
  private timedFsync(path: string, fd: number, full = false): Promise<void> {
    const start = performance.now();
    const sync = full ? fs.fsync : fs.fdatasync;
    return new Promise((resolve, reject) => {
      sync(fd, (err) => {
        if (err !== null) {
          reject(ioError('fsync', path, err));
          return;
        }
        this.options.onFsync?.(path, performance.now() - start);
        resolve();
      });
    });
  }

  private handleFor(path: string, dsync = false): Handle {
    const key = dsync ? `${path}${DSYNC_KEY}` : path;
    const existing = this.handles.get(key);
    if (existing !== undefined) {
      // move to the most-recent end of the LRU
      this.handles.delete(key);
      this.handles.set(key, existing);
      return existing;
    }
    let fd: number;
    try {
      fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_CREAT | (dsync ? fs.constants.O_DSYNC : 0), 0o666);
    } catch (e) {
      throw ioError('open for writing', path, e);
    }
    const h: Handle = { fd, busy: 0, closing: false };
    this.handles.set(key, h);
    while (this.handles.size > this.openFilesMax) {
      const oldest = this.handles.keys().next().value as string;
      this.releaseKey(oldest);
    }
    return h;
  }

  /** Forgets the cached descriptors of `path`; each closes now or when its last fsync or write ends. */
  private release(path: string): void {
    this.releaseKey(path);
    this.releaseKey(`${path}${DSYNC_KEY}`);
  }

  private releaseKey(key: string): void {
    const h = this.handles.get(key);
    if (h === undefined) return;
    this.handles.delete(key);
    h.closing = true;
    this.closeIfIdle(h);
  }

  private closeIfIdle(h: Handle): void {
    if (h.closing && h.busy === 0) {
      h.closing = false;
      h.busy = -1; // closed
      fs.closeSync(h.fd);
    }
  }
}
