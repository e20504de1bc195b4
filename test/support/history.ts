/**
 * Recording what real clients did to compare-and-set registers kept in znodes, for the
 * linearizability checker (src-main/sim/linearizability.ts), plus a workload of sequential
 * clients that read, sync+read, write, cas and create under faults.
 *
 * Every operation is stamped with one clock (performance.now in this process) at invocation
 * and at reply. Outcomes: a reply → ok; BADVERSION → fail (a definite refusal); connection
 * loss, request timeout, session expiry, … → unknown (it may or may not have taken effect).
 */
import { createRequire } from 'node:module';
import { connectClient, KeeperError } from '../../src-main/client/index';
import type { ZkClient } from '../../src-main/client/index';
import { ErrorCode } from '../../src-main/common/error-codes';
import type { HistoryOp, RegisterCall, RegisterOutcome } from '../../src-main/sim/linearizability';
import { Prng } from '../../src-main/sim/prng';

const text = (b: Uint8Array | null): string => new TextDecoder().decode(b ?? new Uint8Array());

/* eslint-disable @typescript-eslint/no-explicit-any -- node-zookeeper-client is untyped JavaScript */
const nzk = createRequire(import.meta.url)('node-zookeeper-client') as any;
/** node-zookeeper-client error codes after which an op may or may not have taken effect */
const NZK_UNCERTAIN = new Set<number>([-4, -7, -112, -118]);

/** Errors after which the operation may or may not have taken effect. */
const UNCERTAIN = new Set<number>([ErrorCode.CONNECTIONLOSS, ErrorCode.OPERATIONTIMEOUT, ErrorCode.REQUESTTIMEOUT, ErrorCode.SESSIONEXPIRED, ErrorCode.SESSIONMOVED]);

export class HistoryRecorder {
  readonly ops: HistoryOp[] = [];
  /** errors no register operation should ever get (NONODE on a register, a crash of the client…) */
  readonly unexpected: string[] = [];
  /** creates of unique znodes: acknowledged ones must be on every server; unknown ones may be */
  readonly ackedCreates = new Set<string>();
  readonly unknownCreates = new Set<string>();
  /**
   * Pipelined creates per session, in the order sent, with the connection they went out on
   * (null when sent while disconnected: the client queues it for the next connection). Writes
   * from one session apply in the order sent: on one connection, an acknowledged create means
   * every earlier create on that connection took effect too.
   */
  readonly pipelined = new Map<string, { path: string; connection: number | null; acked: boolean }[]>();
  /** performance.now() at creation: every time in `ops` is relative to it */
  readonly t0Ms = performance.now();

  now(): number {
    return performance.now() - this.t0Ms;
  }

  /** Run one register operation and record it; returns the outcome. */
  async run(client: string, key: string, call: RegisterCall, act: () => Promise<RegisterOutcome>, invokeMs = this.now()): Promise<RegisterOutcome> {
    let outcome: RegisterOutcome;
    try {
      outcome = await act();
    } catch (e) {
      outcome = this.classify(e, `${client} ${call.kind} ${key}`);
    }
    this.ops.push({ client, key, call, outcome, invokeMs, returnMs: this.now() });
    return outcome;
  }

  classify(e: unknown, what: string): RegisterOutcome {
    if (e instanceof KeeperError) {
      if (e.code === ErrorCode.BADVERSION) return { status: 'fail', reason: 'BADVERSION' };
      if (UNCERTAIN.has(e.code)) return { status: 'unknown', reason: e.codeName };
    }
    this.unexpected.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    return { status: 'unknown', reason: e instanceof Error ? e.message : String(e) };
  }

  counts(): { ok: number; fail: number; unknown: number; acked: number } {
    let ok = 0;
    let fail = 0;
    let unknown = 0;
    let acked = 0;
    for (const op of this.ops) {
      if (op.outcome.status === 'ok') {
        ok += 1;
        if (op.call.kind !== 'read') acked += 1;
      } else if (op.outcome.status === 'fail') fail += 1;
      else unknown += 1;
    }
    return { ok, fail, unknown, acked: acked + this.ackedCreates.size };
  }

  /** acknowledged register writes (write/cas with an ok reply) plus acknowledged creates */
  ackedWrites(): number {
    return this.counts().acked;
  }

  /** acknowledged register writes only (write/cas with an ok reply) */
  ackedRegisterWrites(): number {
    return this.counts().acked - this.ackedCreates.size;
  }
}

export interface WorkloadOptions {
  connectString: string;
  /** register znodes (created by `setup` with data '' and version 0) */
  keys: readonly string[];
  /** where unique creates go (created by `setup`) */
  createsUnder: string;
  clients: number;
  seed: number;
  /** prefix of client names (and of unique values and created paths): two workloads on one ensemble need different ones */
  namePrefix?: string;
  sessionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** per client, an upper bound on operations (the workload also stops on stop()) */
  opsPerClientMax?: number;
  /** more sequential clients, on node-zookeeper-client (plain reads, writes, cas; it has no sync) */
  nzkClients?: number;
  /** per session, creates kept outstanding beside the register ops (default 0: none) */
  pipelinedCreates?: number;
  /** per session, at most this many pipelined creates in all (default 150), so the tree stays small */
  pipelinedCreatesMax?: number;
}

/**
 * `clients` sequential clients, each on its own session, each doing one operation at a time on
 * random registers: 25% plain read, 25% sync+read, 25% cas on the version it last saw, 10%
 * blind write, 15% create of a unique znode. A client whose session expired starts a new one
 * (a new client name: program order is per session).
 */
export class RegisterWorkload {
  readonly recorder = new HistoryRecorder();
  private stopping = false;
  private readonly loops: Promise<void>[] = [];
  private readonly live = new Set<ZkClient>();
  private readonly liveNzk = new Set<any>();

  constructor(private readonly o: WorkloadOptions) {}

  /** Create the registers and the folder for creates (idempotent), through a short-lived session. */
  static async setup(connectString: string, keys: readonly string[], createsUnder: string): Promise<void> {
    const c = await connectClient(connectString, { sessionTimeoutMs: 10_000 }, 20_000);
    try {
      const parents = new Set<string>([createsUnder, ...keys.map((k) => k.slice(0, k.lastIndexOf('/')))].filter((p) => p.length > 0));
      for (const p of [...parents].sort()) await c.create(p, '').catch((e: unknown) => ignoreExists(e));
      for (const k of keys) await c.create(k, '').catch((e: unknown) => ignoreExists(e));
    } finally {
      await c.close();
    }
  }

  start(): void {
    for (let i = 0; i < this.o.clients; i += 1) this.loops.push(this.clientLoop(i));
    for (let i = 0; i < (this.o.nzkClients ?? 0); i += 1) this.loops.push(this.nzkLoop(i));
  }

  /** Stop issuing operations, let each client finish its current one, close the sessions. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
  }

  /** Close every session at once without waiting for loops (cleanup after a failure). */
  async abort(): Promise<void> {
    this.stopping = true;
    for (const c of this.liveNzk) c.close();
    await Promise.all([...this.live].map((c) => c.close().catch(() => {})));
  }

  private async clientLoop(index: number): Promise<void> {
    const rnd = new Prng((this.o.seed * 7919 + index * 104_729) >>> 0);
    // each client starts on a different server so the load spreads; it moves on by itself
    const hosts = this.o.connectString.split(',');
    const shift = index % hosts.length;
    const connectString = [...hosts.slice(shift), ...hosts.slice(0, shift)].join(',');
    const opsMax = this.o.opsPerClientMax ?? 5000;
    let generation = 0;
    let ops = 0;
    while (!this.stopping && ops < opsMax) {
      const name = `${this.o.namePrefix ?? ''}c${index}.${generation}`;
      let client: ZkClient;
      try {
        client = await connectClient(connectString, { sessionTimeoutMs: this.o.sessionTimeoutMs ?? 8000, requestTimeoutMs: this.o.requestTimeoutMs ?? 4000 }, 15_000);
      } catch {
        generation += 1;
        continue; // no server granted a session in time (no quorum): try again, bounded by stop()
      }
      this.live.add(client);
      const seen = new Map<string, number>();
      const pipeline = this.pipeline(client, name);
      try {
        while (!this.stopping && ops < opsMax && client.state !== 'expired' && client.state !== 'closed') {
          ops += 1;
          pipeline.topUp();
          await this.oneOp(client, name, rnd, seen, `${name}-${ops}`);
        }
      } finally {
        await pipeline.drain();
        this.live.delete(client);
        await client.close().catch(() => {});
      }
      generation += 1;
    }
  }

  /**
   * A node-zookeeper-client session doing plain reads, blind writes and cas, one at a time.
   * Its retries are off (a retried cas after connection loss would report BADVERSION for a
   * write that took effect). It has no request timeout: an op unanswered for 5 s is recorded
   * as unknown and the session is dropped for a new one.
   */
  private async nzkLoop(index: number): Promise<void> {
    const rnd = new Prng((this.o.seed * 31 + index * 7_919 + 17) >>> 0);
    const rec = this.recorder;
    const opsMax = this.o.opsPerClientMax ?? 5000;
    let ops = 0;
    for (let generation = 0; !this.stopping && ops < opsMax; generation += 1) {
      const name = `${this.o.namePrefix ?? ''}nzk${index}.${generation}`;
      const client = nzk.createClient(this.o.connectString, { sessionTimeout: this.o.sessionTimeoutMs ?? 8000, retries: 0 });
      let broken = false;
      client.on('state', (st: any) => {
        if (st === nzk.State.EXPIRED) broken = true;
      });
      client.connect();
      this.liveNzk.add(client);
      const seen = new Map<string, number>();
      const call = <T>(f: (cb: (e: any, a?: any, b?: any) => void) => void, map: (a: any, b: any) => T): Promise<T> =>
        new Promise<T>((resolve, reject) => {
          const timer = setTimeout(() => {
            broken = true;
            reject(new KeeperError(ErrorCode.REQUESTTIMEOUT, undefined, 'node-zookeeper-client: no answer within 5 s'));
          }, 5000);
          f((e, a, b) => {
            clearTimeout(timer);
            if (!e) resolve(map(a, b));
            else if (typeof e.getCode === 'function') reject(new KeeperError(NZK_UNCERTAIN.has(e.getCode()) ? ErrorCode.CONNECTIONLOSS : e.getCode(), undefined, String(e.message ?? e)));
            else reject(e instanceof Error ? e : new Error(String(e)));
          });
        });
      try {
        while (!this.stopping && ops < opsMax && !broken) {
          ops += 1;
          const key = this.o.keys[Math.floor(rnd.float() * this.o.keys.length)] as string;
          const r = rnd.float();
          const value = `${name}-${ops}`;
          if (r < 0.45) {
            await rec.run(name, key, { kind: 'read' }, () =>
              call(
                (cb) => client.getData(key, cb),
                (data: Buffer | undefined, stat: any) => {
                  seen.set(key, stat.version);
                  return { status: 'ok', value: text(data ?? null), version: stat.version } as const;
                },
              ),
            );
          } else if (r < 0.85) {
            const expectedVersion = seen.get(key) ?? 0;
            await rec.run(name, key, { kind: 'cas', expectedVersion, value }, () =>
              call(
                (cb) => client.setData(key, Buffer.from(value), expectedVersion, cb),
                (stat: any) => {
                  seen.set(key, stat.version);
                  return { status: 'ok', version: stat.version } as const;
                },
              ),
            );
          } else {
            await rec.run(name, key, { kind: 'write', value }, () =>
              call(
                (cb) => client.setData(key, Buffer.from(value), -1, cb),
                (stat: any) => ({ status: 'ok', version: stat.version }) as const,
              ),
            );
          }
        }
      } finally {
        this.liveNzk.delete(client);
        client.close();
      }
    }
  }

  /**
   * Pipelined creates on this session: before each register op, top up to `pipelinedCreates`
   * outstanding creates, sent back to back (so they spread over the whole run and some are
   * always in flight when a fault hits). Bounded by `pipelinedCreatesMax`.
   */
  private pipeline(client: ZkClient, name: string): { topUp(): void; drain(): Promise<void> } {
    const depth = this.o.pipelinedCreates ?? 0;
    const max = this.o.pipelinedCreatesMax ?? 150;
    const rec = this.recorder;
    let connection = client.isConnected ? 1 : 0;
    const onConnected = (): void => {
      connection += 1;
    };
    client.on('connected', onConnected);
    const log: { path: string; connection: number | null; acked: boolean }[] = [];
    if (depth > 0) rec.pipelined.set(name, log);
    const inFlight = new Set<Promise<void>>();
    return {
      topUp: () => {
        while (inFlight.size < depth && log.length < max && client.state !== 'expired' && client.state !== 'closed') {
          const entry = { path: `${this.o.createsUnder}/${name}-p${log.length + 1}`, connection: client.isConnected ? connection : null, acked: false };
          log.push(entry);
          const p: Promise<void> = client
            .create(entry.path, 'p')
            .then(() => {
              entry.acked = true;
              rec.ackedCreates.add(entry.path);
            })
            .catch((e: unknown) => {
              if (rec.classify(e, `${name} pipelined create ${entry.path}`).status === 'unknown') rec.unknownCreates.add(entry.path);
            })
            .finally(() => inFlight.delete(p));
          inFlight.add(p);
        }
      },
      drain: async () => {
        await Promise.all(inFlight);
        client.off('connected', onConnected);
      },
    };
  }

  private async oneOp(c: ZkClient, name: string, rnd: Prng, seen: Map<string, number>, unique: string): Promise<void> {
    const rec = this.recorder;
    const key = this.o.keys[Math.floor(rnd.float() * this.o.keys.length)] as string;
    const r = rnd.float();
    if (r < 0.25) {
      await rec.run(name, key, { kind: 'read' }, async () => {
        const { data, stat } = await c.getData(key);
        seen.set(key, stat.version);
        return { status: 'ok', value: text(data), version: stat.version };
      });
    } else if (r < 0.5) {
      // the read's invocation is the sync's: the pair must see everything acknowledged before the sync started
      const invokeMs = rec.now();
      await rec.run(
        name,
        key,
        { kind: 'read', afterSync: true },
        async () => {
          await c.sync(key);
          const { data, stat } = await c.getData(key);
          seen.set(key, stat.version);
          return { status: 'ok', value: text(data), version: stat.version };
        },
        invokeMs,
      );
    } else if (r < 0.75) {
      const expectedVersion = seen.get(key) ?? 0;
      await rec.run(name, key, { kind: 'cas', expectedVersion, value: unique }, async () => {
        const stat = await c.setData(key, unique, expectedVersion);
        seen.set(key, stat.version);
        return { status: 'ok', version: stat.version };
      });
    } else if (r < 0.85) {
      await rec.run(name, key, { kind: 'write', value: unique }, async () => {
        const stat = await c.setData(key, unique, -1);
        seen.set(key, stat.version);
        return { status: 'ok', version: stat.version };
      });
    } else {
      const path = `${this.o.createsUnder}/${unique}`;
      try {
        await c.create(path, unique);
        rec.ackedCreates.add(path);
      } catch (e) {
        const o = rec.classify(e, `${name} create ${path}`);
        if (o.status === 'unknown') rec.unknownCreates.add(path);
      }
    }
  }
}

function ignoreExists(e: unknown): void {
  if (e instanceof KeeperError && e.code === ErrorCode.NODEEXISTS) return;
  throw e;
}
