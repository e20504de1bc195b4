/** Types of wire.mjs (the bench stays plain JavaScript so it runs without a build of its own). */
import type { Socket } from 'node:net';

export declare const OP: { create: 1; getData: 4; setData: 5; closeSession: -11 };
export declare function createBody(path: string, data: Buffer | null, flags?: number): Buffer;
export declare function getDataBody(path: string, watch?: boolean): Buffer;
export declare function setDataBody(path: string, data: Buffer | null, version?: number): Buffer;
export declare function requestFrame(xid: number, type: number, body: Buffer): Buffer;
export declare function connectRequestFrame(timeOutMs?: number): Buffer;
export declare class WireSession {
  readonly socket: Socket;
  static open(port: number, host?: string, timeoutMs?: number): Promise<WireSession>;
  send(type: number, body: Buffer): Promise<number>;
  close(): Promise<void>;
}
