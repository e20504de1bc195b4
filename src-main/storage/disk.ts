/**
 * The disk as storage sees it. Pure types: the real shell (src-main/node/fs-disk.ts) and the
 * simulator's fake disk both implement it.
 *
 * Sync versus async. Everything that only touches the page cache (list, read, append, writeAt, write,
 * truncate, rename, remove, mkdir) is synchronous: it costs microseconds and keeps the pure
 * code free of interleavings. Only durability is asynchronous: `fsync` and `fsyncDir` return
 * promises, so a slow disk never blocks the event loop and never serialises requests. Group
 * commit is then: append a batch (sync), call `fsync` once, and when it resolves every entry
 * appended before the call is durable. Appends made while an fsync is in flight are covered by
 * the next one.
 *
 * Durability model (what a fake disk may lose on a simulated power cut):
 *  - file contents are durable up to the last completed `fsync(path)` of that file; bytes
 *    written (appended or overwritten with writeAt) since may be lost, or land only in part;
 *  - directory entries (a file's creation, a rename, a removal) are durable after a completed
 *    `fsyncDir(dir)` of the directory holding them.
 * A process kill (not a power cut) loses nothing that a call already returned from.
 *
 * Paths are plain strings joined with "/" (see joinPath); Node accepts "/" on every platform.
 * Failures are thrown as errors (the real shell throws ZooLabError DATADIR_NOT_WRITABLE).
 */
export interface Disk {
  /** Names (not paths) of the entries of `dir`, in any order; [] when `dir` does not exist. */
  list(dir: string): string[];
  /** The whole file, or null when it does not exist. */
  read(path: string): Uint8Array | null;
  /**
   * Optional, with readAt: the file's size in bytes, or null when it does not exist. The txn
   * log uses the pair to read a preallocated file up to its last entry instead of whole
   * (a 16 MiB file holding 100 KiB of entries would otherwise cost 16 MiB at every restart).
   */
  size?(path: string): number | null;
  /** Optional: up to `length` bytes from `offset` (fewer past the end), or null when the file does not exist. */
  readAt?(path: string, offset: number, length: number): Uint8Array | null;
  /** Appends at the end of the file, creating it when missing. */
  append(path: string, bytes: Uint8Array): void;
  /**
   * Writes `bytes` at byte `offset` (pwrite), creating the file when missing; past the end the
   * file grows (a gap reads as zeros). Overwrites in place otherwise: a txn log writes its
   * entries into the zeros it preallocated, so fdatasync need not commit a new size.
   */
  writeAt(path: string, offset: number, bytes: Uint8Array): void;
  /**
   * Optional: writeAt without blocking the caller (the real disk runs it on libuv's thread
   * pool). A write into a file that an fsync is flushing can wait in the kernel (measured up to
   * 83 ms on ext4 here); on the event loop that stalls every client. Resolves once the bytes are
   * where writeAt would have put them; until then a read of the file may not show them. The
   * txn log uses it when present and keeps what is in flight in view (TxnLog.read).
   */
  writeAtAsync?(path: string, offset: number, bytes: Uint8Array): Promise<void>;
  /**
   * Optional: writeAt and fsync of what it wrote, in one step off the caller's thread (the real
   * disk: one O_DSYNC pwrite on the thread pool). Resolves once the bytes are durable; they
   * count as fsynced, the rest of the file does not. Read visibility as for writeAtAsync.
   */
  writeAtDurably?(path: string, offset: number, bytes: Uint8Array): Promise<void>;
  /** Creates or replaces the file with exactly `bytes`. */
  write(path: string, bytes: Uint8Array): void;
  /** Cuts the file to `sizeBytes` (must not be larger than the file). */
  truncate(path: string, sizeBytes: number): void;
  /** Atomically renames `from` to `to`, replacing `to` if it exists. Same directory only. */
  rename(from: string, to: string): void;
  /** Removes the file; a missing file is not an error. */
  remove(path: string): void;
  /** Creates the directory and its parents; an existing one is not an error. */
  mkdir(dir: string): void;
  /** Resolves when the file's contents written so far are durable. */
  fsync(path: string): Promise<void>;
  /** Resolves when the directory's entries (creations, renames, removals) are durable. */
  fsyncDir(dir: string): Promise<void>;
}

/** `a/b` from `a` and `b`, without doubling the separator. */
export function joinPath(dir: string, name: string): string {
  if (dir === '') return name;
  return dir.endsWith('/') || dir.endsWith('\\') ? `${dir}${name}` : `${dir}/${name}`;
}

/** The directory part of a path joined with joinPath ("" when there is none). */
export function dirName(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i < 0 ? '' : path.slice(0, i);
}

/** The last component of a path. */
export function baseName(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return path.slice(i + 1);
}
