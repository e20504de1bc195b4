/**
 * Incremental frame decoder: bytes in (any split), complete `int32 length + payload` frames
 * out. Pure: no sockets. A length below 0 or above maxPacketBytes is an error value (the
 * caller closes that connection); after an error the decoder stays failed and drops input.
 *
 * Memory: bytes are kept as the received chunks and copied once, when a frame is complete,
 * so a header announcing a large frame allocates nothing until its bytes have arrived.
 *
 * With detectFourLetterWords (server side), the first 4 bytes of a fresh connection that spell
 * a known four-letter word ("ruok", "srvr", ...) are reported as that word instead of a length;
 * every later byte is handed back as `trailing` (stmk sends an 8-byte mask after its word).
 */
import { limits } from '../common/limits';

/** ZooKeeper's four-letter words (FourLetterCommands). */
export const FOUR_LETTER_WORDS: readonly string[] = [
  'conf', 'cons', 'crst', 'dirs', 'dump', 'envi', 'gtmk', 'hash', 'isro', 'mntr', 'ruok',
  'srst', 'srvr', 'stat', 'stmk', 'wchc', 'wchp', 'wchs',
];
const fourLetterWords: ReadonlySet<string> = new Set(FOUR_LETTER_WORDS);

export type FrameErrorCode = 'NEGATIVE_LENGTH' | 'TOO_LARGE';

export interface FrameError {
  code: FrameErrorCode;
  /** the announced length */
  length: number;
  maxPacketBytes: number;
  message: string;
}

export interface FramePush {
  /** complete frame payloads (without their length prefix), in order */
  frames: Uint8Array[];
  /** set once, when a fresh connection opened with a four-letter word */
  fourLetterWord?: string;
  /** bytes that followed the four-letter word (in this push or later ones) */
  trailing?: Uint8Array;
  /** set when the stream is malformed; the decoder then stays failed */
  error?: FrameError;
}

export interface FrameDecoderOptions {
  /** largest payload accepted; default limits.packetBytesMax (jute.maxbuffer) */
  maxPacketBytes?: number;
  /** report a leading four-letter word (server side); default false */
  detectFourLetterWords?: boolean;
}

export class FrameDecoder {
  /** May be changed between pushes (e.g. a tighter limit before the handshake completes). */
  maxPacketBytes: number;
  private readonly detectFourLetterWords: boolean;
  /** received chunks; those before `head` are consumed (an index, so a byte-by-byte trickle stays linear) */
  private chunks: Uint8Array[] = [];
  private head = 0;
  private buffered = 0;
  private framesSeen = 0;
  private state: 'frames' | 'fourLetterWord' | 'failed' = 'frames';
  private failure: FrameError | undefined;

  constructor(options: FrameDecoderOptions = {}) {
    this.maxPacketBytes = options.maxPacketBytes ?? limits.packetBytesMax;
    this.detectFourLetterWords = options.detectFourLetterWords ?? false;
  }

  /** Bytes received but not yet returned in a frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** True when the stream has failed (see the error of the push that failed it). */
  get failed(): boolean {
    return this.state === 'failed';
  }

  push(chunk: Uint8Array): FramePush {
    if (this.state === 'failed') return { frames: [], error: this.failure };
    if (this.state === 'fourLetterWord') return { frames: [], trailing: chunk.slice() };
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: Uint8Array[] = [];
    // each iteration consumes at least 4 bytes or stops: bounded by the input
    while (this.buffered >= 4) {
      const head = this.peek4();
      if (this.detectFourLetterWords && this.framesSeen === 0) {
        const word = String.fromCharCode(head[0]!, head[1]!, head[2]!, head[3]!);
        if (fourLetterWords.has(word)) {
          this.take(4);
          const trailing = this.take(this.buffered);
          this.state = 'fourLetterWord';
          return { frames, fourLetterWord: word, trailing };
        }
      }
      const length = new DataView(head.buffer, head.byteOffset, 4).getInt32(0);
      if (length < 0 || length > this.maxPacketBytes) {
        this.fail(length);
        return { frames, error: this.failure };
      }
      if (this.buffered < 4 + length) break;
      this.take(4);
      frames.push(this.take(length));
      this.framesSeen++;
    }
    return { frames };
  }

  private fail(length: number): void {
    const code: FrameErrorCode = length < 0 ? 'NEGATIVE_LENGTH' : 'TOO_LARGE';
    const message =
      length < 0
        ? `frame length ${length} is negative`
        : `frame length ${length} exceeds the packet limit of ${this.maxPacketBytes} bytes`;
    this.failure = { code, length, maxPacketBytes: this.maxPacketBytes, message };
    this.state = 'failed';
    this.chunks = [];
    this.head = 0;
    this.buffered = 0;
  }

  private peek4(): Uint8Array {
    const first = this.chunks[this.head]!;
    if (first.length >= 4) return first.subarray(0, 4);
    const out = new Uint8Array(4);
    let filled = 0;
    for (let i = this.head; i < this.chunks.length; i++) {
      const c = this.chunks[i]!;
      const n = Math.min(4 - filled, c.length);
      out.set(c.subarray(0, n), filled);
      filled += n;
      if (filled === 4) break;
    }
    return out;
  }

  /** Removes n (≤ buffered) bytes from the front and returns them as a fresh copy. */
  private take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[this.head]!;
      const k = Math.min(n - filled, c.length);
      out.set(c.subarray(0, k), filled);
      filled += k;
      if (k === c.length) this.head++;
      else this.chunks[this.head] = c.subarray(k);
    }
    this.buffered -= n;
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head > 1024) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    return out;
  }
}
