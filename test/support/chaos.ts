/**
 * Helpers for the chaos tests (test/integration/chaos-*.test.ts): an ensemble whose folder is
 * kept when a test fails (server logs, data dirs, trace.ndjson for the report), srvr polling
 * with short deadlines (a paused server must not hold anyone), and the end-of-run checks:
 * every acknowledged write on every server, identical trees and zxids, and the recorded
 * register history linearizable (writes + reads after sync) and sequentially consistent
 * (plain reads).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectClient, KeeperError } from '../../src-main/client/index';
import type { ZkClient } from '../../src-main/client/index';
import { ErrorCode } from '../../src-main/common/error-codes';
import { parseSrvr } from '../../src-main/node/four-letter-words';
import type { SrvrReport } from '../../src-main/node/four-letter-words';
import { checkRegisterHistory, describeOp } from '../../src-main/sim/linearizability';
import type { CheckResult } from '../../src-main/sim/linearizability';
import { startEnsemble } from '../../src-main/supervisor';
import type { LocalEnsemble, StartEnsembleOptions } from '../../src-main/supervisor';
import { askFourLetterWord } from '../../src-main/supervisor/four-letter-client';
import type { HistoryRecorder, RegisterWorkload } from './history';

const text = (b: Uint8Array | null): string => new TextDecoder().decode(b ?? new Uint8Array());

/** Short ticks so faults are detected fast: a follower silent for syncLimit×tickTime = 1 s is dropped. */
export const CHAOS_TIMING = { tickTimeMs: 200, initLimit: 10, syncLimit: 5 } as const;

/** The seed for the workload's choices and the victims: CHAOS_SEED=n replays the same choices. */
export function chaosSeed(): number {
  const fromEnv = Number(process.env.CHAOS_SEED);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 1 + Math.floor(Math.random() * 1_000_000);
}

export interface ChaosEnsemble {
  zk: LocalEnsemble;
  /** call when a test failed: the folder is kept and named in the output */
  markFailed(): void;
  /** stop every server; remove the folder unless a test failed */
  stop(): Promise<void>;
}

export async function startChaosEnsemble(label: string, options: StartEnsembleOptions): Promise<ChaosEnsemble> {
  const dir = mkdtempSync(join(tmpdir(), `zoolab-chaos-${label}-`));
  let failed = false;
  let zk: LocalEnsemble;
  try {
    zk = await startEnsemble({ ...CHAOS_TIMING, pollIntervalMs: 100, stopTimeoutMs: 3000, ...options, dir, removeDirOnShutdown: false });
  } catch (e) {
    // keep the folder: server<N>/logs/server.log says why they did not start
    console.log(`[chaos ${label}] the ensemble did not start; folder kept at ${dir}`);
    throw e;
  }
  return {
    zk,
    markFailed() {
      failed = true;
    },
    async stop() {
      await zk.stop();
      if (failed) console.log(`[chaos ${label}] a test failed: ensemble folder kept at ${dir} (server<N>/logs/server.log, trace.ndjson)`);
      else rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** srvr of one server, or null when it does not answer within timeoutMs (dead, paused, busy). */
export async function srvr(zk: LocalEnsemble, id: number, timeoutMs = 500): Promise<SrvrReport | null> {
  const s = zk.server(id);
  if (s.state !== 'running' && s.state !== 'starting') return null;
  try {
    return parseSrvr(await askFourLetterWord('127.0.0.1', s.clientPort, 'srvr', timeoutMs));
  } catch {
    return null;
  }
}

export async function srvrAll(zk: LocalEnsemble, ids = zk.servers().map((s) => s.id)): Promise<Map<number, SrvrReport | null>> {
  const reports = await Promise.all(ids.map(async (id) => [id, await srvr(zk, id)] as const));
  return new Map(reports);
}

/** Poll srvr (Mode) until exactly one of `among` leads, serving, with at least `followers` of them following it. */
export async function waitForLeader(zk: LocalEnsemble, among: readonly number[], followers: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const reports = await srvrAll(zk, [...among]);
    const leaders = [...reports].filter(([, r]) => r?.serving && r.mode === 'leader').map(([id]) => id);
    const following = [...reports].filter(([, r]) => r?.serving && r.mode === 'follower').length;
    if (leaders.length === 1 && following >= followers) return leaders[0] as number;
    last = [...reports].map(([id, r]) => `${id}:${r === null ? 'no answer' : r.serving ? r.mode : 'not serving'}`).join(' ');
    if (Date.now() > deadline) throw new Error(`no leader with ${followers} followers among ${among.join(',')} within ${timeoutMs} ms (srvr modes: ${last})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Wait until every listed server answers srvr with the same zxid (nothing in flight). */
export async function waitForSameZxid(zk: LocalEnsemble, ids: readonly number[], timeoutMs: number): Promise<bigint> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const reports = await srvrAll(zk, [...ids]);
    const zxids = [...reports.values()].map((r) => r?.zxid ?? null);
    if (zxids.every((z) => z !== null && z === zxids[0])) return zxids[0] as bigint;
    last = [...reports].map(([id, r]) => `${id}:${r?.zxid === null || r === null ? '?' : `0x${r.zxid.toString(16)}`}`).join(' ');
    if (Date.now() > deadline) throw new Error(`servers ${ids.join(',')} did not reach the same zxid within ${timeoutMs} ms (${last})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Wait until `write` succeeds (retrying on uncertain errors) within timeoutMs; returns how long it took. */
export async function firstAckedWrite(write: () => Promise<unknown>, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  let last: unknown = null;
  while (Date.now() - t0 < timeoutMs) {
    try {
      await write();
      return Date.now() - t0;
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw new Error(`no write acknowledged within ${timeoutMs} ms (last error: ${last instanceof Error ? last.message : String(last)})`);
}

/** Through one server only: sync + getData of each key, recorded in the history as reads after sync. */
export async function syncReadOn(rec: HistoryRecorder, port: number, keys: readonly string[], client: string): Promise<void> {
  const c = await connectClient(`127.0.0.1:${port}`, { sessionTimeoutMs: 10_000, requestTimeoutMs: 5_000 }, 15_000);
  try {
    for (const key of keys) {
      await rec.run(client, key, { kind: 'read', afterSync: true }, async () => {
        await c.sync(key);
        const { data, stat } = await c.getData(key);
        return { status: 'ok', value: text(data), version: stat.version };
      });
    }
  } finally {
    await c.close();
  }
}

/** The whole tree as seen by one server after sync: path → data + full stat. Bounded in node count; pipelined by level. */
export async function dumpTree(port: number, nodesMax = 50_000): Promise<Map<string, string>> {
  const c = await connectClient(`127.0.0.1:${port}`, { sessionTimeoutMs: 10_000, requestTimeoutMs: 10_000 }, 15_000);
  try {
    await c.sync('/');
    const out = new Map<string, string>();
    let level = ['/'];
    while (level.length > 0) {
      if (out.size + level.length > nodesMax) throw new Error(`127.0.0.1:${port}: more than ${nodesMax} znodes`);
      const next: string[] = [];
      for (let i = 0; i < level.length; i += 256) {
        const batch = level.slice(i, i + 256);
        const rows = await Promise.all(batch.map(async (path) => ({ path, got: await c.getData(path), children: await c.getChildren(path) })));
        for (const { path, got, children } of rows) {
          const s = Object.fromEntries(Object.entries(got.stat).map(([k, v]) => [k, typeof v === 'bigint' ? `0x${v.toString(16)}` : v]));
          const sorted = [...children].sort();
          out.set(path, JSON.stringify({ data: text(got.data), stat: s, children: sorted }));
          for (const child of sorted) next.push(path === '/' ? `/${child}` : `${path}/${child}`);
        }
      }
      level = next;
    }
    return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  } finally {
    await c.close();
  }
}

export function diffTrees(a: Map<string, string>, b: Map<string, string>, limit = 5): string[] {
  const out: string[] = [];
  for (const path of new Set([...a.keys(), ...b.keys()])) {
    if (a.get(path) === b.get(path)) continue;
    out.push(`${path}: ${a.get(path) ?? '(missing)'} vs ${b.get(path) ?? '(missing)'}`);
    if (out.length >= limit) break;
  }
  return out;
}

export interface AfterFaultsReport {
  zxid: bigint;
  nodes: number;
  ops: number;
  ok: number;
  fail: number;
  unknown: number;
  acked: number;
  /** register ops made by node-zookeeper-client sessions */
  nzkOps: number;
  linearizable: CheckResult;
  sequential: CheckResult;
  checkMs: number;
}

/**
 * The end-of-run checks, once the workload has stopped and every server in `ids` is back:
 * each register read after sync (recorded as the last ops of the history); every server's tree
 * identical (data + stat of every znode) and at the same zxid; every acknowledged create there,
 * every create there acknowledged or uncertain; the history linearizable and sequentially
 * consistent. Throws with the first difference found.
 */
export async function checkAfterFaults(zk: LocalEnsemble, workload: RegisterWorkload, keys: readonly string[], ids: readonly number[]): Promise<AfterFaultsReport> {
  const rec = workload.recorder;
  const c: ZkClient = await connectClient(zk.connectionString, { sessionTimeoutMs: 10_000, requestTimeoutMs: 10_000 }, 20_000);
  try {
    for (const key of keys) {
      const o = await rec.run('final', key, { kind: 'read', afterSync: true }, async () => {
        await c.sync(key);
        const { data, stat } = await c.getData(key);
        return { status: 'ok', value: text(data), version: stat.version };
      });
      if (o.status !== 'ok') throw new Error(`final read of ${key}: ${o.status}`);
    }
  } finally {
    await c.close();
  }
  await waitForSameZxid(zk, ids, 15_000);
  const trees = new Map<number, Map<string, string>>();
  const dumps = await Promise.all(ids.map(async (id) => [id, await dumpTree(zk.server(id).clientPort)] as const));
  for (const [id, tree] of dumps) trees.set(id, tree);
  const [firstId, first] = [...trees][0] as [number, Map<string, string>];
  for (const [id, tree] of trees) {
    const diff = diffTrees(first, tree);
    if (diff.length > 0) throw new Error(`server ${firstId} and server ${id} hold different trees:\n  ${diff.join('\n  ')}`);
  }
  const createsUnder = new Set([...rec.ackedCreates, ...rec.unknownCreates].map((p) => p.slice(0, p.lastIndexOf('/'))));
  for (const p of rec.ackedCreates) {
    if (!first.has(p)) throw new Error(`acknowledged create ${p} is missing (on every server: the trees are identical)`);
  }
  for (const p of first.keys()) {
    const parent = p.slice(0, p.lastIndexOf('/'));
    if (createsUnder.has(parent) && !rec.ackedCreates.has(p) && !rec.unknownCreates.has(p)) throw new Error(`${p} exists but no client created it`);
  }
  // one session's writes apply in the order sent: on one connection, nothing is skipped before an acked create
  for (const [session, log] of rec.pipelined) {
    const byConnection = new Map<number, number>();
    log.forEach((e, k) => {
      if (e.acked && e.connection !== null) byConnection.set(e.connection, k);
    });
    for (const [connection, lastAcked] of byConnection) {
      for (let j = 0; j < lastAcked; j += 1) {
        const earlier = log[j] as (typeof log)[number];
        if (earlier.connection === connection && !first.has(earlier.path)) {
          throw new Error(`session ${session}, connection ${connection}: ${(log[lastAcked] as (typeof log)[number]).path} was acknowledged but ${earlier.path}, sent before it on the same connection, never took effect`);
        }
      }
    }
  }
  const zxid = await waitForSameZxid(zk, ids, 15_000);
  const t0 = performance.now();
  const { linearizable, sequential } = checkRegisterHistory(rec.ops);
  const checkMs = performance.now() - t0;
  const counts = rec.counts();
  const nzkOps = rec.ops.filter((op) => op.client.includes('nzk')).length;
  return { zxid, nodes: first.size, ops: rec.ops.length, ...counts, nzkOps, linearizable, sequential, checkMs };
}

/** One line for the test output. */
export function summarize(label: string, r: AfterFaultsReport, phases: Record<string, number>): string {
  const p = Object.entries(phases)
    .map(([k, v]) => `${k} ${Math.round(v)} ms`)
    .join(', ');
  return `[chaos ${label}] ${r.ops} register ops (${r.ok} ok, ${r.fail} BADVERSION, ${r.unknown} unknown; ${r.nzkOps} by node-zookeeper-client), ${r.acked} acked writes, ${r.nodes} znodes, zxid 0x${r.zxid.toString(16)}; linearizable: ${r.linearizable.verdict}, sequential: ${r.sequential.verdict} (checked in ${Math.round(r.checkMs)} ms); ${p}`;
}

/** The last lines of every server's log, for a failure message. */
export function logTails(zk: LocalEnsemble, lines = 15): string {
  return zk
    .servers()
    .map((s) => `--- server ${s.id} (${s.state}, ${s.role}) ---\n${zk.logs(s.id).slice(-lines).join('\n')}`)
    .join('\n');
}

export { describeOp };

/** True for errors after which a write may or may not have happened. */
export function uncertain(e: unknown): boolean {
  return e instanceof KeeperError && [ErrorCode.CONNECTIONLOSS, ErrorCode.REQUESTTIMEOUT, ErrorCode.OPERATIONTIMEOUT, ErrorCode.SESSIONEXPIRED].includes(e.code as never);
}
