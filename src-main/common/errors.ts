/**
 * Operational failures (IO, configuration, ports, processes) as error classes with a stable
 * code and a message a person can act on. Protocol outcomes are NOT errors: see error-codes.ts.
 */
export type ZooLabErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_NOT_FOUND'
  | 'MYID_INVALID'
  | 'PORT_IN_USE'
  | 'DATADIR_NOT_WRITABLE'
  | 'STORAGE_CORRUPT'
  | 'PROCESS_FAILED'
  | 'TIMEOUT'
  | 'USAGE'
  | 'CONNECTION'
  | 'NOT_FOUND';

export class ZooLabError extends Error {
  override name = 'ZooLabError';
  constructor(
    readonly code: ZooLabErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isZooLabError(e: unknown, code?: ZooLabErrorCode): e is ZooLabError {
  return e instanceof ZooLabError && (code === undefined || e.code === code);
}
