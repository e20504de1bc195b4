/**
 * 3-server suite: a ZooLab ensemble (started by the supervisor, as the app starts one) and an
 * Apache ZooKeeper ensemble (three QuorumPeerMain JVMs), both started by the bench on this
 * machine in this run. Measured alternately, never both under load at the same time:
 *
 * - cold start of 3 servers: start requested → every server answered a session;
 * - write (setData) and read (getData) throughput at 1, 32 and 256 outstanding requests, the
 *   sessions spread over the three servers (followers first, so the single session of ×1 sits
 *   on a follower, where 2 of 3 clients are);
 * - re-election: kill -9 of the leader → the first write acknowledged to a client (a fresh
 *   session on a surviving server, retried every 10 ms), then the killed server is restarted
 *   and rejoins before the next round; several rounds, median.
 */
import { readFileSync } from 'node:fs';
import { prepare, runLoad, GET_KEYS } from '../lib/load.mjs';
import { modeOf, waitServing } from '../lib/servers.mjs';
import { OP, WireSession, createBody, getDataBody } from '../lib/wire.mjs';

export const ENSEMBLE_OPS = [
  { key: 'write', op: 'set' },
  { key: 'read', op: 'get' },
];
export const ENSEMBLE_OUTSTANDING = [1, 32, 256];
/** sessions carrying the outstanding requests (spread over the three servers) */
export const ensembleConnectionsFor = (outstanding) => (outstanding === 1 ? 1 : 8);

const TAG = 'e';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Client ports ordered followers first, leader last (by each server's srvr). */
async function portsFollowersFirst(ens) {
  const modes = await Promise.all(ens.ids.map((id) => modeOf(ens.port(id))));
  const leader = ens.ids[modes.indexOf('leader')];
  if (leader === undefined) throw new Error(`${ens.name}: no leader among ${modes.join(', ')}`);
  return [...ens.ids.filter((id) => id !== leader), leader].map((id) => ens.port(id));
}

/** The leader by srvr, polled until exactly one server says leader (deadline). */
async function leaderOf(ens, deadlineMs = 15_000) {
  const t0 = performance.now();
  for (;;) {
    const live = ens.ids.filter((id) => ens.alive(id));
    const modes = await Promise.all(live.map((id) => modeOf(ens.port(id))));
    const leaders = live.filter((_, i) => modes[i] === 'leader');
    if (leaders.length === 1 && modes.every((m) => m !== null)) return leaders[0];
    if (performance.now() - t0 > deadlineMs) throw new Error(`${ens.name}: no single leader within ${deadlineMs} ms (${modes.join(', ')})`);
    await sleep(20);
  }
}

/** Every server has the prepared nodes (a follower may still be applying the last commits). */
async function waitPrepared(ens, deadlineMs = 15_000) {
  const last = `/bench-${TAG}/g-${GET_KEYS - 1}`;
  await Promise.all(
    ens.ids.map(async (id) => {
      const s = await WireSession.open(ens.port(id));
      try {
        const t0 = performance.now();
        while ((await s.send(OP.getData, getDataBody(last))) !== 0) {
          if (performance.now() - t0 > deadlineMs) throw new Error(`${ens.name} server ${id}: ${last} missing after ${deadlineMs} ms`);
          await sleep(10);
        }
      } finally {
        await s.close();
      }
    }),
  );
}

/** CPU time (user + system, ms) a process has used, from /proc/<pid>/stat; NaN when unreadable */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime, stime in clock ticks (USER_HZ, 100 on Linux)
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** The ensemble's processes: its servers, and for ZooLab the supervisor's process. */
async function processesOf(ens) {
  const servers = [];
  for (const id of ens.ids) servers.push(await ens.pidOf(id));
  return { servers, supervisor: ens.supervisorPid ?? null };
}

/**
 * runLoad, plus the CPU the ensemble's processes used per operation: the whole run (warm-up and
 * measured window) over the operations it carried (the measured rate × the run's length).
 */
async function runLoadWithCpu(ens, ports, options) {
  const procs = await processesOf(ens);
  const sum = (pids) => pids.reduce((a, p) => a + cpuMs(p), 0);
  const t0 = performance.now();
  const s0 = sum(procs.servers);
  const v0 = procs.supervisor === null ? 0 : cpuMs(procs.supervisor);
  const r = await runLoad(ports, options);
  const ops = r.throughput * ((performance.now() - t0) / 1000);
  const serversMs = sum(procs.servers) - s0;
  const supervisorMs = procs.supervisor === null ? 0 : cpuMs(procs.supervisor) - v0;
  return { ...r, cpu: { serversMsPerOp: serversMs / ops, supervisorMsPerOp: supervisorMs / ops } };
}

function withTimeout(promise, ms) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), ms)))]).finally(() => clearTimeout(timer));
}

/**
 * From t0: every 10 ms, on each port with fewer than 4 attempts in flight, open a session and
 * create a znode. Resolves with ms from t0 to the first create answered OK; rejects at the deadline.
 */
async function firstWrite(ports, t0, prefix, deadlineMs) {
  let doneMs = null;
  let n = 0;
  const inflight = new Map(ports.map((p) => [p, 0]));
  const attempts = new Set();
  const attempt = async (port) => {
    let s = null;
    try {
      s = await WireSession.open(port, '127.0.0.1', 2000);
      const err = await withTimeout(s.send(OP.create, createBody(`${prefix}-${n++}`, null)), 3000);
      if (err === 0 && doneMs === null) doneMs = performance.now() - t0;
      if (err === 0) {
        await s.close();
        s = null;
      }
    } catch {
      // not serving yet, connection dropped, or no reply in time: try again
    } finally {
      s?.socket.destroy();
    }
  };
  while (doneMs === null && performance.now() - t0 < deadlineMs) {
    for (const port of ports) {
      if (inflight.get(port) >= 4) continue;
      inflight.set(port, inflight.get(port) + 1);
      const a = attempt(port).finally(() => {
        inflight.set(port, inflight.get(port) - 1);
        attempts.delete(a);
      });
      attempts.add(a);
    }
    await sleep(10);
  }
  await Promise.all(attempts);
  if (doneMs === null) throw new Error(`no write succeeded within ${deadlineMs} ms of the kill`);
  return doneMs;
}

/** kill -9 the leader, time to the first acknowledged write; restart it and wait until it serves. */
async function failoverRound(ens, round, log) {
  const leader = await leaderOf(ens);
  const survivors = ens.ids.filter((id) => id !== leader).map((id) => ens.port(id));
  const pid = await ens.pidOf(leader);
  if (!pid) throw new Error(`${ens.name}: no pid for leader ${leader}`);
  // the signal goes from here, so t0 is the moment of the kill (not when a supervisor gets to it)
  const t0 = performance.now();
  process.kill(pid, 'SIGKILL');
  const killed = ens.kill(leader);
  const ms = await firstWrite(survivors, t0, `/bench-${TAG}/failover-${round}`, 20_000);
  await killed;
  const newLeader = await leaderOf(ens);
  await ens.restart(leader);
  await waitServing(ens.ids.map((id) => ens.port(id)), 30_000);
  log(`${ens.name}: kill -9 leader ${leader} → first write ${ms.toFixed(0)} ms (new leader ${newLeader})`);
  return ms;
}

/**
 * targets: [{ name, start(): Promise<ensemble> }] (lib/servers.mjs startZooLabEnsemble /
 * startApacheEnsemble). Returns one result per target:
 * { coldStartMs, coldStartsMs, load: { 'write@1': {...}, ... }, failoverMs, failoversMs }.
 */
export async function measureEnsemble(targets, { coldStarts, rounds = 1, failovers, warmupMs, measureMs, opsMax, log }) {
  const results = targets.map(() => ({ coldStartsMs: [], load: {}, failoversMs: [] }));
  for (let i = 0; i < coldStarts; i++) {
    for (const [t, target] of targets.entries()) {
      const e = await target.start();
      results[t].coldStartsMs.push(e.coldStartMs);
      await e.stop();
    }
  }
  const ensembles = [];
  try {
    for (const [t, target] of targets.entries()) {
      const e = await target.start();
      ensembles.push(e);
      const r = results[t];
      r.coldStartsMs.push(e.coldStartMs);
      r.coldStartMs = median(r.coldStartsMs);
      log(`${target.name} ×3: cold start ${r.coldStartsMs.map((c) => c.toFixed(0)).join(', ')} ms`);
      const ports = await portsFollowersFirst(e);
      await prepare(ports.at(-1), TAG);
      await waitPrepared(e);
    }
    let run = 0;
    for (let round = 0; round < rounds; round++) {
      for (const { key, op } of ENSEMBLE_OPS) {
        for (const outstanding of ENSEMBLE_OUTSTANDING) {
          run++;
          for (const [t, target] of targets.entries()) {
            const ports = await portsFollowersFirst(ensembles[t]);
            const r = await runLoadWithCpu(ensembles[t], ports, { op, outstanding, connections: ensembleConnectionsFor(outstanding), warmupMs, measureMs, opsMax, tag: TAG, run });
            const k = `${key}@${outstanding}`;
            const best = results[t].load[k];
            if (best === undefined || r.throughput > best.throughput) results[t].load[k] = { ...r, errors: r.errors + (best?.errors ?? 0) };
            else best.errors += r.errors;
            const cpu = `CPU/op ${(r.cpu.serversMsPerOp + r.cpu.supervisorMsPerOp).toFixed(3)} ms${r.cpu.supervisorMsPerOp > 0 ? ` (supervisor ${r.cpu.supervisorMsPerOp.toFixed(3)})` : ''}`;
            log(`${target.name} ×3: ${key} ×${outstanding}: ${r.throughput.toFixed(0)} ops/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, max ${r.max.toFixed(0)} ms, ${cpu} (${r.ops} ops${r.errors ? `, ${r.errors} errors` : ''})`);
          }
        }
      }
    }
    for (let round = 0; round < failovers; round++) {
      for (const [t] of targets.entries()) results[t].failoversMs.push(await failoverRound(ensembles[t], round, log));
    }
    for (const r of results) r.failoverMs = median(r.failoversMs);
    return results;
  } finally {
    for (const e of ensembles) await e.stop().catch(() => {});
  }
}
