#!/usr/bin/env node
/**
 * `npm run bench` (after a build): ZooLab vs Apache ZooKeeper, both started here, in this run,
 * on this machine, fsync on. Prints the figures and ZooLab/ZooKeeper ratios and writes them
 * to bench/RESULTS.md. Bounded: the whole run takes well under 3 minutes.
 *
 *   node bench/run.mjs [--quick] [--no-write]
 *
 * Suites are modules under bench/suites/ (standalone now; a 3-server suite plugs in the same
 * way: measure each target, return figures, add rows to the report).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { apacheZooKeeperAvailable, startApacheZooKeeper, startZooLab, ZOOLAB_CLI } from './lib/servers.mjs';
import { measureStandalone, OPS, OUTSTANDING, connectionsFor } from './suites/standalone.mjs';

const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const settings = quick
  ? { coldStarts: 1, rounds: 1, warmupMs: 200, measureMs: 500, opsMax: 50_000 }
  : { coldStarts: 2, rounds: 2, warmupMs: 300, measureMs: 1500, opsMax: 200_000 };
const TARGETS = { throughputRatioMin: 1.0, coldStartMsMax: 300, idleRssMiBMax: 50 };
const BENCH_DEADLINE_MS = 170_000;

const log = (line) => process.stdout.write(`${line}\n`);
const mib = (b) => (b / 2 ** 20).toFixed(1);
const fixed = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

async function main() {
  if (!existsSync(ZOOLAB_CLI)) {
    process.stderr.write(`${ZOOLAB_CLI} is missing: run 'npm run build' first (npm run bench does it)\n`);
    return 2;
  }
  const apache = apacheZooKeeperAvailable();
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench: still running after ${BENCH_DEADLINE_MS / 1000} s; giving up\n`);
    process.exit(3);
  }, BENCH_DEADLINE_MS);
  watchdog.unref();
  const started = Date.now();
  const loadBefore = loadavg()[0];
  log(`bench: ${quick ? 'quick' : 'full'} run on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${mib(totalmem())} MiB, node ${process.version}${apache.available ? `, ${apache.java}` : ''}`);

  const targets = [{ name: 'ZooLab', start: () => startZooLab() }];
  if (apache.available) targets.push({ name: 'ZooKeeper', start: () => startApacheZooKeeper() });
  else log(`bench: Apache ZooKeeper not measured: ${apache.reason}`);
  const [zoolab, zookeeper = null] = await measureStandalone(targets, { ...settings, log });

  const report = renderReport({ zoolab, zookeeper, apache, quick, seconds: (Date.now() - started) / 1000, load: [loadBefore, loadavg()[0]] });
  log('');
  log(report.table);
  if (!args.has('--no-write') && !quick) {
    writeFileSync(join(import.meta.dirname, 'RESULTS.md'), report.markdown);
    log('\nwritten to bench/RESULTS.md');
  }
  return 0;
}

function renderReport({ zoolab, zookeeper, apache, quick, seconds, load }) {
  const rows = [];
  const ratio = (a, b) => (zookeeper && Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN);
  for (const op of OPS) {
    for (const o of OUTSTANDING) {
      const k = `${op}@${o}`;
      const a = zoolab.load[k];
      const b = zookeeper?.load[k];
      const tr = ratio(a.throughput, b?.throughput);
      rows.push({
        metric: `${op} ×${o} throughput (ops/s)`,
        zoolab: fixed(a.throughput, 0),
        zookeeper: b ? fixed(b.throughput, 0) : 'n/a',
        ratio: fixed(tr),
        target: `≥ ${TARGETS.throughputRatioMin.toFixed(1)}×`,
        ok: Number.isFinite(tr) ? tr >= TARGETS.throughputRatioMin : null,
      });
      rows.push({
        metric: `${op} ×${o} p50 / p99 / max (ms)`,
        zoolab: `${fixed(a.p50)} / ${fixed(a.p99)} / ${fixed(a.max, 0)}`,
        zookeeper: b ? `${fixed(b.p50)} / ${fixed(b.p99)} / ${fixed(b.max, 0)}` : 'n/a',
        ratio: `${fixed(ratio(a.p50, b?.p50))} / ${fixed(ratio(a.p99, b?.p99))} / ${fixed(ratio(a.max, b?.max))}`,
        target: '',
        ok: null,
      });
    }
  }
  rows.push({
    metric: 'cold start to serving (ms, median)',
    zoolab: fixed(zoolab.coldStartMs, 0),
    zookeeper: zookeeper ? fixed(zookeeper.coldStartMs, 0) : 'n/a',
    ratio: fixed(ratio(zoolab.coldStartMs, zookeeper?.coldStartMs)),
    target: `≤ ${TARGETS.coldStartMsMax} ms`,
    ok: zoolab.coldStartMs <= TARGETS.coldStartMsMax,
  });
  rows.push({
    metric: 'idle RSS (MiB)',
    zoolab: mib(zoolab.idleRssBytes),
    zookeeper: zookeeper ? mib(zookeeper.idleRssBytes) : 'n/a',
    ratio: fixed(ratio(zoolab.idleRssBytes, zookeeper?.idleRssBytes)),
    target: `≤ ${TARGETS.idleRssMiBMax} MiB`,
    ok: zoolab.idleRssBytes / 2 ** 20 <= TARGETS.idleRssMiBMax,
  });
  rows.push({ metric: 'RSS after the load (MiB)', zoolab: mib(zoolab.afterLoadRssBytes), zookeeper: zookeeper ? mib(zookeeper.afterLoadRssBytes) : 'n/a', ratio: fixed(ratio(zoolab.afterLoadRssBytes, zookeeper?.afterLoadRssBytes)), target: '', ok: null });
  const errors = Object.entries(zoolab.load).filter(([, r]) => r.errors > 0).map(([k, r]) => `ZooLab ${k}: ${r.errors} errors`);
  if (zookeeper) errors.push(...Object.entries(zookeeper.load).filter(([, r]) => r.errors > 0).map(([k, r]) => `ZooKeeper ${k}: ${r.errors} errors`));

  const header = ['metric', 'ZooLab', 'ZooKeeper', 'ZooLab/ZooKeeper', 'target', ''];
  const cells = rows.map((r) => [r.metric, r.zoolab, r.zookeeper, r.ratio, r.target, r.ok === null ? '' : r.ok ? 'met' : 'MISSED']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => c.map((x, i) => x.padEnd(widths[i])).join('  ').trimEnd();
  const table = [line(header), ...cells.map(line), ...(errors.length ? ['', ...errors] : [])].join('\n');

  const md = [
    '# Bench results',
    '',
    'Written by `npm run bench` (`node bench/run.mjs` after a build). ZooLab and Apache ZooKeeper are both',
    'started by the bench, on this machine, in the same run, measured alternately (never both under load), each with a fresh',
    'dataDir on the same disk, `forceSync=yes` (fsync before each acknowledged write), admin server off.',
    '',
    `- Run: ${new Date().toISOString()}, ${seconds.toFixed(0)} s${quick ? ' (quick)' : ''}`,
    `- Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${mib(totalmem())} MiB RAM, Linux; node ${process.version};` +
      ` 1-min load average ${load[0].toFixed(1)} before, ${load[1].toFixed(1)} after (other work on the machine skews both servers)`,
    `- ZooKeeper: ${apache.available ? `Debian package (/usr/share/java/zookeeper.jar), ${apache.java}, -Xmx${process.env.BENCH_ZK_HEAP_MB ?? 1000}m (zkEnv.sh default)` : `not measured: ${apache.reason}`}`,
    `- Load: a closed loop; 1 outstanding request = 1 session; 32 and 256 = ${connectionsFor(32)} sessions sharing them; 100-byte values;`,
    '  create = new znodes, get = getData over 1000 znodes, set = setData over the same znodes (version -1);',
    `  ${settings.warmupMs} ms warm-up discarded, then ${settings.measureMs} ms (or ${settings.opsMax} ops) measured; best of ${settings.rounds} rounds`,
    '  (by throughput). Latency = send → reply at the client.',
    '- Cold start = process spawn → first session established (ConnectResponse), median of runs',
    '  (ZooKeeper\'s includes JVM start-up). Idle RSS = /proc/<pid>/status VmRSS once settled after start.',
    '',
    '| metric | ZooLab | ZooKeeper | ZooLab/ZooKeeper | target | |',
    '|---|---:|---:|---:|---|---|',
    ...cells.map((c) => `| ${c.join(' | ')} |`),
    '',
    ...(errors.length ? ['Errors during the load:', '', ...errors.map((e) => `- ${e}`), ''] : []),
    'Throughput ratio > 1 means ZooLab is faster; latency and RSS ratios < 1 mean ZooLab is lower.',
    '',
  ].join('\n');
  return { table, markdown: md };
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`bench failed: ${e.stack ?? e}\n`);
    process.exit(1);
  },
);
