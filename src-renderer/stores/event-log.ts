/**
 * The event log: what happened to the ensemble (derived from successive snapshots), what the
 * person did, and the servers' own log lines. Bounded; server log lines arrive batched per
 * animation frame.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import { useBridge } from '../bridge';
import type { TraceEvent } from '../../src-main/common/trace';
import { appendBounded, diffEnsembles, matchesFilter, traceToLog, type LogEntry, type LogKind } from '../lib/ensemble-diff';
import { batchPerFrame } from '../lib/frame-batch';
import { useClusterStore } from './cluster';

const entriesMax = 2_000;
export const logKinds: readonly LogKind[] = ['state', 'role', 'error', 'action', 'session', 'watch', 'fault', 'log'];

export const useEventsStore = defineStore('events', () => {
  const cluster = useClusterStore();
  const entries = shallowRef<LogEntry[]>([]);
  const kinds = ref<Set<LogKind>>(new Set(['state', 'role', 'error', 'action', 'session', 'fault']));
  const filter = ref('');
  const filtered = computed(() => entries.value.filter((e) => matchesFilter(e, kinds.value, filter.value.trim())));

  function push(items: readonly LogEntry[]): void {
    if (items.length > 0) entries.value = appendBounded(entries.value, items, entriesMax);
  }
  function record(kind: LogKind, server: number | null, text: string, tone: LogEntry['tone'] = 'info'): void {
    push([{ t: Date.now(), kind, server, text, tone }]);
  }
  function toggleKind(kind: LogKind): void {
    const next = new Set(kinds.value);
    if (next.has(kind)) next.delete(kind);
    else next.add(kind);
    kinds.value = next;
  }
  function clear(): void {
    entries.value = [];
  }

  let started = false;
  function init(): void {
    if (started) return;
    started = true;
    watch(
      () => cluster.ensemble,
      // an ensemble the app did not start has no processes to tell about (connecting is logged as an action)
      (after, before) => push(after?.external || before?.external ? [] : diffEnsembles(before ?? null, after, Date.now())),
      { immediate: true },
    );
    const pushLines = batchPerFrame<LogEntry>((run) => requestAnimationFrame(run), push, entriesMax);
    const seen = new Set<string>();
    const pushTrace = batchPerFrame<TraceEvent>((run) => requestAnimationFrame(run), (events) => push(traceToLog(events, seen, 10_000, cluster.servers.map((s) => s.id))), entriesMax);
    useBridge().on('trace', (batch) => pushTrace(batch));
    useBridge().on('serverLog', ({ server, lines }) => {
      const t = Date.now();
      pushLines(lines.map((text) => ({ t, kind: 'log' as const, server, text, tone: /\b(ERROR|FATAL)\b/.test(text) ? ('bad' as const) : /\bWARN\b/.test(text) ? ('warn' as const) : ('idle' as const) })));
    });
  }

  return { entries, kinds, filter, filtered, init, record, toggleKind, clear };
});
