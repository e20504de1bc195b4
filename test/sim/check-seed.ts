/** One random simulator run that must make progress after the faults heal; a failure names the command that replays it. */
import { expect } from 'vitest';
import { replayCommand, runSeed, type RunOptions } from '../../src-main/sim/random-run';

export function checkSeed(o: RunOptions): void {
  try {
    const s = runSeed(o);
    expect(s.ackedAfterHeal).toBeGreaterThanOrEqual(5);
    expect(s.finalLeader).not.toBeNull();
  } catch (e) {
    throw new Error(`${(e as Error).message}\nreplay: ${replayCommand(o)}`, { cause: e });
  }
}
