#!/usr/bin/env node
/**
 * `npm run bench` (after a build): ZooLab vs Apache ZooKeeper, both started here, in this run,
 * on this machine, fsync on. Prints the figures and ZooLab/ZooKeeper ratios and writes them
 * to bench/RESULTS.md. Bounded: the whole run takes well under 3 minutes.
 *
 *   node bench/run.mjs [--quick] [--no-write] [--only standalone|ensemble]
 *
 * Two parts, each a module under bench/suites/: standalone (one server of each kind) and
 * ensemble (three servers of each kind). Each part has its own watchdog (under 3 minutes).
 * `--only` measures one part and keeps the other part's section of RESULTS.md as it was, with
 * the time it was measured.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { apacheZooKeeperAvailable, startApacheEnsemble, startApacheZooKeeper, startZooLab, startZooLabEnsemble, ZOOLAB_CLI } from './lib/servers.mjs';
import { measureStandalone, OPS, OUTSTANDING, connectionsFor } from './suites/standalone.mjs';
import { measureEnsemble, ENSEMBLE_OPS, ENSEMBLE_OUTSTANDING, ensembleConnectionsFor } from './suites/ensemble.mjs';

const argv = process.argv.slice(2);
const args = new Set(argv);
const quick = args.has('--quick');
const onlyAt = argv.indexOf('--only');
const only = onlyAt >= 0 ? argv[onlyAt + 1] : null;
if (only !== null && only !== 'standalone' && only !== 'ensemble') {
  process.stderr.write(`bench: --only takes standalone or ensemble, not ${only}\n`);
  process.exit(2);
}
const PARTS = only === null ? ['standalone', 'ensemble'] : [only];
const settings = quick
  ? { coldStarts: 1, rounds: 1, warmupMs: 200, measureMs: 500, opsMax: 50_000 }
  : { coldStarts: 2, rounds: 2, warmupMs: 300, measureMs: 1500, opsMax: 200_000 };
const ensembleSettings = quick
  ? { coldStarts: 0, rounds: 1, failovers: 2, warmupMs: 200, measureMs: 500, opsMax: 50_000 }
  : { coldStarts: 2, rounds: 2, failovers: 5, warmupMs: 300, measureMs: 1500, opsMax: 200_000 };
const TARGETS = { throughputRatioMin: 1.0, coldStartMsMax: 300, idleRssMiBMax: 50 };
const ENSEMBLE_TARGETS = { throughputRatioMin: 1.0, failoverMsMax: 200, coldStartMsMax: 500 };
/** each part gets its own watchdog: a part that runs longer than this ends the bench */
const PART_DEADLINE_MS = 170_000;
const RESULTS_PATH = join(import.meta.dirname, 'RESULTS.md');

const log = (line) => process.stdout.write(`${line}\n`);
const mib = (b) => (b / 2 ** 20).toFixed(1);
const fixed = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

let watchdog = null;
function armWatchdog(part) {
  if (watchdog) clearTimeout(watchdog);
  watchdog = setTimeout(() => {
    // every server process the bench started is SIGKILLed by the exit hooks (lib/servers.mjs, supervisor)
    process.stderr.write(`bench: the ${part} part still running after ${PART_DEADLINE_MS / 1000} s; giving up\n`);
    process.exit(3);
  }, PART_DEADLINE_MS);
  watchdog.unref();
}

async function main() {
  if (!existsSync(ZOOLAB_CLI)) {
    process.stderr.write(`${ZOOLAB_CLI} is missing: run 'npm run build' first (npm run bench does it)\n`);
    return 2;
  }
  const apache = apacheZooKeeperAvailable();
  log(`bench: ${quick ? 'quick' : 'full'} run (${PARTS.join(' + ')}) on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${mib(totalmem())} MiB, node ${process.version}${apache.available ? `, ${apache.java}` : ''}`);
  if (!apache.available) log(`bench: Apache ZooKeeper not measured: ${apache.reason}`);
  const sections = {};
  const tables = [];

  for (const part of Object.keys(PART_TITLES)) {
    if (!PARTS.includes(part)) continue;
    const { zoolabStart, apacheStart, measure, partSettings, render } = PART_RUNS[part];
    armWatchdog(part);
    const started = Date.now();
    const loadBefore = loadavg()[0];
    const targets = [{ name: 'ZooLab', start: () => zoolabStart() }];
    if (apache.available) targets.push({ name: 'ZooKeeper', start: () => apacheStart() });
    const [zoolab, zookeeper = null] = await measure(targets, { ...partSettings, log });
    const report = render({ zoolab, zookeeper, apache, quick, seconds: (Date.now() - started) / 1000, load: [loadBefore, loadavg()[0]] });
    sections[part] = report.markdown;
    tables.push(`${PART_TITLES[part]}\n${report.table}`);
  }
  if (watchdog) clearTimeout(watchdog);

  log('');
  log(tables.join('\n\n'));
  if (!args.has('--no-write') && !quick) {
    writeFileSync(RESULTS_PATH, renderResults(sections));
    log(`\nwritten to bench/RESULTS.md${only ? ` (the ${only} part; the other part kept as measured before)` : ''}`);
  }
  return 0;
}

const PART_TITLES = { standalone: 'One server (standalone)', ensemble: 'Three servers (ensemble)' };

/** What each part starts, measures and renders; both parts run the same steps. */
const PART_RUNS = {
  standalone: { zoolabStart: startZooLab, apacheStart: startApacheZooKeeper, measure: measureStandalone, partSettings: settings, render: renderReport },
  ensemble: { zoolabStart: startZooLabEnsemble, apacheStart: startApacheEnsemble, measure: measureEnsemble, partSettings: ensembleSettings, render: renderEnsembleReport },
};

/** The part sections of the current RESULTS.md (a file from before the parts: all standalone). */
function previousSections() {
  const out = {};
  if (!existsSync(RESULTS_PATH)) return out;
  const text = readFileSync(RESULTS_PATH, 'utf8');
  let marked = false;
  for (const part of Object.keys(PART_TITLES)) {
    const m = new RegExp(`<!-- part:${part} -->\\n([\\s\\S]*?)<!-- /part:${part} -->`).exec(text);
    if (m) {
      out[part] = m[1];
      marked = true;
    }
  }
  if (!marked) {
    const at = text.indexOf('\n- Run:');
    if (at >= 0) out.standalone = `## ${PART_TITLES.standalone}\n${text.slice(at)}`;
  }
  return out;
}

function renderResults(sections) {
  const merged = { ...previousSections(), ...sections };
  const parts = Object.keys(PART_TITLES).filter((p) => merged[p] !== undefined);
  return [
    '# Bench results',
    '',
    'Written by `npm run bench` (`node bench/run.mjs` after a build). ZooLab and Apache ZooKeeper are both',
    'started by the bench, on this machine, in the same run, measured alternately (never both under load), each with a fresh',
    'dataDir on the same disk, `forceSync=yes` (fsync before each acknowledged write), admin server off.',
    'Two parts, each saying when it was measured (`node bench/run.mjs --only standalone|ensemble` re-measures one part',
    'and keeps the other).',
    '',
    ...parts.map((p) => `<!-- part:${p} -->\n${merged[p].trimEnd()}\n<!-- /part:${p} -->\n`),
  ].join('\n');
}

function table(cells) {
  const header = ['metric', 'ZooLab', 'ZooKeeper', 'ZooLab/ZooKeeper', 'target', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => c.map((x, i) => x.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), ...cells.map(line)].join('\n');
}
const okCell = (ok) => (ok === null ? '' : ok ? 'met' : 'MISSED');

function renderEnsembleReport({ zoolab, zookeeper, apache, quick, seconds, load }) {
  const rows = [];
  const ratio = (a, b) => (zookeeper && Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN);
  for (const { key } of ENSEMBLE_OPS) {
    for (const o of ENSEMBLE_OUTSTANDING) {
      const k = `${key}@${o}`;
      const a = zoolab.load[k];
      const b = zookeeper?.load[k];
      const tr = ratio(a.throughput, b?.throughput);
      rows.push({ metric: `${key} ×${o} throughput (ops/s)`, zoolab: fixed(a.throughput, 0), zookeeper: b ? fixed(b.throughput, 0) : 'n/a', ratio: fixed(tr), target: `≥ ${ENSEMBLE_TARGETS.throughputRatioMin.toFixed(1)}×`, ok: Number.isFinite(tr) ? tr >= ENSEMBLE_TARGETS.throughputRatioMin : null });
      rows.push({
        metric: `${key} ×${o} p50 / p99 / max (ms)`,
        zoolab: `${fixed(a.p50)} / ${fixed(a.p99)} / ${fixed(a.max, 0)}`,
        zookeeper: b ? `${fixed(b.p50)} / ${fixed(b.p99)} / ${fixed(b.max, 0)}` : 'n/a',
        ratio: `${fixed(ratio(a.p50, b?.p50))} / ${fixed(ratio(a.p99, b?.p99))} / ${fixed(ratio(a.max, b?.max))}`,
        target: '',
        ok: null,
      });
      if (key === 'write' && a.cpu) {
        const total = (c) => (c ? c.serversMsPerOp + c.supervisorMsPerOp : NaN);
        rows.push({ metric: `${key} ×${o} CPU per op (ms; ZooLab: + supervisor)`, zoolab: `${fixed(total(a.cpu), 3)} (${fixed(a.cpu.supervisorMsPerOp, 3)})`, zookeeper: b?.cpu ? fixed(total(b.cpu), 3) : 'n/a', ratio: fixed(ratio(total(a.cpu), total(b?.cpu))), target: '', ok: null });
      }
    }
  }
  rows.push({
    metric: 'kill -9 leader → first write (ms, median)',
    zoolab: fixed(zoolab.failoverMs, 0),
    zookeeper: zookeeper ? fixed(zookeeper.failoverMs, 0) : 'n/a',
    ratio: fixed(ratio(zoolab.failoverMs, zookeeper?.failoverMs)),
    target: `≤ ${ENSEMBLE_TARGETS.failoverMsMax} ms`,
    ok: zoolab.failoverMs <= ENSEMBLE_TARGETS.failoverMsMax,
  });
  rows.push({ metric: '  each round (ms)', zoolab: zoolab.failoversMs.map((x) => x.toFixed(0)).join(', '), zookeeper: zookeeper ? zookeeper.failoversMs.map((x) => x.toFixed(0)).join(', ') : 'n/a', ratio: '', target: '', ok: null });
  rows.push({
    metric: 'cold start of 3 to serving (ms, median)',
    zoolab: fixed(zoolab.coldStartMs, 0),
    zookeeper: zookeeper ? fixed(zookeeper.coldStartMs, 0) : 'n/a',
    ratio: fixed(ratio(zoolab.coldStartMs, zookeeper?.coldStartMs)),
    target: `≤ ${ENSEMBLE_TARGETS.coldStartMsMax} ms`,
    ok: zoolab.coldStartMs <= ENSEMBLE_TARGETS.coldStartMsMax,
  });
  rows.push({ metric: '  each start (ms)', zoolab: zoolab.coldStartsMs.map((x) => x.toFixed(0)).join(', '), zookeeper: zookeeper ? zookeeper.coldStartsMs.map((x) => x.toFixed(0)).join(', ') : 'n/a', ratio: '', target: '', ok: null });
  const errors = Object.entries(zoolab.load).filter(([, r]) => r.errors > 0).map(([k, r]) => `ZooLab ${k}: ${r.errors} errors`);
  if (zookeeper) errors.push(...Object.entries(zookeeper.load).filter(([, r]) => r.errors > 0).map(([k, r]) => `ZooKeeper ${k}: ${r.errors} errors`));
  const cells = rows.map((r) => [r.metric, r.zoolab, r.zookeeper, r.ratio, r.target, okCell(r.ok)]);
  const md = [
    `## ${PART_TITLES.ensemble}`,
    '',
    `- Run: ${new Date().toISOString()}, ${seconds.toFixed(0)} s${quick ? ' (quick)' : ''}`,
    `- Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${mib(totalmem())} MiB RAM, Linux; node ${process.version};` +
      ` 1-min load average ${load[0].toFixed(1)} before, ${load[1].toFixed(1)} after (other work on the machine skews both ensembles)`,
    `- ZooKeeper: three \`java … org.apache.zookeeper.server.quorum.QuorumPeerMain zoo.cfg\` (as \`zkServer.sh start-foreground\`), ${apache.available ? `Debian package, ${apache.java}, -Xmx${process.env.BENCH_ZK_HEAP_MB ?? 1000}m each` : `not measured: ${apache.reason}`}.`,
    '  ZooLab: three `node out/main/cli.js server zoo.cfg` started by the supervisor\'s `Ensemble.start` from the built bundle, as the app',
    '  and `startEnsemble` start them; the supervisor (reading every server\'s log and trace NDJSON, polling srvr) runs in a child',
    '  process of the bench (lib/zoolab-host.mjs), as it runs in the app\'s main process, not in the process driving the load.',
    '  Both: each server its own folder, dataDir and myid, `server.N=127.0.0.1:quorumPort:electionPort` lines on free ports,',
    '  tickTime 2000, initLimit 10, syncLimit 5, forceSync=yes. Both ensembles run during the whole part; one is under load at a time.',
    `- Load: write = setData (version -1, 100 bytes) over 1000 znodes, read = getData over the same znodes; a closed loop;`,
    `  1 outstanding = 1 session (on a follower); 32 and 256 = ${ensembleConnectionsFor(32)} sessions sharing them, spread over the three servers`,
    `  (followers first: 3 + 3 on the followers, 2 on the leader); ${ensembleSettings.warmupMs} ms warm-up discarded, then ${ensembleSettings.measureMs} ms`,
    `  (or ${ensembleSettings.opsMax} ops) measured; best of ${ensembleSettings.rounds} rounds (by throughput). Latency = send → reply at the client.`,
    '  CPU per op: user + system time of the three servers (ZooLab: and the supervisor\'s process, in brackets) over the whole run, from',
    '  /proc/<pid>/stat, divided by the operations of the run (measured rate × run length); the load generator is not counted.',
    '- kill -9 leader → first write: the leader (by `srvr`) gets SIGKILL; from that moment, every 10 ms a client opens a fresh session',
    '  on each surviving server (at most 4 attempts in flight per server) and sends a create; the time is kill → the first create answered OK.',
    `  Then the killed server is restarted and must serve again before the next round. ${ensembleSettings.failovers} rounds per ensemble, alternating; median.`,
    '- Cold start of 3: start requested (ZooLab: Ensemble.start, including its workspace set-up; ZooKeeper: the three spawns) →',
    `  every server established a session (polled every 5 ms), i.e. an election held and both followers synced; median of ${ensembleSettings.coldStarts + 1} starts.`,
    '',
    '| metric | ZooLab | ZooKeeper | ZooLab/ZooKeeper | target | |',
    '|---|---:|---:|---:|---|---|',
    ...cells.map((c) => `| ${c.join(' | ')} |`),
    '',
    ...(errors.length ? ['Errors during the load:', '', ...errors.map((e) => `- ${e}`), ''] : []),
    'Throughput ratio > 1 means ZooLab is faster; latency, re-election and start ratios < 1 mean ZooLab is quicker.',
    '',
  ].join('\n');
  return { table: [table(cells), ...(errors.length ? ['', ...errors] : [])].join('\n'), markdown: md };
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
    `## ${PART_TITLES.standalone}`,
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
