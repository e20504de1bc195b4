/**
 * The cluster domain: the ensemble as the backend last reported it, the actions a person can
 * take on it, what is in flight, and what went wrong. Ensemble snapshots are applied at most
 * once per animation frame.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { EnsembleView, SavedEnsembleView, StartEnsembleOptions } from '../../src-main/api/contract';
import { useBridge, type ConnectionStatus } from '../bridge';
import { latestPerFrame } from '../lib/frame-batch';
import { actionDone, sortedServers, summarize, type ServerAction } from '../lib/server-model';
import { useEventsStore } from './event-log';

export type ServerFile = 'zoo.cfg' | 'zoo.cfg.dynamic' | 'myid' | 'log';

export interface Notice {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

const noticesMax = 3;

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export const useClusterStore = defineStore('cluster', () => {
  const bridge = useBridge();
  const ensemble = shallowRef<EnsembleView | null>(null);
  const loaded = ref(false);
  const connection = ref<ConnectionStatus>(bridge.status());
  const connectionDetail = ref('');
  const busy = ref<Record<number, ServerAction | undefined>>({});
  const starting = ref(false);
  const stopping = ref(false);
  const notices = ref<Notice[]>([]);
  /** the server keyboard shortcuts act on */
  const selected = ref<number | null>(null);
  /** the files dialog: which server, which file first */
  const filesOpen = ref<{ id: number; file: ServerFile } | null>(null);
  let noticeId = 0;

  /**
   * Servers this page paused, for as long as the backend's view does not say `paused` itself
   * (the field is optional in the contract): a pause we asked for shows until resumed or the
   * process changes.
   */
  const pausedHere = ref<Record<number, number | null>>({});
  const view = computed<EnsembleView | null>(() => {
    const e = ensemble.value;
    if (!e) return null;
    return {
      ...e,
      servers: e.servers.map((s) => (s.paused === undefined && pausedHere.value[s.id] !== undefined && pausedHere.value[s.id] === s.pid && s.state === 'running' ? { ...s, paused: true } : s)),
    };
  });
  const servers = computed(() => sortedServers(view.value));
  const summary = computed(() => (view.value ? summarize(view.value) : null));

  function notify(kind: Notice['kind'], text: string): void {
    notices.value = [...notices.value, { id: ++noticeId, kind, text }].slice(-noticesMax);
  }
  function dismiss(id: number): void {
    notices.value = notices.value.filter((n) => n.id !== id);
  }

  const applyEnsemble = latestPerFrame<EnsembleView | null>(
    (run) => requestAnimationFrame(run),
    (e) => {
      ensemble.value = e;
    },
  );

  async function refresh(): Promise<void> {
    try {
      // through the same per-frame path as pushed snapshots, so an older one cannot land after it
      applyEnsemble(await bridge.calls.getEnsemble());
      loaded.value = true;
    } catch (e) {
      notify('error', `Could not read the ensemble: ${messageOf(e)}`);
    }
  }

  function init(): void {
    bridge.on('ensemble', (e) => {
      applyEnsemble(e);
      // the last snapshot of a stopped ensemble: ask whether it is gone (back to the start screen)
      if (e.servers.every((s) => s.state === 'stopped' || s.state === 'crashed')) void refresh();
    });
    bridge.onStatus((s, detail) => {
      connection.value = s;
      connectionDetail.value = detail;
      if (s === 'open') void refresh();
    });
    void refresh();
  }

  async function startEnsemble(options: StartEnsembleOptions): Promise<void> {
    starting.value = true;
    try {
      applyEnsemble(await bridge.calls.startEnsemble(options));
    } catch (e) {
      notify('error', `Could not start the ensemble: ${messageOf(e)}`);
    } finally {
      starting.value = false;
    }
  }

  const saved = ref<SavedEnsembleView[]>([]);
  async function loadSaved(): Promise<void> {
    try {
      saved.value = await bridge.calls.listSavedEnsembles();
    } catch (e) {
      notify('error', `Could not list the saved ensembles: ${messageOf(e)}`);
    }
  }
  async function openSaved(name: string): Promise<void> {
    starting.value = true;
    try {
      applyEnsemble(await bridge.calls.openSavedEnsemble(name));
    } catch (e) {
      notify('error', `Could not reopen ${name}: ${messageOf(e)}`);
    } finally {
      starting.value = false;
    }
  }
  /** connect the tree and terminals to an ensemble the app did not start */
  async function connectExisting(connectString: string, digest: { user: string; password: string } | null): Promise<boolean> {
    starting.value = true;
    try {
      applyEnsemble(await bridge.calls.connectExisting({ connectString, digest }));
      useEventsStore().record('action', null, `connected to ${connectString}${digest ? ` as ${digest.user}` : ''}`);
      return true;
    } catch (e) {
      notify('error', `Could not connect to ${connectString}: ${messageOf(e)}`);
      return false;
    } finally {
      starting.value = false;
    }
  }
  async function disconnectExisting(): Promise<void> {
    try {
      await bridge.calls.disconnectExisting();
      await refresh();
    } catch (e) {
      notify('error', `Could not disconnect: ${messageOf(e)}`);
    }
  }

  async function stopEnsemble(): Promise<void> {
    stopping.value = true;
    try {
      await bridge.calls.stopEnsemble();
      await refresh();
      notify('info', 'Every server stopped.');
    } catch (e) {
      notify('error', `Could not stop the ensemble: ${messageOf(e)}`);
    } finally {
      stopping.value = false;
    }
  }

  async function act(id: number, action: ServerAction): Promise<void> {
    busy.value = { ...busy.value, [id]: action };
    const c = bridge.calls;
    const run: Record<ServerAction, (id: number) => Promise<void>> = {
      kill: c.killServer,
      stop: c.stopServer,
      start: c.startServer,
      restart: c.restartServer,
      pause: c.pauseServer,
      resume: c.resumeServer,
    };
    const events = useEventsStore();
    events.record('action', id, `you asked to ${action} it`);
    try {
      await run[action](id);
      const pid = ensemble.value?.servers.find((x) => x.id === id)?.pid ?? null;
      const next = { ...pausedHere.value };
      if (action === 'pause') next[id] = pid;
      else delete next[id];
      pausedHere.value = next;
      notify('info', `Server ${id} ${actionDone(action)}.`);
    } catch (e) {
      notify('error', `Could not ${action} server ${id}: ${messageOf(e)}`);
      events.record('error', id, `${action} failed: ${messageOf(e)}`, 'bad');
    } finally {
      busy.value = { ...busy.value, [id]: undefined };
    }
  }

  function openFiles(id: number, file: ServerFile = 'zoo.cfg'): void {
    filesOpen.value = { id, file };
  }
  function closeFiles(): void {
    filesOpen.value = null;
  }

  async function readFile(id: number, file: ServerFile): Promise<string> {
    return bridge.calls.readServerFile(id, file);
  }

  return {
    ensemble,
    loaded,
    connection,
    connectionDetail,
    busy,
    starting,
    stopping,
    notices,
    selected,
    filesOpen,
    servers,
    summary,
    init,
    refresh,
    startEnsemble,
    stopEnsemble,
    saved,
    loadSaved,
    openSaved,
    connectExisting,
    disconnectExisting,
    act,
    readFile,
    openFiles,
    closeFiles,
    notify,
    dismiss,
  };
});
