/**
 * The servers' trace events (batched per animation frame, bounded) and the write-path player:
 * which request is shown, how far its animation got, playing or paused, how fast.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import type { TraceEvent } from '../../src-main/common/trace';
import { useBridge } from '../bridge';
import { appendBounded } from '../lib/ensemble-diff';
import { batchPerFrame } from '../lib/frame-batch';
import { buildElections, type Election } from '../lib/election';
import { buildWritePaths, type WritePath } from '../lib/write-path';

const eventsMax = 20_000;
const pathsMax = 40;
const stepMsAtNormalSpeed = 450;

export const useTraceStore = defineStore('trace', () => {
  const events = shallowRef<TraceEvent[]>([]);
  const paths = computed<WritePath[]>(() => buildWritePaths(events.value, pathsMax));
  const elections = computed<Election[]>(() => buildElections(events.value));
  const selectedId = ref<string | null>(null);
  /** rows of the diagram shown so far */
  const cursor = ref(0);
  const playing = ref(false);
  /** 1 = normal, 0.25 = slow motion */
  const speed = ref(1);
  /** jump to each new request as it arrives */
  const follow = ref(true);
  let timer: ReturnType<typeof setInterval> | null = null;
  let rowsOfSelected = 0;

  const selected = computed(() => paths.value.find((p) => p.id === selectedId.value) ?? paths.value.at(-1) ?? null);

  function stopTimer(): void {
    if (timer !== null) clearInterval(timer);
    timer = null;
  }
  function startTimer(): void {
    stopTimer();
    timer = setInterval(() => {
      if (cursor.value < rowsOfSelected) cursor.value++;
      else {
        playing.value = false;
        stopTimer();
        // following: once this one is drawn, move on to the newest request
        const newest = paths.value.at(-1)?.id;
        if (follow.value && newest !== undefined && newest !== selected.value?.id) select(newest);
      }
    }, stepMsAtNormalSpeed / speed.value);
  }

  function setRowCount(n: number): void {
    rowsOfSelected = n;
    if (!playing.value && cursor.value > n) cursor.value = n;
  }
  function select(id: string, play = true): void {
    selectedId.value = id;
    cursor.value = play ? 0 : Number.MAX_SAFE_INTEGER;
    playing.value = play;
    if (play) startTimer();
  }
  function togglePlay(): void {
    if (playing.value) {
      playing.value = false;
      stopTimer();
      return;
    }
    if (cursor.value >= rowsOfSelected) cursor.value = 0;
    playing.value = true;
    startTimer();
  }
  function step(delta: 1 | -1): void {
    playing.value = false;
    stopTimer();
    cursor.value = Math.max(0, Math.min(rowsOfSelected, Math.min(cursor.value, rowsOfSelected) + delta));
  }
  function setSpeed(s: number): void {
    speed.value = s;
    if (playing.value) startTimer();
  }

  watch(
    () => paths.value.at(-1)?.id,
    (newest, before) => {
      if (newest && newest !== before && follow.value && !playing.value) select(newest);
    },
  );

  let started = false;
  function init(): void {
    if (started) return;
    started = true;
    const push = batchPerFrame<TraceEvent>((run) => requestAnimationFrame(run), (items) => {
      events.value = appendBounded(events.value, items, eventsMax);
    }, eventsMax);
    useBridge().on('trace', (batch) => push(batch));
  }

  return { events, paths, elections, selected, selectedId, cursor, playing, speed, follow, init, select, togglePlay, step, setSpeed, setRowCount };
});
