/** The simulator's options and their defaults. */

export interface SimOptions {
  readonly seed: number;
  readonly servers: number;
  readonly observers?: number;
  readonly tickMs?: number;
  readonly initLimitTicks?: number;
  readonly syncLimitTicks?: number;
  readonly finalizeWaitMs?: number;
  readonly maxNotificationIntervalMs?: number;
  readonly netDelayMsMin?: number;
  readonly netDelayMsMax?: number;
  /** chance an election message is lost */
  readonly electionDropP?: number;
  readonly fsyncMsMin?: number;
  readonly fsyncMsMax?: number;
  readonly committedLogMax?: number;
  readonly requestTimeoutMs?: number;
  /** keep every trace event (tests); otherwise only counts are kept */
  readonly keepTrace?: boolean;
  /** servers outside the initial membership (ids after the observers): they boot with the
   * members plus themselves and sync as non-voting learners until a reconfig adds them */
  readonly spares?: number;
  /** reconfigEnabled: the leader stamps the first version; `reconfig()` may be called */
  readonly reconfig?: boolean;
}

/** the options with every default filled in */
export type ResolvedSimOptions = Required<Omit<SimOptions, 'observers' | 'keepTrace' | 'spares' | 'reconfig'>> & { observers: number; keepTrace: boolean; spares: number; reconfig: boolean };

export function resolveSimOptions(o: SimOptions): ResolvedSimOptions {
  return {
    seed: o.seed,
    servers: o.servers,
    observers: o.observers ?? 0,
    tickMs: o.tickMs ?? 100,
    initLimitTicks: o.initLimitTicks ?? 10,
    syncLimitTicks: o.syncLimitTicks ?? 5,
    finalizeWaitMs: o.finalizeWaitMs ?? 200,
    maxNotificationIntervalMs: o.maxNotificationIntervalMs ?? 1600,
    netDelayMsMin: o.netDelayMsMin ?? 1,
    netDelayMsMax: o.netDelayMsMax ?? 8,
    electionDropP: o.electionDropP ?? 0,
    fsyncMsMin: o.fsyncMsMin ?? 1,
    fsyncMsMax: o.fsyncMsMax ?? 12,
    committedLogMax: o.committedLogMax ?? 50,
    requestTimeoutMs: o.requestTimeoutMs ?? 2000,
    keepTrace: o.keepTrace ?? false,
    spares: o.spares ?? 0,
    reconfig: o.reconfig ?? false,
  };
}
