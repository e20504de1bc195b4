#!/usr/bin/env node
/**
 * Write latency on a 3-server ZooLab ensemble while its members take snapCount snapshots of a
 * big tree: setData at 32 outstanding (8 sessions spread over the servers, as the ensemble
 * suite's ×32) after the tree was filled with `--znodes` znodes of 100 B. Prints throughput,
 * p50 / p99 / max latency and how many snapshots the servers wrote during the measured window.
 * Uses the build in out/ (npm run build first).
 *
 *   node bench/snapshot-stall.mjs [--znodes 200000] [--snap-count 20000] [--seconds 20]
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { prepare, runLoad } from './lib/load.mjs';
import { startZooLabEnsemble } from './lib/servers.mjs';
import { OP, WireSession, createBody } from './lib/wire.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const znodes = arg('znodes', 200_000);
const snapCount = arg('snap-count', 20_000);
const seconds = arg('seconds', 20);
const VALUE = Buffer.alloc(100, 0x61);

/** every snapshot.<zxid> file under the ensemble's folder */
function snapshotFiles(dir) {
  const out = [];
  const walk = (d, depth) => {
    if (depth > 6) return;
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p, depth + 1);
      else if (n.startsWith('snapshot.')) out.push(p);
    }
  };
  walk(dir, 0);
  return out;
}

const ens = await startZooLabEnsemble({ size: 3, ensembleOptions: { cfg: { forceSync: 'yes', snapCount: String(snapCount) } } });
try {
  const ports = ens.ids.map((id) => ens.port(id));
  const t0 = performance.now();
  // fill: /big/n<i>, 2000 creates in flight over 8 sessions
  const sessions = await Promise.all(Array.from({ length: 8 }, (_, i) => WireSession.open(ports[i % ports.length])));
  await sessions[0].send(OP.create, createBody('/big', null));
  let next = 0;
  await Promise.all(
    Array.from({ length: 2000 }, async (_, lane) => {
      const s = sessions[lane % sessions.length];
      for (let i = next++; i < znodes; i = next++) {
        const err = await s.send(OP.create, createBody(`/big/n${i}`, VALUE));
        if (err !== 0 && err !== -110) throw new Error(`create /big/n${i}: err ${err}`);
      }
    }),
  );
  await Promise.all(sessions.map((s) => s.close()));
  await prepare(ports.at(-1), 'stall');
  console.log(`filled ${znodes} znodes in ${((performance.now() - t0) / 1000).toFixed(1)} s; snapCount ${snapCount}`);
  // let the snapshots the fill started end
  await new Promise((r) => setTimeout(r, 5000));
  const before = snapshotFiles(ens.dir).length;
  const r = await runLoad(ports, { op: 'set', outstanding: 32, connections: 8, warmupMs: 1000, measureMs: seconds * 1000, opsMax: 10_000_000, tag: 'stall', run: 0 });
  const after = snapshotFiles(ens.dir).length;
  console.log(
    `setData ×32 for ${r.seconds.toFixed(1)} s: ${Math.round(r.throughput)} ops/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, max ${r.max.toFixed(1)} ms, errors ${r.errors}; snapshots written meanwhile: ${after - before}`,
  );
} finally {
  await ens.stop();
}
