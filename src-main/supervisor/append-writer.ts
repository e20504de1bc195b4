/**
 * Appends text to a file without blocking the supervisor: `append` only buffers; one async
 * write at a time drains the buffer in order, whatever piled up meanwhile going out as one
 * write. The servers' trace (NDJSON, megabytes a minute under load) and log lines used to be one
 * appendFileSync per line on the supervisor's event loop, which also carries the app's UI
 * traffic and every server's stdout.
 *
 * The files are for people and post-mortems (the app takes trace events and log lines from
 * memory), so a write error is ignored, and a buffer past `bufferedBytesMax` (a disk far slower
 * than the servers) drops the new text and says so in the file once the disk catches up.
 * `flush()` resolves once everything appended before it is written; at process exit, whatever
 * is still buffered is written synchronously (a write already handed to the OS is not repeated).
 */
import { appendFileSync, close, open as openFile, write } from 'node:fs';

const BUFFERED_BYTES_MAX = 16 * 1024 * 1024;
/** appends wait this long to go out together: each write is an open + write + close on the
 * thread pool, which cost the supervisor more CPU than the three servers' own work when a
 * traced ensemble answered a few hundred writes a second (one write per stdout chunk) */
const DRAIN_DELAY_MS = 25;
/** the file stays open between writes while text keeps coming (an open + close per write was
 * ~60% of the main-thread cost of each write, ~120 of ~200 µs, with the FileHandle promise
 * API); closed once nothing came for this long, or when a flush finds nothing more to write */
const IDLE_CLOSE_MS = 500;

const openAppend = (path: string): Promise<number> =>
  new Promise((resolve, reject) => openFile(path, 'a', (e, fd) => (e ? reject(e) : resolve(fd))));
const closeFd = (fd: number): Promise<void> => new Promise((resolve) => close(fd, () => resolve()));
async function writeAll(fd: number, text: string): Promise<void> {
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0, guard = 0; at < bytes.length && guard < 1000; guard += 1) {
    at += await new Promise<number>((resolve, reject) => write(fd, bytes, at, bytes.length - at, null, (e, n) => (e ? reject(e) : resolve(n))));
  }
}

const pending = new Set<AppendWriter>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const w of pending) w.flushSync();
  });
}

export class AppendWriter {
  private buffered: string[] = [];
  private bufferedChars = 0;
  private droppedChars = 0;
  private draining: Promise<void> | null = null;
  /** appends taken so far, and how many of them are written (or failed): flush waits on these */
  private appended = 0;
  private written = 0;
  private waiters: { upTo: number; resolve: () => void }[] = [];
  private drainTimer: NodeJS.Timeout | null = null;
  /** the file, open for appending while text keeps coming */
  private fd: number | null = null;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly path: string,
    private readonly bufferedBytesMax = BUFFERED_BYTES_MAX,
    private readonly idleCloseMs = IDLE_CLOSE_MS,
  ) {
    installExitHook();
  }

  append(text: string): void {
    if (this.bufferedChars + text.length > this.bufferedBytesMax) {
      this.droppedChars += text.length;
      return;
    }
    if (this.droppedChars > 0 && this.buffered.length === 0) this.takeDropNote();
    this.buffered.push(text);
    this.bufferedChars += text.length;
    this.appended += 1;
    pending.add(this);
    // start a little later: the lines of many stdout chunks go out as one write
    if (this.draining === null && this.drainTimer === null) {
      this.drainTimer = setTimeout(this.startDrain, DRAIN_DELAY_MS);
      this.drainTimer.unref();
    }
  }

  private readonly startDrain = (): void => {
    if (this.drainTimer !== null) clearTimeout(this.drainTimer);
    this.drainTimer = null;
    this.draining ??= this.drain();
  };

  /**
   * Resolves when everything appended so far is in the file (or failed to get there); not
   * later appends, so it resolves under a steady stream too. When nothing more is buffered the
   * file is closed by then.
   */
  flush(): Promise<void> {
    if (this.written >= this.appended) {
      // nothing to write: close the file now (its folder may be removed next)
      if (this.idleTimer !== null) clearTimeout(this.idleTimer);
      this.idleTimer = null;
      return this.draining === null ? this.closeFile() : Promise.resolve();
    }
    const done = new Promise<void>((resolve) => this.waiters.push({ upTo: this.appended, resolve }));
    if (this.drainTimer !== null) this.startDrain();
    return done;
  }

  /** Writes what is buffered now, synchronously: for process exit only. */
  flushSync(): void {
    const upTo = this.appended;
    const chunk = this.take();
    if (chunk === '') return;
    try {
      appendFileSync(this.path, chunk);
    } catch {
      // a convenience file
    }
    this.wrote(upTo);
  }

  private wrote(upTo: number): void {
    this.written = upTo;
    const done = this.waiters.filter((w) => w.upTo <= upTo);
    this.waiters = this.waiters.filter((w) => w.upTo > upTo);
    for (const w of done) w.resolve();
  }

  private async closeFile(): Promise<void> {
    const fd = this.fd;
    this.fd = null;
    if (fd !== null) await closeFd(fd);
  }

  private takeDropNote(): void {
    const note = `{"supervisor":"dropped ${this.droppedChars} characters here: the disk was slower than the server's output"}\n`;
    this.droppedChars = 0;
    this.buffered.push(note);
    this.bufferedChars += note.length;
  }

  private take(): string {
    if (this.droppedChars > 0) this.takeDropNote();
    const chunk = this.buffered.join('');
    this.buffered = [];
    this.bufferedChars = 0;
    return chunk;
  }

  private async drain(): Promise<void> {
    // one pass writes what was there; what is appended meanwhile waits for the next pass
    const upTo = this.appended;
    const chunk = this.take();
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (chunk !== '') {
      try {
        this.fd ??= await openAppend(this.path);
        await writeAll(this.fd, chunk);
      } catch {
        // the file is a convenience (its folder may be gone): memory still has the lines
        await this.closeFile();
      }
      // a flush is answered with the file closed (its folder may be removed right after)
      if (this.buffered.length === 0 && this.waiters.length > 0) await this.closeFile();
      this.wrote(upTo);
    }
    this.draining = null;
    if (this.buffered.length === 0) {
      pending.delete(this);
      if (this.fd !== null) {
        this.idleTimer = setTimeout(() => {
          this.idleTimer = null;
          if (this.draining === null) void this.closeFile();
        }, this.idleCloseMs);
        this.idleTimer.unref();
      }
      return;
    }
    // someone waits on flush(): go on now; else gather for another DRAIN_DELAY_MS
    if (this.waiters.length > 0) this.startDrain();
    else if (this.drainTimer === null) {
      this.drainTimer = setTimeout(this.startDrain, DRAIN_DELAY_MS);
      this.drainTimer.unref();
    }
  }
}
