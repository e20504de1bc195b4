/**
 * One seeded random run: servers boot at random moments, clients write and sync, faults
 * (crash/restart with torn disks, partitions, isolation, connection resets) hit for a while;
 * then everything heals and the ensemble must elect, make progress and converge.
 */
import type { Sid } from '../zab/quorum';
import { Prng } from './prng';
import { SimFailure, Simulation } from './simulation';

export interface RunOptions {
  readonly seed: number;
  readonly servers?: number;
  readonly observers?: number;
  readonly clients?: number;
  /** simulated ms of faults */
  readonly faultMs?: number;
  /** cap on events processed during the fault phase */
  readonly steps?: number;
  /** simulated ms the healed ensemble gets to elect and ack new writes */
  readonly livenessMs?: number;
  /** servers outside the initial membership, able to join by reconfig */
  readonly spares?: number;
  /** mix reconfigs (add, remove, participant ↔ observer, also of the leader) into the faults */
  readonly reconfig?: boolean;
  /** keep the whole trace (debugging a seed): `onFailure` gets the simulation */
  readonly onFailure?: (sim: Simulation) => void;
}

export interface RunSummary {
  readonly seed: number;
  readonly servers: number;
  readonly steps: number;
  readonly simMs: number;
  readonly committed: number;
  readonly acked: number;
  readonly ackedAfterHeal: number;
  readonly leadersEstablished: number;
  readonly crashes: number;
  readonly abandons: number;
  readonly syncsChecked: number;
  readonly finalLeader: Sid | null;
  readonly healToLeaderMs: number;
  /** learner syncs by kind, e.g. "DIFF 12 TRUNC 2 SNAP 1" */
  readonly syncs: string;
  /** reconfigs proposed / the final membership's version */
  readonly reconfigs: number;
  readonly membership: string;
}

export function replayCommand(o: RunOptions): string {
  const parts = [`npm run sim -- --seed ${o.seed}`];
  if (o.servers !== undefined && o.servers !== 5) parts.push(`--servers ${o.servers}`);
  if (o.observers) parts.push(`--observers ${o.observers}`);
  if (o.steps !== undefined) parts.push(`--steps ${o.steps}`);
  if (o.faultMs !== undefined) parts.push(`--fault-ms ${o.faultMs}`);
  if (o.spares) parts.push(`--spares ${o.spares}`);
  if (o.reconfig) parts.push('--reconfig');
  return parts.join(' ');
}

/** a random membership change through the leader (it may be refused, as a client's would) */
function randomReconfig(sim: Simulation): void {
  const p = sim.prng;
  const m = sim.membership;
  // servers syncing as non-voting learners, or removed ones (they learn they are back from peers)
  const outside = sim.ids.filter((id) => !m.members.has(id) && sim.view(id).alive);
  const roll = p.int(100);
  if (roll < 40 && outside.length > 0) {
    sim.reconfig({ op: 'add', id: p.pick(outside), observer: p.chance(0.25) });
  } else if (roll < 70) {
    // the leader now and then: leadership is handed over
    const leader = sim.leader();
    sim.reconfig({ op: 'remove', id: leader !== null && p.chance(0.4) ? leader : p.pick([...m.members.keys()]) });
  } else {
    sim.reconfig({ op: 'flip', id: p.pick([...m.members.keys()]) });
  }
}

function randomFault(sim: Simulation, reconfig: boolean): void {
  const p = sim.prng;
  if (reconfig && p.chance(0.3)) {
    randomReconfig(sim);
    return;
  }
  const ids = sim.ids;
  const up = ids.filter((id) => sim.view(id).alive);
  const down = ids.filter((id) => !sim.view(id).alive);
  // a single server can only crash, restart, pause or get a slow disk
  const roll = ids.length < 2 ? p.pick([0, 30, 90, 96]) : p.int(100);
  if (roll < 22 && up.length > 0) {
    // prefer the leader now and then: that is where the interesting recoveries are
    const leader = sim.leader();
    sim.crash(leader !== null && p.chance(0.5) ? leader : p.pick(up));
  } else if (roll < 45 && down.length > 0) {
    sim.restart(p.pick(down));
  } else if (roll < 58) {
    const shuffled = p.shuffle(ids);
    const cut = p.range(1, ids.length - 1);
    sim.partition(shuffled.slice(0, cut), shuffled.slice(cut));
  } else if (roll < 68) {
    const leader = sim.leader();
    if (leader !== null && p.chance(0.6)) {
      // a leader cut off keeps taking writes until it notices: they stay an uncommitted tail
      // that a later leader must TRUNC away
      sim.isolate(leader);
      const c = sim.clients.length > 0 ? p.pick(sim.clients) : undefined;
      if (c !== undefined && c.server !== leader) sim.moveClient(c, leader);
    } else {
      sim.isolate(p.pick(ids));
    }
  } else if (roll < 80) {
    sim.heal();
  } else if (roll < 88) {
    // reset a leader ↔ learner connection: the learner rejoins, often with proposals in flight
    const leader = sim.leader() ?? p.pick(ids);
    const other = p.pick(ids.filter((x) => x !== leader));
    sim.resetConnection(leader, other);
  } else if (roll < 94) {
    // SIGSTOP, usually the leader, often past syncLimit (protocol doc §9)
    const leader = sim.leader();
    sim.pause(leader !== null && p.chance(0.7) ? leader : p.pick(ids), p.range(100, 1500));
  } else {
    sim.slowDisk(p.pick(ids), p.chance(0.3) ? 0 : p.range(50, 600));
  }
}

export function runSeed(o: RunOptions): RunSummary {
  const servers = o.servers ?? 5;
  // the seed also picks the weather: latency spread (reordering of election messages), election
  // message loss, disk speed
  const w = new Prng(o.seed ^ 0x5eed5eed);
  const sim = new Simulation({
    seed: o.seed,
    servers,
    observers: o.observers ?? 0,
    netDelayMsMin: 1,
    netDelayMsMax: w.pick([4, 8, 20, 40]),
    electionDropP: w.pick([0, 0, 0.02, 0.1]),
    fsyncMsMin: 1,
    fsyncMsMax: w.pick([3, 12, 40]),
    spares: o.spares ?? 0,
    reconfig: o.reconfig ?? false,
    keepTrace: o.onFailure !== undefined,
  });
  try {
    return runPhases(o, sim, servers);
  } catch (e) {
    o.onFailure?.(sim);
    throw e;
  }
}

function runPhases(o: RunOptions, sim: Simulation, servers: number): RunSummary {
  const faultMs = o.faultMs ?? 15_000;
  const stepsMax = o.steps ?? Number.MAX_SAFE_INTEGER;
  const livenessMs = o.livenessMs ?? 20_000;
  for (const id of sim.ids) sim.at(sim.prng.int(400), () => sim.start(id));
  for (let i = 0; i < (o.clients ?? 3); i++) sim.addClient(true);

  // fault phase
  const faultEnd = sim.now + faultMs;
  let nextFault = sim.now + 500 + sim.prng.int(1000);
  while (sim.now < faultEnd && sim.steps < stepsMax) {
    if (sim.now >= nextFault) {
      randomFault(sim, o.reconfig ?? false);
      nextFault = sim.now + sim.prng.range(150, 1500);
    }
    if (!sim.stepOnce()) break;
  }

  // liveness phase: heal everything, bring everyone back, demand progress
  sim.heal();
  for (const id of sim.ids) if (!sim.view(id).alive) sim.restart(id);
  // SIGCONT: paused servers resume when their pause ends (at most 1.5 s)
  sim.runUntil(() => sim.ids.every((id) => !sim.isPaused(id)), livenessMs, 'paused servers resumed');
  const healAt = sim.now;
  const ackedAtHeal = sim.acked.length;
  sim.runUntil(() => sim.leader() !== null, livenessMs, 'a serving leader after healing');
  const healToLeaderMs = sim.now - healAt;
  sim.runUntil(() => sim.acked.length >= ackedAtHeal + 5, livenessMs, 'five acknowledged writes after healing');
  sim.stopClients();
  try {
    sim.runUntil(() => sim.memberIds().every((id) => sim.view(id).serving), livenessMs, 'every member serving after healing');
  } catch (e) {
    if (!(e instanceof SimFailure)) throw e;
    const states = sim.ids
      .map((id) => {
        const v = sim.view(id);
        if (v.serving) return `${id}:${v.role}`;
        const last = sim.abandons.filter((a) => a.sid === id).slice(-2).map((a) => `@${a.atMs} ${a.reason}`).join('; ');
        return `${id}:${v.role}(not serving; last abandoned: ${last || 'never'}; ${sim.describe(id)})`;
      })
      .join(' ');
    throw new SimFailure(`every member of ${sim.membership.toText().replace(/\n/g, ' ')} serving after healing; servers ${states}`, e.seed, e.atMs, e.step);
  }
  sim.runFor(1000);
  // a reconfig still in flight at the heal may make a learner re-sync in that second
  if (o.reconfig === true) sim.runUntil(() => sim.memberIds().every((id) => sim.view(id).serving), livenessMs, 'every member serving again');
  sim.checkConverged();
  return {
    seed: o.seed,
    servers,
    steps: sim.steps,
    simMs: sim.now,
    committed: sim.committed().length,
    acked: sim.acked.length,
    ackedAfterHeal: sim.acked.length - ackedAtHeal,
    leadersEstablished: sim.established.length,
    crashes: sim.crashes,
    abandons: sim.abandons.length,
    syncsChecked: sim.syncsChecked,
    finalLeader: sim.leader(),
    healToLeaderMs,
    syncs: ['DIFF', 'TRUNC', 'SNAP'].map((k) => `${k} ${sim.syncKinds.get(k) ?? 0}`).join(' '),
    reconfigs: sim.reconfigs,
    membership: `${sim.membership.voters.join(',')}${sim.membership.observers.length > 0 ? `+obs ${sim.membership.observers.join(',')}` : ''} v${sim.membership.version.toString(16)}`,
  };
}

export { SimFailure };
