/**
 * `npm run sim -- --seed N [--servers 5] [--observers 0] [--spares 0] [--reconfig] [--steps K] [--fault-ms MS] [--seeds M] [--keep-going]`
 * Runs seeded simulations (seeds N .. N+M-1) and prints a summary per seed. A failing seed
 * prints the command that replays it and exits 1. The only place in sim/ that touches node:*.
 */
import process from 'node:process';
import { replayCommand, runSeed, SimFailure, type RunOptions } from './random-run';

function parseArgs(argv: string[]): { run: RunOptions; seeds: number; keepGoing: boolean } {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const num = (name: string): number | undefined => {
    const v = get(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} needs a non-negative integer, got ${v}`);
    return n;
  };
  const run: RunOptions = {
    seed: num('--seed') ?? 1,
    servers: num('--servers') ?? 5,
    observers: num('--observers') ?? 0,
    ...(num('--steps') !== undefined ? { steps: num('--steps') } : {}),
    ...(num('--fault-ms') !== undefined ? { faultMs: num('--fault-ms') } : {}),
    ...(num('--spares') !== undefined ? { spares: num('--spares') } : {}),
    ...(argv.includes('--reconfig') ? { reconfig: true } : {}),
  };
  return { run, seeds: num('--seeds') ?? 1, keepGoing: argv.includes('--keep-going') };
}

function main(): number {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  let failed = 0;
  for (let i = 0; i < args.seeds; i++) {
    const run = { ...args.run, seed: args.run.seed + i };
    try {
      const s = runSeed(run);
      process.stdout.write(
        `seed ${s.seed}: ok  servers=${s.servers} steps=${s.steps} sim=${(s.simMs / 1000).toFixed(1)}s committed=${s.committed} acked=${s.acked} ` +
          `(after heal ${s.ackedAfterHeal}) leaders=${s.leadersEstablished} crashes=${s.crashes} abandons=${s.abandons} syncs=${s.syncsChecked} ` +
          `heal→leader=${s.healToLeaderMs}ms leader=${s.finalLeader} syncs: ${s.syncs}` +
          `${s.reconfigs > 0 ? ` reconfigs=${s.reconfigs} membership ${s.membership}` : ''}\n`,
      );
    } catch (e) {
      if (!(e instanceof SimFailure)) throw e;
      process.stdout.write(`seed ${run.seed}: FAILED ${e.message}\nreplay: ${replayCommand(run)}\n`);
      failed++;
      if (!args.keepGoing) return 1;
    }
  }
  if (args.seeds > 1) process.stdout.write(`${args.seeds - failed}/${args.seeds} seeds passed\n`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = main();
