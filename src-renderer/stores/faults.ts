/**
 * Faults and step mode on the running ensemble (the supervisor's link fault table, held quorum
 * messages), and each server's recent `srvr` samples for its sparklines (polled while shown).
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { HealthSampleView } from '../../src-main/api/contract';
import { useBridge } from '../bridge';
import { describeFaults, isolatedIds, sidesOf } from '../lib/faults';
import { useClusterStore } from './cluster';
import { useEventsStore } from './event-log';

const healthPollMs = 2000;
const healthSamplesShown = 40;

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export const useFaultsStore = defineStore('faults', () => {
  const bridge = useBridge();
  const cluster = useClusterStore();
  const busy = ref(false);
  const health = shallowRef<Record<number, HealthSampleView[]>>({});

  const rules = computed(() => cluster.ensemble?.faults ?? []);
  const ids = computed(() => cluster.servers.map((s) => s.id));
  const isolated = computed(() => isolatedIds(rules.value, ids.value));
  const sides = computed(() => sidesOf(rules.value, ids.value));
  const words = computed(() => describeFaults(rules.value, ids.value));
  const stepMode = computed(() => cluster.ensemble?.stepMode === true);
  const held = computed(() => cluster.ensemble?.held ?? 0);
  const releaseEveryMs = computed(() => cluster.ensemble?.releaseEveryMs ?? null);

  async function run(what: string, op: () => Promise<unknown>, server: number | null = null): Promise<boolean> {
    busy.value = true;
    useEventsStore().record('action', server, `you asked to ${what}`);
    try {
      await op();
      return true;
    } catch (e) {
      cluster.notify('error', `Could not ${what}: ${messageOf(e)}`);
      useEventsStore().record('error', server, `${what} failed: ${messageOf(e)}`, 'bad');
      return false;
    } finally {
      busy.value = false;
    }
  }

  const isolate = (id: number) => run(`isolate server ${id}`, () => bridge.calls.isolateServer(id), id);
  const heal = () => run('heal every link', () => bridge.calls.healEnsemble());
  /** one side as chosen; every other server forms the other side */
  const split = (side: number[]) => run(`split ${side.join(' ')} from the rest`, () => bridge.calls.partitionEnsemble([side]));
  const delay = (from: number, to: number, delayMs: number) => run(`delay ${from}→${to} by ${delayMs} ms`, () => bridge.calls.faultLink(from, to, { delayMs }));
  const drop = (from: number, to: number) => run(`drop every message ${from}→${to}`, () => bridge.calls.faultLink(from, to, { drop: true }));
  const setStepMode = (on: boolean) => run(on ? 'hold peer messages (step mode)' : 'let every held message go', () => bridge.calls.setStepMode(on));
  const release = (count = 1) => run(`release ${count} held message${count === 1 ? '' : 's'}`, () => bridge.calls.releaseHeld(count));
  const releaseEvery = (ms: number | null) => run(ms === null ? 'stop the slow release' : `release one held message every ${ms} ms`, () => bridge.calls.releaseEvery(ms));

  async function pollHealth(): Promise<void> {
    const running = cluster.servers.filter((s) => s.state === 'running');
    const next: Record<number, HealthSampleView[]> = {};
    await Promise.all(
      running.map(async (s) => {
        try {
          next[s.id] = await bridge.calls.serverHealth(s.id, healthSamplesShown);
        } catch {
          // the ensemble went away between the list and the call: no samples this round
        }
      }),
    );
    health.value = next;
  }

  let timer: ReturnType<typeof setInterval> | null = null;
  function init(): void {
    if (timer !== null) return;
    timer = setInterval(() => {
      if (cluster.ensemble && document.visibilityState === 'visible') void pollHealth();
    }, healthPollMs);
  }

  return { busy, health, rules, isolated, sides, words, stepMode, held, releaseEveryMs, init, isolate, heal, split, delay, drop, setStepMode, release, releaseEvery, pollHealth };
});
