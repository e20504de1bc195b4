/**
 * The links between the servers of an ensemble, over TCP on 127.0.0.1 (or the hosts of the
 * server.N lines), as ZooKeeper runs them:
 *
 * - election port (QuorumCnxManager): one connection per pair, the one the HIGHER sid dialled.
 *   A lower sid that wants to talk dials, says hello, and is hung up on; the higher side dials
 *   back. Messages may be lost (the election resends).
 * - quorum port: one connection per learner, dialled by the learner when it sends FOLLOWERINFO
 *   or OBSERVERINFO; the leader answers on the connection it accepted.
 *
 * Every link obeys a fault table the supervisor sets (over the server's control channel):
 * a blocked link loses election messages and has no quorum connection (an open one is cut,
 * new ones are refused), and a delayed link holds each message for its delay, in order. The
 * sender applies the delay (once); when the table changes, messages already waiting take the
 * delay now in force, counted from when they were sent: a heal lets them all go at once.
 */
export { FaultTable } from './link-faults';
export type { LinkRule } from './link-faults';
export { DelayedWriter } from './link-writer';
export type { PeerAddress } from './link-writer';
export { ElectionNetwork } from './election-network';
export type { ElectionNetworkOptions } from './election-network';
export { QuorumNetwork } from './quorum-network';
export type { HeldMessage, QuorumNetworkOptions } from './quorum-network';
