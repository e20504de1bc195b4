/**
 * What election and quorum links share (see peer-network.ts): a peer's addresses, the
 * per-link batched, delayed writer, and the listening socket.
 */
import net from 'node:net';
import type { Sid } from '../zab/quorum';
import type { ZabMessage } from '../zab/types';
import { JuteWriter } from '../jute/index';
import { encodeZabMessage, writeZabFrame, type FrameSplitter } from '../zab/wire';
import type { FaultTable } from './link-faults';

export interface PeerAddress {
  sid: Sid;
  host: string;
  quorumPort: number;
  electionPort: number;
}

/** a frame at least this big is written on its own (a SNAP), not copied into a batch */
const BATCH_FRAME_BYTES_MAX = 64 * 1024;
/** a batch is written as soon as it holds this much */
const BATCH_BYTES_MAX = 1024 * 1024;
/** a turn's batch starts with room for what the last one held, within these bounds */
const BATCH_INITIAL_BYTES_MIN = 4 * 1024;
const BATCH_INITIAL_BYTES_MAX = 256 * 1024;

/**
 * Writes frames to a socket in order, each after the link's delay. A waiting frame is due at
 * (sent + the delay in force), never before the frame ahead of it; a fault-table change
 * re-times the waiting ones, so healing a delayed link sends them at once.
 *
 * Frames due now wait for the end of this event-loop turn (setImmediate) and go out together in
 * one write: a burst of PROPOSALs, COMMITs or ACKs is one system call instead of one each (a
 * leader under load spent a third of its CPU in per-frame socket writes). Nothing is sent
 * earlier than before, only together, so ZAB's ordering (an ACK only after its fsync) holds.
 * A quorum message due now is encoded straight into that turn's buffer (writeZab): no buffer
 * per frame, no copy to join them.
 */
export class DelayedWriter {
  private readonly waiting: { frame: Uint8Array; sentAtMs: number; dueAtMs: number }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  /** this turn's frames, back to back (null: none yet) */
  private batch: JuteWriter | null = null;
  private batchInitialBytes = BATCH_INITIAL_BYTES_MIN;
  private flushScheduled = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly faults: FaultTable,
    private readonly from: Sid,
    private readonly to: Sid,
  ) {}

  write(frame: Uint8Array, delayMs: number): void {
    if (this.socket.destroyed) return;
    if (delayMs <= 0 && this.waiting.length === 0) {
      if (frame.length >= BATCH_FRAME_BYTES_MAX) {
        this.flush();
        this.socket.write(frame);
        return;
      }
      this.turnBatch().raw(frame);
      this.appended();
      return;
    }
    this.delay(frame, delayMs);
  }

  /** A quorum message: encoded into this turn's batch when it is due now, else as write(). */
  writeZab(msg: ZabMessage, delayMs: number): void {
    if (this.socket.destroyed) return;
    if (delayMs > 0 || this.waiting.length > 0 || msg.type === 'SNAP') {
      this.write(encodeZabMessage(msg), delayMs);
      return;
    }
    writeZabFrame(this.turnBatch(), msg);
    this.appended();
  }

  private turnBatch(): JuteWriter {
    return (this.batch ??= new JuteWriter(this.batchInitialBytes));
  }

  private appended(): void {
    if ((this.batch as JuteWriter).length >= BATCH_BYTES_MAX) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushLater);
    }
  }

  private delay(frame: Uint8Array, delayMs: number): void {
    const now = Date.now();
    // a delayed frame: whatever waits for the end of this turn goes first
    this.flush();
    const ahead = this.waiting[this.waiting.length - 1]?.dueAtMs ?? 0;
    this.waiting.push({ frame, sentAtMs: now, dueAtMs: Math.max(now + delayMs, ahead) });
    // listen to the table only while something waits: idle links hold no subscription
    this.unsubscribe ??= this.faults.onChange(() => this.retime());
    this.schedule();
  }

  private retime(): void {
    const delayMs = this.faults.delayMs(this.from, this.to);
    let ahead = 0;
    for (const w of this.waiting) {
      w.dueAtMs = Math.max(w.sentAtMs + delayMs, ahead);
      ahead = w.dueAtMs;
    }
    this.schedule();
  }

  /** Writes what is due, then waits for the next one. */
  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const now = Date.now();
    while (this.waiting.length > 0 && (this.waiting[0]?.dueAtMs ?? 0) <= now) {
      const w = this.waiting.shift()!;
      if (!this.socket.destroyed) this.socket.write(w.frame);
    }
    const next = this.waiting[0];
    if (next === undefined) {
      this.unsubscribe?.();
      this.unsubscribe = null;
      return;
    }
    this.timer = setTimeout(() => this.schedule(), next.dueAtMs - now);
  }

  private readonly flushLater = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  /** write what this turn queued, now, in one write */
  flush(): void {
    const batch = this.batch;
    if (batch === null || batch.length === 0) return;
    this.batch = null;
    this.batchInitialBytes = Math.min(BATCH_INITIAL_BYTES_MAX, Math.max(BATCH_INITIAL_BYTES_MIN, batch.length));
    if (this.socket.destroyed) return;
    // the writer is dropped: its buffer goes to the socket as it is (the next turn gets a new one)
    this.socket.write(batch.take());
  }

  /** before the socket is closed: what this turn queued still goes out (as it did when each
   * frame was written at once: a leader's last COMMITANDACTIVATE before it hands over, say);
   * delayed frames are dropped */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.waiting.length = 0;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.flush();
  }
}

export interface Link {
  socket: net.Socket;
  writer: DelayedWriter;
}

export function listenOn(host: string, port: number, onSocket: (s: net.Socket) => void, what: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ noDelay: true }, onSocket);
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(new Error(e.code === 'EADDRINUSE' ? `${what} ${host}:${port} is already in use by another process` : `${what} ${host}:${port}: ${e.message}`));
    });
    server.listen({ host, port, exclusive: true }, () => {
      server.removeAllListeners('error');
      server.on('error', () => {});
      resolve(server);
    });
  });
}

/**
 * The whole frames a socket chunk completes, or null once a malformed or oversized frame has
 * made this link unusable (the socket is destroyed: nothing after it can be trusted).
 */
export function framesOf(split: FrameSplitter, s: net.Socket, chunk: Buffer): Uint8Array[] | null {
  try {
    return split.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  } catch {
    s.destroy();
    return null;
  }
}
