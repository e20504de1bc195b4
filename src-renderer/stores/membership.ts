/**
 * Dynamic membership of the running ensemble (ensembles started with reconfig on): add a
 * server or an observer, remove one, flip one between voter and observer. Each is a reconfig
 * the supervisor issues; the new membership arrives with the next ensemble snapshot.
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { useBridge } from '../bridge';
import { useClusterStore } from './cluster';
import { useEventsStore } from './event-log';

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export const useMembershipStore = defineStore('membership', () => {
  const bridge = useBridge();
  const cluster = useClusterStore();
  /** what is in flight, in words (one change at a time: the servers take one reconfig at a time) */
  const busy = ref<string | null>(null);
  const membership = computed(() => cluster.ensemble?.membership ?? null);

  async function run(what: string, server: number | null, op: () => Promise<unknown>): Promise<void> {
    busy.value = what;
    const events = useEventsStore();
    events.record('action', server, `you asked to ${what}`);
    try {
      const result = await op();
      const done = typeof result === 'number' ? `Server ${result} joined the ensemble.` : `Done: ${what}.`;
      cluster.notify('info', done);
    } catch (e) {
      cluster.notify('error', `Could not ${what}: ${messageOf(e)}`);
      events.record('error', server, `${what} failed: ${messageOf(e)}`, 'bad');
    } finally {
      busy.value = null;
    }
  }

  const addServer = (role: 'participant' | 'observer') => run(role === 'observer' ? 'add an observer' : 'add a server', null, () => bridge.calls.addServer({ role }));
  const removeServer = (id: number) => run(`remove server ${id}`, id, () => bridge.calls.removeServer(id));
  const setRole = (id: number, role: 'participant' | 'observer') =>
    run(role === 'observer' ? `make server ${id} an observer` : `make server ${id} a voter`, id, () => bridge.calls.setServerRole(id, role));

  return { busy, membership, addServer, removeServer, setRole };
});
