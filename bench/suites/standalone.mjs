/**
 * Standalone suite: one ZooLab server and one Apache ZooKeeper server, started by the bench on
 * this machine in this run. Measurements alternate between the servers (cold starts, then each
 * op × outstanding level on one server, then the same on the other), so slow drifts in the
 * machine's background load hit both alike; never both under load at the same time.
 */
import { prepare, runLoad } from '../lib/load.mjs';
import { settledRss } from '../lib/servers.mjs';

export const OPS = ['create', 'get', 'set'];
export const OUTSTANDING = [1, 32, 256];
/** sessions carrying the outstanding requests */
export const connectionsFor = (outstanding) => (outstanding === 1 ? 1 : 8);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * targets: [{ name, start(): Promise<{pid, port, coldStartMs, stop()}> }].
 * Returns one result per target: { coldStartMs, coldStartsMs, idleRssBytes, afterLoadRssBytes, load: { 'create@1': {...}, ... } }.
 */
export async function measureStandalone(targets, { coldStarts, rounds = 1, warmupMs, measureMs, opsMax, log }) {
  const results = targets.map(() => ({ coldStartsMs: [], load: {} }));
  for (let i = 0; i < coldStarts; i++) {
    for (const [t, target] of targets.entries()) {
      const s = await target.start();
      results[t].coldStartsMs.push(s.coldStartMs);
      await s.stop();
    }
  }
  const servers = [];
  try {
    for (const [t, target] of targets.entries()) {
      const server = await target.start();
      servers.push(server);
      const r = results[t];
      r.coldStartsMs.push(server.coldStartMs);
      r.coldStartMs = median(r.coldStartsMs);
      r.idleRssBytes = await settledRss(server.pid);
      log(`${target.name}: cold start ${r.coldStartsMs.map((c) => c.toFixed(0)).join(', ')} ms; idle RSS ${(r.idleRssBytes / 2 ** 20).toFixed(1)} MiB`);
      await prepare(server.port, 's');
    }
    // best of `rounds`: other work on a shared machine only ever slows a run down
    let run = 0;
    for (let round = 0; round < rounds; round++) {
      for (const op of OPS) {
        for (const outstanding of OUTSTANDING) {
          run++;
          for (const [t, target] of targets.entries()) {
            const r = await runLoad(servers[t].port, { op, outstanding, connections: connectionsFor(outstanding), warmupMs, measureMs, opsMax, tag: 's', run });
            const key = `${op}@${outstanding}`;
            const best = results[t].load[key];
            if (best === undefined || r.throughput > best.throughput) results[t].load[key] = { ...r, errors: r.errors + (best?.errors ?? 0) };
            else best.errors += r.errors;
            log(`${target.name}: ${op} ×${outstanding}: ${r.throughput.toFixed(0)} ops/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, max ${r.max.toFixed(0)} ms (${r.ops} ops${r.errors ? `, ${r.errors} errors` : ''})`);
          }
        }
      }
    }
    for (const [t, server] of servers.entries()) results[t].afterLoadRssBytes = await settledRss(server.pid);
    return results;
  } finally {
    for (const s of servers) await s.stop();
  }
}
