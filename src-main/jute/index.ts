/**
 * The jute codec: ZooKeeper's wire and log records, byte-exact with zookeeper.jute.
 * Pure (no sockets, no Buffer). Decoders throw JuteUnderflow (truncated), JuteFormatError
 * (malformed) or UnknownOpCodeError (no record for that opcode); `isJuteError` tells them
 * apart from bugs.
 */
import { JuteFormatError, JuteUnderflow } from './buffer';

export * from './types';
export * from './buffer';
export * from './records';
export * from './requests';
export * from './responses';
export * from './txns';
export * from './frames';
export * from './frame-decoder';

/** True for the errors a decoder throws on bad input (truncated, malformed, unknown opcode). */
export function isJuteError(e: unknown): e is JuteUnderflow | JuteFormatError {
  return e instanceof JuteUnderflow || e instanceof JuteFormatError;
}
