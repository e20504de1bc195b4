/**
 * Whole-message helpers over the record codecs: build a complete frame (int32 length +
 * payload) for each kind of message, and split a received payload into header + body.
 * Payload decoders throw JuteUnderflow / JuteFormatError / UnknownOpCodeError.
 */
import type { Zxid } from '../common/ids';
import { JuteReader, JuteWriter } from './buffer';
import {
  readConnectRequest,
  readConnectResponse,
  readReplyHeader,
  readRequestHeader,
  readWatcherEvent,
  writeConnectRequest,
  writeConnectResponse,
  writeReplyHeader,
  writeRequestHeader,
  writeWatcherEvent,
} from './records';
import { decodeRequest, encodeRequest } from './requests';
import { encodeResponse } from './responses';
import { OpCode } from './types';
import type {
  ConnectRequest,
  ConnectResponse,
  ReplyHeader,
  Request,
  RequestHeader,
  Response,
  WatcherEvent,
} from './types';

/** Special xids (§1.6). */
export const Xid = { notification: -1, ping: -2, auth: -4, setWatches: -8 } as const;

export function encodeConnectRequestFrame(c: ConnectRequest): Uint8Array {
  const w = new JuteWriter(64, true);
  writeConnectRequest(w, c);
  return w.frame();
}
export function decodeConnectRequest(payload: Uint8Array): ConnectRequest {
  return readConnectRequest(new JuteReader(payload));
}
export function encodeConnectResponseFrame(c: ConnectResponse): Uint8Array {
  const w = new JuteWriter(64, true);
  writeConnectResponse(w, c);
  return w.frame();
}
export function decodeConnectResponse(payload: Uint8Array): ConnectResponse {
  return readConnectResponse(new JuteReader(payload));
}

/** RequestHeader(xid, request.type) + body, framed. */
export function encodeRequestFrame(xid: number, request: Request): Uint8Array {
  const w = new JuteWriter(128, true);
  writeRequestHeader(w, { xid, type: request.type });
  encodeRequest(w, request);
  return w.frame();
}

/** Splits a request payload into its header and decoded body. */
export function decodeRequestFrame(payload: Uint8Array): { header: RequestHeader; request: Request } {
  const r = new JuteReader(payload);
  const header = readRequestHeader(r);
  return { header, request: decodeRequest(header.type, r) };
}

/**
 * ReplyHeader + body, framed. The body is written only when header.err is 0 and a response is
 * given: clients read no body after an error.
 */
export function encodeReplyFrame(header: ReplyHeader, response: Response | null): Uint8Array {
  const w = new JuteWriter(128);
  writeReplyFrame(w, header, response);
  return w.take();
}

/** encodeReplyFrame's frame (length prefix included) appended to `w`: a connection writes a
 * turn's replies into one buffer instead of one buffer each. */
export function writeReplyFrame(w: JuteWriter, header: ReplyHeader, response: Response | null): void {
  const at = w.length;
  w.int(0);
  writeReplyHeader(w, header);
  // a SetSASLResponse goes out even with an error (upstream always writes it; the Java client
  // reads it as the token while its SASL exchange runs, whatever err says)
  if (response !== null && (header.err === 0 || response.type === OpCode.sasl)) encodeResponse(w, response);
  w.patchInt(at, w.length - at - 4);
}

/** A watch notification: ReplyHeader(-1, zxid, 0) + WatcherEvent, framed. */
export function encodeNotificationFrame(zxid: Zxid, event: WatcherEvent): Uint8Array {
  const w = new JuteWriter(64, true);
  writeReplyHeader(w, { xid: Xid.notification, zxid, err: 0 });
  writeWatcherEvent(w, event);
  return w.frame();
}

/** Reads a reply payload's header; the returned reader is positioned at the body. */
export function decodeReplyHeader(payload: Uint8Array): { header: ReplyHeader; body: JuteReader } {
  const r = new JuteReader(payload);
  return { header: readReplyHeader(r), body: r };
}

/** Reads the WatcherEvent of a notification payload (after its ReplyHeader). */
export function decodeNotification(body: JuteReader): WatcherEvent {
  return readWatcherEvent(body);
}
