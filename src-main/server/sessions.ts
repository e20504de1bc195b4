/**
 * Session tracking (SessionTrackerImpl + ExpiryQueue): timeouts, expiry rounded up to the next
 * tick boundary as upstream, the connection a session is bound to, and "closing" marks.
 * Session ids and passwords are derived here: the password is SHA-1(secret ‖ id) so any server
 * that shares the secret can verify it.
 */
import type { SessionId } from '../common/ids';

export interface TrackedSession {
  readonly id: SessionId;
  timeoutMs: number;
  expiresAtMs: number;
  /** a closeSession txn is prepared: writes get SESSIONEXPIRED, resumes are refused */
  closing: boolean;
}

/** ExpiryQueue.roundToNextInterval: the next tick boundary strictly after `timeMs`. */
export function roundToNextTick(timeMs: number, tickMs: number): number {
  return (Math.floor(timeMs / tickMs) + 1) * tickMs;
}

export class SessionTracker {
  private readonly sessions = new Map<SessionId, TrackedSession>();

  constructor(private readonly tickMs: number) {}

  add(id: SessionId, timeoutMs: number, nowMs: number): TrackedSession {
    const s: TrackedSession = { id, timeoutMs, expiresAtMs: roundToNextTick(nowMs + timeoutMs, this.tickMs), closing: false };
    this.sessions.set(id, s);
    return s;
  }

  get(id: SessionId): TrackedSession | undefined {
    return this.sessions.get(id);
  }

  has(id: SessionId): boolean {
    return this.sessions.has(id);
  }

  /** Any packet from the client pushes expiry to timeout after now (rounded up to a tick). */
  touch(id: SessionId, nowMs: number): void {
    const s = this.sessions.get(id);
    if (s && !s.closing) s.expiresAtMs = roundToNextTick(nowMs + s.timeoutMs, this.tickMs);
  }

  remove(id: SessionId): void {
    this.sessions.delete(id);
  }

  /** Sessions due to expire at `nowMs`, not already closing, by id. */
  due(nowMs: number): TrackedSession[] {
    const out: TrackedSession[] = [];
    for (const s of this.sessions.values()) if (!s.closing && s.expiresAtMs <= nowMs) out.push(s);
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  nextExpiryMs(): number | undefined {
    let min: number | undefined;
    for (const s of this.sessions.values()) if (!s.closing && (min === undefined || s.expiresAtMs < min)) min = s.expiresAtMs;
    return min;
  }

  all(): TrackedSession[] {
    return [...this.sessions.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get size(): number {
    return this.sessions.size;
  }
}

/**
 * First session id of a server, as upstream: top byte = server id, then the clock in ms
 * shifted left 24 and logically right 8; never Long.MIN_VALUE (reserved for containers).
 */
export function initialSessionId(serverId: number, nowMs: number): SessionId {
  const mask64 = (1n << 64n) - 1n;
  let v = ((BigInt(Math.floor(nowMs)) << 24n) & mask64) >> 8n;
  v |= BigInt(serverId & 0xff) << 56n;
  let id = BigInt.asIntN(64, v);
  if (id === -(2n ** 63n)) id++;
  return id;
}

export function sessionIdBytes(id: SessionId): Uint8Array {
  const out = new Uint8Array(8);
  let v = BigInt.asUintN(64, id);
  for (let i = 7; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** 16 bytes: SHA-1(secret ‖ id as 8 big-endian bytes), truncated. */
export function sessionPassword(id: SessionId, secret: Uint8Array, sha1: (b: Uint8Array) => Uint8Array): Uint8Array {
  const input = new Uint8Array(secret.length + 8);
  input.set(secret, 0);
  input.set(sessionIdBytes(id), secret.length);
  return sha1(input).slice(0, 16);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
