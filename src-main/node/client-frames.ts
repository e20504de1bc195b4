/**
 * The client-facing half both pipelines share (standalone and quorum): a frame from a client
 * becomes a ConnectRequest or a request for the ServerCore, and the core's client effects
 * (handshake answer, replies, notifications, closes) go back onto the sockets.
 */
import {
  decodeConnectRequest,
  decodeRequest,
  encodeConnectResponseFrame,
  encodeNotificationFrame,
  isJuteError,
  JuteReader,
  readRequestHeader,
  UnknownOpCodeError,
} from '../jute/index';
import type { Request } from '../jute/types';
import type { ServerCore } from '../server/server-core';
import type { ServerEffect } from '../server/types';
import type { ClientConnection } from './client-listener';
import type { Logger } from './log';

/** The open client connections of one pipeline, and which of them have sent their ConnectRequest. */
export interface ClientTable {
  readonly conns: Map<number, ClientConnection>;
  readonly handshaken: Set<number>;
}

/**
 * Hands one client frame to the core: the first is the ConnectRequest, the rest are requests
 * (an unknown opcode reaches the core as `null`, which answers it as ZooKeeper does). A
 * malformed frame closes that one connection with a log line; everyone else carries on.
 */
export function feedClientFrame(core: ServerCore, table: ClientTable, conn: ClientConnection, payload: Uint8Array, log: Logger): void {
  try {
    if (!table.handshaken.has(conn.id)) {
      table.handshaken.add(conn.id);
      core.openConnection(conn.id, decodeConnectRequest(payload), conn.remote.replace(/:\d+$/, ''));
      return;
    }
    const r = new JuteReader(payload);
    // the payload is the frame decoder's fresh copy, held by nothing else: a request's data
    // (setData, create) can point into it instead of being copied again
    r.shareBuffers = true;
    const header = readRequestHeader(r);
    const bodyAt = r.offset;
    let request: Request | null;
    try {
      request = decodeRequest(header.type, r);
    } catch (e) {
      if (!(e instanceof UnknownOpCodeError)) throw e;
      request = null;
    }
    // a learner forwards a write's bytes as they came (no encoding it again)
    core.request(conn.id, header, request, request !== null && request.type === header.type ? payload.subarray(bodyAt) : undefined);
  } catch (e) {
    if (!isJuteError(e)) throw e;
    log.warn(`closing connection from ${conn.remote}: malformed frame (${(e as Error).message})`);
    table.conns.delete(conn.id);
    if (table.handshaken.delete(conn.id)) core.connectionClosed(conn.id);
    conn.close('malformed frame');
  }
}

/** Carries out a core effect that concerns only client sockets; false for every other kind. */
export function applyClientEffect(e: ServerEffect, table: ClientTable): boolean {
  switch (e.kind) {
    case 'connect-response': {
      const c = table.conns.get(e.connId);
      if (!c) return true;
      c.markEstablished();
      c.sendFramed(encodeConnectResponseFrame(e.response));
      return true;
    }
    case 'reply':
      table.conns.get(e.connId)?.sendReply(e.header, e.response);
      return true;
    case 'notification':
      table.conns.get(e.connId)?.sendFramed(encodeNotificationFrame(e.zxid, e.event));
      return true;
    case 'close': {
      const c = table.conns.get(e.connId);
      table.conns.delete(e.connId);
      table.handshaken.delete(e.connId);
      c?.close(e.reason);
      return true;
    }
    default:
      return false;
  }
}
