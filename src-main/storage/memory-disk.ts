/**
 * An in-memory Disk that keeps what is durable apart from what is only in the "page cache",
 * so tests (and the simulator, which may build its fault-injecting disk on it) can cut the
 * power: crash() returns the disk as it would be after a reboot.
 *
 * Model (the one documented on Disk): a file's content is durable as of its last fsync; a
 * directory's entries (create, rename, remove) are durable as of its last fsyncDir. mkdir is
 * durable at once. fsync and fsyncDir resolve on the next microtask. Pure.
 */
import { baseName, dirName, type Disk } from './disk';

interface Inode {
  data: Uint8Array;
  durable: Uint8Array;
}

export interface CrashOptions {
  /**
   * How many bytes of a file's unsynced write survive the crash (a torn write): the bytes from
   * the first to the last one that differs from the durable content (appended, or written into
   * preallocated zeros), of which a prefix lands. Called only for files not cut shorter than
   * their durable content since their last fsync. Default 0.
   */
  tornBytes?: (path: string, unsyncedBytes: number) => number;
}

function normalize(dir: string): string {
  return dir.length > 1 && (dir.endsWith('/') || dir.endsWith('\\')) ? dir.slice(0, -1) : dir;
}

function notFound(op: string, path: string): Error {
  return new Error(`${op} ${path}: no such file`);
}

export interface MemoryDiskOptions {
  /**
   * Offer Disk.writeAtAsync, landing each write after a few microtasks (as the real disk's
   * thread pool does), so code that keeps such writes in view can be tested. Default false.
   */
  asyncWrites?: boolean;
}

export class MemoryDisk implements Disk {
  private readonly dirs = new Map<string, Map<string, Inode>>();
  private readonly durableDirs = new Map<string, Map<string, Inode>>();
  readonly writeAtAsync?: (path: string, offset: number, bytes: Uint8Array) => Promise<void>;
  readonly writeAtDurably?: (path: string, offset: number, bytes: Uint8Array) => Promise<void>;

  constructor(options: MemoryDiskOptions = {}) {
    if (options.asyncWrites === true) {
      this.writeAtAsync = async (path, offset, bytes) => {
        for (let i = 0; i < 3; i++) await Promise.resolve();
        this.writeAt(path, offset, bytes);
      };
      // only the range written becomes durable; a gap before it in the durable copy reads as
      // zeros (what the real disk may show there after a power cut)
      this.writeAtDurably = async (path, offset, bytes) => {
        for (let i = 0; i < 3; i++) await Promise.resolve();
        this.writeAt(path, offset, bytes);
        const inode = this.lookup(path)!;
        const end = offset + bytes.length;
        if (inode.durable.length < end) {
          const grown = new Uint8Array(end);
          grown.set(inode.durable);
          inode.durable = grown;
        }
        inode.durable.set(bytes, offset);
      };
    }
  }

  list(dir: string): string[] {
    return [...(this.dirs.get(normalize(dir))?.keys() ?? [])];
  }

  read(path: string): Uint8Array | null {
    const inode = this.lookup(path);
    return inode === undefined ? null : inode.data.slice();
  }

  size(path: string): number | null {
    return this.lookup(path)?.data.length ?? null;
  }

  readAt(path: string, offset: number, length: number): Uint8Array | null {
    const inode = this.lookup(path);
    return inode === undefined ? null : inode.data.slice(offset, offset + length);
  }

  append(path: string, bytes: Uint8Array): void {
    const inode = this.lookup(path) ?? this.create(path);
    const next = new Uint8Array(inode.data.length + bytes.length);
    next.set(inode.data);
    next.set(bytes, inode.data.length);
    inode.data = next;
  }

  writeAt(path: string, offset: number, bytes: Uint8Array): void {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new Error(`writeAt ${path}: bad offset ${offset}`);
    const inode = this.lookup(path) ?? this.create(path);
    const end = offset + bytes.length;
    if (end > inode.data.length) {
      const next = new Uint8Array(end);
      next.set(inode.data);
      inode.data = next;
    }
    inode.data.set(bytes, offset);
  }

  write(path: string, bytes: Uint8Array): void {
    const inode = this.lookup(path) ?? this.create(path);
    inode.data = bytes.slice();
  }

  truncate(path: string, sizeBytes: number): void {
    const inode = this.lookup(path);
    if (inode === undefined) throw notFound('truncate', path);
    if (sizeBytes > inode.data.length) throw new Error(`truncate ${path}: ${sizeBytes} is beyond the end (${inode.data.length})`);
    inode.data = inode.data.slice(0, sizeBytes);
  }

  rename(from: string, to: string): void {
    const inode = this.lookup(from);
    if (inode === undefined) throw notFound('rename', from);
    if (normalize(dirName(from)) !== normalize(dirName(to))) throw new Error(`rename ${from} → ${to}: not the same directory`);
    const entries = this.entries(dirName(from));
    entries.delete(baseName(from));
    entries.set(baseName(to), inode);
  }

  remove(path: string): void {
    this.dirs.get(normalize(dirName(path)))?.delete(baseName(path));
  }

  mkdir(dir: string): void {
    let d = normalize(dir);
    for (let i = 0; i < 64 && d !== '' && !this.dirs.has(d); i++) {
      this.dirs.set(d, new Map());
      this.durableDirs.set(d, new Map());
      const parent = normalize(dirName(d));
      if (parent === d) break;
      d = parent;
    }
  }

  fsync(path: string): Promise<void> {
    const inode = this.lookup(path);
    if (inode === undefined) return Promise.reject(notFound('fsync', path));
    inode.durable = inode.data.slice();
    return Promise.resolve();
  }

  fsyncDir(dir: string): Promise<void> {
    const entries = this.dirs.get(normalize(dir));
    if (entries === undefined) return Promise.reject(new Error(`fsyncDir ${dir}: no such directory`));
    this.durableDirs.set(normalize(dir), new Map(entries));
    return Promise.resolve();
  }

  /** The disk after a power cut: durable directory entries, durable contents (+ torn tails if asked). */
  crash(options: CrashOptions = {}): MemoryDisk {
    const after = new MemoryDisk();
    const copies = new Map<Inode, Inode>();
    for (const [dir, entries] of this.durableDirs) {
      const out = new Map<string, Inode>();
      for (const [name, inode] of entries) {
        let copy = copies.get(inode);
        if (copy === undefined) {
          let data = inode.durable.slice();
          const torn = options.tornBytes === undefined ? null : unsyncedRange(inode);
          if (torn !== null) {
            // the unsynced bytes [from, to) land only as a prefix: `keep` of them, the rest as before
            const unsynced = torn.to - torn.from;
            const keep = Math.max(0, Math.min(unsynced, Math.floor(options.tornBytes!(`${dir}/${name}`, unsynced))));
            const end = torn.from + keep;
            if (end > data.length) {
              const grown = new Uint8Array(end);
              grown.set(data);
              data = grown;
            }
            data.set(inode.data.subarray(torn.from, end), torn.from);
          }
          copy = { data, durable: data.slice() };
          copies.set(inode, copy);
        }
        out.set(name, copy);
      }
      after.dirs.set(dir, out);
      after.durableDirs.set(dir, new Map(out));
    }
    return after;
  }

  private entries(dir: string): Map<string, Inode> {
    const entries = this.dirs.get(normalize(dir));
    if (entries === undefined) throw new Error(`${dir}: no such directory`);
    return entries;
  }

  private lookup(path: string): Inode | undefined {
    return this.dirs.get(normalize(dirName(path)))?.get(baseName(path));
  }

  private create(path: string): Inode {
    const inode: Inode = { data: new Uint8Array(0), durable: new Uint8Array(0) };
    this.entries(dirName(path)).set(baseName(path), inode);
    return inode;
  }
}

/**
 * The unsynced bytes of a file as one range: from the first byte that differs from its durable
 * content to the last one (or to the end when the file grew). null when nothing differs or the
 * file was cut shorter than its durable content (a torn truncate is not modelled).
 */
function unsyncedRange(inode: Inode): { from: number; to: number } | null {
  const { data, durable } = inode;
  if (data.length < durable.length) return null;
  let from = 0;
  while (from < durable.length && data[from] === durable[from]) from++;
  let to: number;
  if (data.length > durable.length) to = data.length;
  else {
    to = durable.length;
    while (to > from && data[to - 1] === durable[to - 1]) to--;
  }
  return to > from ? { from, to } : null;
}
