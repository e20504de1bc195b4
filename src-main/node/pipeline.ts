/**
 * The seam between the client listener (sockets) and the request pipeline (the pure
 * ServerCore in src-main/server, with the txn log from src-main/storage). server-main only
 * sees this interface: the listener hands it frames, four-letter words read its status.
 *
 * Where no pipeline is wired in yet (quorum members, until ZAB lands), it is the honest "not serving" one: srvr says
 * "This ZooKeeper instance is not currently serving requests" (as ZooKeeper does while it is not
 * running) and a client's first frame closes its connection, as a non-serving ZooKeeper does.
 */
import type { TraceSink } from '../common/trace';
import type { ZooCfg } from './config';
import type { Membership } from '../common/membership';
import type { ConnectionHandler } from './client-listener';
import type { FourLetterDetails, ServerStats, ServerStatus } from './four-letter-words';
import type { Logger } from './log';
import { createStandalonePipeline } from './standalone-pipeline';

export interface RequestPipeline {
  readonly handler: ConnectionHandler;
  status(): ServerStatus;
  /** after the client port is bound: recover, start timers */
  start(): Promise<void>;
  /** flush and close; the listener is already closed */
  stop(): Promise<void>;
  /** srst / crst */
  resetStats?(): void;
  resetConnectionStats?(): void;
  /** a message from the supervisor's control channel (e.g. `{ faults: LinkRule[] }`) */
  control?(message: unknown): void;
  /** the trace level (trace-out.ts): whether the per-write events are made; off without a sink */
  setTraceWrites?(on: boolean): void;
  /** sessions, connections and watches for cons / wchs / wchc / wchp / dump */
  details?(): FourLetterDetails | null;
  /** a quorum member: the membership it works with now (conf) */
  membership?(): Membership | null;
}

export interface PipelineDeps {
  cfg: ZooCfg;
  myid: number | null;
  log: Logger;
  stats: ServerStats;
  trace: TraceSink;
  /** make the per-write trace events from the start (default true; never without a sink) */
  traceWrites?: boolean;
}

export function notServingPipeline(deps: PipelineDeps): RequestPipeline {
  const status: ServerStatus = {
    mode: null,
    zxid: 0n,
    nodeCount: 0,
    outstanding: 0,
    watchCount: 0,
    ephemeralsCount: 0,
    approximateDataSize: 0,
  };
  return {
    handler: {
      opened() {},
      frame(conn) {
        deps.log.info(`closing connection from ${conn.remote}: this server is not serving requests`);
        conn.close('not serving');
      },
      closed() {},
    },
    status: () => status,
    start: async () => {
      deps.log.warn('the request pipeline is not available in this build: answering four-letter words only');
    },
    stop: async () => {},
  };
}

/** Standalone servers run the ServerCore with the txn log; quorum members run election + ZAB. */
export async function createPipeline(deps: PipelineDeps): Promise<RequestPipeline> {
  // standalone is loaded with the server (one wave of module loading at start, not two);
  // a quorum member loads election and ZAB on demand
  if (!deps.cfg.distributed) return createStandalonePipeline(deps);
  const { createQuorumPipeline } = await import('./quorum-pipeline');
  return createQuorumPipeline(deps);
}
