/**
 * What a learner forwards to its leader for a client write (the opaque `data` of ZAB's REQUEST
 * packet): the decoded request with the connection's auth ids, so the leader preps it with the
 * same identity (ZooKeeper carries them in QuorumPacket.authinfo), or a new session's
 * createSession. The session id and xid travel in the REQUEST packet itself.
 */
import { assert } from '../common/assert';
import { JuteReader, JuteWriter } from '../jute/buffer';
import { readId, writeId } from '../jute/records';
import { decodeRequest, encodeRequest } from '../jute/requests';
import type { Id, Request } from '../jute/types';

export type ForwardedRequest =
  /** `body`: the request's bytes as the client sent them (after its header), if at hand: they
   * are forwarded as they are instead of encoding `request` again (the leader decodes the same
   * bytes the learner did) */
  | { kind: 'request'; request: Request; authIds: readonly Id[]; body?: Uint8Array }
  | { kind: 'createSession'; timeoutMs: number };

const KIND_REQUEST = 1;
const KIND_CREATE_SESSION = 2;

export function encodeForwarded(f: ForwardedRequest): Uint8Array {
  // room for a typical write (path + ~100 bytes of data) without growing
  const w = new JuteWriter(256);
  if (f.kind === 'createSession') {
    w.int(KIND_CREATE_SESSION).int(f.timeoutMs);
  } else {
    w.int(KIND_REQUEST).vector(f.authIds, writeId).int(f.request.type);
    if (f.body !== undefined) w.raw(f.body);
    else encodeRequest(w, f.request);
  }
  // the writer is dropped: its buffer without a copy (take copies only a mostly-empty one)
  return w.take();
}

/** Throws a jute error on malformed bytes (a peer bug: the shell drops that learner). */
export function decodeForwarded(bytes: Uint8Array): ForwardedRequest {
  const r = new JuteReader(bytes);
  const kind = r.int();
  if (kind === KIND_CREATE_SESSION) return { kind: 'createSession', timeoutMs: r.int() };
  assert(kind === KIND_REQUEST, `unknown forwarded kind ${kind}`);
  const authIds = r.vector(readId) ?? [];
  const type = r.int();
  return { kind: 'request', request: decodeRequest(type, r), authIds };
}
