/**
 * KeeperError: a ZooKeeper error code returned to a client call (NONODE, BADVERSION, ...) or
 * raised by the client itself (CONNECTIONLOSS, SESSIONEXPIRED, REQUESTTIMEOUT).
 */
import { ErrorCode, errorCodeName } from '../common/error-codes';
import type { MultiResult } from '../jute/types';

export class KeeperError extends Error {
  override name = 'KeeperError';
  /** ZooKeeper's name for the code, e.g. "NONODE" */
  readonly codeName: string;

  constructor(
    /** the numeric code as it travels in ReplyHeader.err, e.g. -101 */
    readonly code: number,
    /** the (client-side, chroot-relative) path of the call, when it had one */
    readonly path?: string,
    /** what happened, beyond the code (e.g. why the connection was lost) */
    readonly detail?: string,
    /** for a failed multi: every op's result (the failing op and the aborted ones as errors) */
    readonly results?: MultiResult[],
  ) {
    const codeName = errorCodeName(code);
    super(`${codeName}${path !== undefined ? ` ${path}` : ''}${detail !== undefined ? `: ${detail}` : ''}`);
    this.codeName = codeName;
  }
}

export function isKeeperError(e: unknown, code?: number): e is KeeperError {
  return e instanceof KeeperError && (code === undefined || e.code === code);
}

export function connectionLoss(detail: string): KeeperError {
  return new KeeperError(ErrorCode.CONNECTIONLOSS, undefined, detail);
}
