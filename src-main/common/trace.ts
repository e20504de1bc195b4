/**
 * The one trace-event vocabulary. Servers write these as NDJSON (one event a line); the
 * supervisor relays them, the simulator's checkers read them, and the app draws the write
 * path and elections from them. zxids and session ids are hex strings here (text boundary).
 */
export type TraceKind =
  // server lifecycle
  | 'server.started'
  | 'server.serving'
  | 'server.stopping'
  | 'server.role'
  // election
  | 'election.started'
  | 'election.vote.sent'
  | 'election.vote.received'
  | 'election.decided'
  // ZAB discovery/sync
  | 'zab.sync.sent'
  | 'zab.sync.received'
  | 'zab.newleader'
  | 'zab.uptodate'
  // write path
  | 'request.received'
  | 'request.forwarded'
  | 'zab.proposal.sent'
  | 'zab.proposal.received'
  | 'txnlog.append'
  | 'txnlog.fsync.done'
  | 'zab.ack.sent'
  | 'zab.ack.received'
  | 'zab.quorum.reached'
  | 'zab.commit.sent'
  | 'zab.commit.received'
  | 'txn.applied'
  | 'request.replied'
  | 'read.local'
  // sessions and watches
  | 'session.created'
  | 'session.closed'
  | 'session.expired'
  | 'watch.fired'
  // faults and supervisor
  | 'fault.set'
  | 'fault.healed'
  | 'snapshot.taken'
  | 'txnlog.truncated'
  // dynamic reconfiguration: a reconfig request prepped (or refused) at the leader; a server
  // switching to a new membership (detail: version, voters, observers)
  | 'reconfig.prepped'
  | 'reconfig.activated';

export interface TraceEvent {
  /** wall-clock ms since epoch (from the Env clock: fake in simulation). */
  readonly t: number;
  readonly kind: TraceKind;
  /** the server that wrote the event (myid). */
  readonly server: number;
  /** current epoch as the server sees it. */
  readonly epoch?: number;
  /** zxid in hex, e.g. "0x100000003". */
  readonly zxid?: string;
  /** originating client session id (hex) and xid, when the event belongs to a request. */
  readonly session?: string;
  readonly xid?: number;
  /** peer server id for messages (sent to / received from). */
  readonly peer?: number;
  /** opcode name for requests, e.g. "setData". */
  readonly op?: string;
  readonly path?: string;
  /** anything else specific to the kind (vote contents, role name, error code, fault). */
  readonly detail?: Readonly<Record<string, string | number | boolean | null>>;
}

export interface TraceSink {
  emit(event: TraceEvent): void;
}

export const nullTraceSink: TraceSink = { emit() {} };
