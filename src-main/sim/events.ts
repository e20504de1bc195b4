/**
 * The simulator's agenda items and which server each one runs on (a paused server's events
 * wait until it resumes).
 */
import type { Notification, ElectionTimer } from '../zab/election';
import type { Sid } from '../zab/quorum';

export type SimEvent =
  | { k: 'elec'; from: Sid; to: Sid; msg: Notification }
  | { k: 'pump'; conn: number; from: Sid; to: Sid }
  | { k: 'closed'; conn: number; to: Sid; inc: number; peer: Sid }
  | { k: 'connFail'; to: Sid; inc: number; peer: Sid }
  | { k: 'etimer'; sid: Sid; inc: number; timer: ElectionTimer; gen: number }
  /** the election port of `peer` refused `sid`'s dial (it is down) */
  | { k: 'unreachable'; sid: Sid; inc: number; peer: Sid }
  | { k: 'tick'; sid: Sid; inc: number }
  | { k: 'fsync'; sid: Sid; inc: number; upTo: number }
  | { k: 'client'; cid: number; gen: number }
  | { k: 'call'; fn: () => void; on?: Sid };

/** the server an event runs on (for pausing), if any */
export function eventTarget(ev: SimEvent): Sid | null {
  switch (ev.k) {
    case 'elec':
    case 'pump':
    case 'closed':
    case 'connFail':
      return ev.to;
    case 'etimer':
    case 'unreachable':
    case 'tick':
    case 'fsync':
      return ev.sid;
    case 'call':
      return ev.on ?? null;
    case 'client':
      return null;
  }
}
