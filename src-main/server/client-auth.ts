/**
 * A connection's identities: `addauth` (opcode 100) and SASL DIGEST-MD5 (opcode 102). Each
 * changes the connection's auth ids and gives the reply, which ServerCore queues in request order.
 */
import { ErrorCode } from '../common/error-codes';
import { OpCode } from '../jute/types';
import { SUPER_ID, authenticate } from '../tree/acl';
import type { Conn } from './connection';
import type { Reply } from './replies';
import { DigestMd5Server } from './sasl-digest-md5';
import type { ServerEnv } from './types';

export interface AuthOptions {
  superDigest?: string;
  saslUsers?: ReadonlyMap<string, string>;
  saslSuperUser?: string;
}

/** `addauth`: a bad credential dooms the connection (AUTHFAILED, then close). */
export function addAuth(conn: Conn, scheme: string, auth: Uint8Array | null, env: ServerEnv, opts: AuthOptions): Reply {
  // ids apply at once (later requests are prepped with them); the reply keeps its place in order
  const ids = authenticate(scheme, auth, { remoteAddress: conn.remoteAddress, sha1: env.digestSha1, superDigest: opts.superDigest });
  if (ids === null) {
    conn.doomed = true;
    return { err: ErrorCode.AUTHFAILED, response: null, closeAfter: true, zxid: 0n };
  }
  const next = [...conn.authIds];
  for (const id of ids) if (!next.some((x) => x.scheme === id.scheme && x.id === id.id)) next.push(id);
  conn.authIds = next;
  return { err: 0, response: null, zxid: 0n };
}

/** One SASL round trip. */
export function saslStep(conn: Conn, token: Uint8Array | null, env: ServerEnv, opts: AuthOptions): Reply {
  // DIGEST-MD5 against the JAAS users (sasl-digest-md5.ts). Without them, as upstream with no
  // JAAS section: an empty token, no identity added, the connection stays. Replies carry zxid 0.
  const users = opts.saslUsers;
  if (users === undefined || env.md5 === undefined) return { err: 0, response: { type: OpCode.sasl, token: null }, zxid: 0n };
  conn.sasl ??= new DigestMd5Server({ users, md5: env.md5, random: env.random });
  const step = conn.sasl.evaluate(token);
  if (step.kind === 'failure') {
    // as ZooKeeper: AUTHFAILED, then the connection (not the session) is closed
    conn.doomed = true;
    return { err: ErrorCode.AUTHFAILED, response: { type: OpCode.sasl, token: null }, bodyOnError: true, closeAfter: true, zxid: 0n };
  }
  if (step.kind === 'success') {
    const superId = step.authorizationId === opts.saslSuperUser ? [{ ...SUPER_ID }] : [];
    conn.authIds = [...conn.authIds, { scheme: 'sasl', id: step.authorizationId }, ...superId];
  }
  return { err: 0, response: { type: OpCode.sasl, token: step.token }, zxid: 0n };
}
