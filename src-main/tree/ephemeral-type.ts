/**
 * How ZooKeeper encodes node kinds in StatPersisted.ephemeralOwner (EphemeralType):
 * 0 = persistent, a session id = ephemeral, Long.MIN_VALUE = container,
 * top byte 0xff = TTL node with the TTL (ms) in the low 40 bits.
 */
import type { SessionId } from '../common/ids';

export const CONTAINER_EPHEMERAL_OWNER: bigint = -(2n ** 63n);
const TTL_TOP_BYTE = 0xffn;
const TTL_MASK = 0xff_ffff_ffffn; // 40 bits
export const TTL_MAX_MS: bigint = TTL_MASK;

export type NodeKind = 'persistent' | 'ephemeral' | 'container' | 'ttl';

export function nodeKind(owner: bigint): NodeKind {
  if (owner === 0n) return 'persistent';
  if (owner === CONTAINER_EPHEMERAL_OWNER) return 'container';
  if ((BigInt.asUintN(64, owner) >> 56n) === TTL_TOP_BYTE) return 'ttl';
  return 'ephemeral';
}

export function ttlOwner(ttlMs: bigint): bigint {
  return BigInt.asIntN(64, (TTL_TOP_BYTE << 56n) | (ttlMs & TTL_MASK));
}

export function ttlOf(owner: bigint): bigint {
  return BigInt.asUintN(64, owner) & TTL_MASK;
}

/** What clients see in Stat.ephemeralOwner: the session for ephemerals, 0 otherwise. */
export function clientEphemeralOwner(owner: bigint): SessionId {
  return nodeKind(owner) === 'ephemeral' ? owner : 0n;
}
