/**
 * Standalone suite: one ZooLab server and one Apache ZooKeeper server, started by the bench on
 * this machine in this run, measured the same way one after the other (never at the same time:
 * the machine has few cores).
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
 * target: { name, start(): Promise<{pid, port, coldStartMs, stop()}> }.
 * Returns { coldStartMs, idleRssBytes, afterLoadRssBytes, load: { 'create@1': {...}, ... } }.
 */
export async function measureStandalone(target, { coldStarts, warmupMs, measureMs, opsMax, log }) {
  const colds = [];
  for (let i = 0; i < coldStarts; i++) {
    const s = await target.start();
    colds.push(s.coldStartMs);
    await s.stop();
  }
  const server = await target.start();
  colds.push(server.coldStartMs);
  try {
    const idleRssBytes = await settledRss(server.pid);
    log(`${target.name}: cold start ${colds.map((c) => c.toFixed(0)).join(', ')} ms; idle RSS ${(idleRssBytes / 2 ** 20).toFixed(1)} MiB`);
    const tag = 's';
    await prepare(server.port, tag);
    const load = {};
    let run = 0;
    for (const op of OPS) {
      for (const outstanding of OUTSTANDING) {
        const r = await runLoad(server.port, { op, outstanding, connections: connectionsFor(outstanding), warmupMs, measureMs, opsMax, tag, run: run++ });
        load[`${op}@${outstanding}`] = r;
        log(`${target.name}: ${op} ×${outstanding}: ${r.throughput.toFixed(0)} ops/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms (${r.ops} ops${r.errors ? `, ${r.errors} errors` : ''})`);
      }
    }
    const afterLoadRssBytes = await settledRss(server.pid);
    return { coldStartMs: median(colds), coldStartsMs: colds, idleRssBytes, afterLoadRssBytes, load };
  } finally {
    await server.stop();
  }
}
