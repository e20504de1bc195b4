/**
 * The terminal session: which target it talks to (the ensemble or one server), its id on the
 * backend, and whether the shell ended. Output goes to whoever mounted the xterm (`attach`).
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { useBridge } from '../bridge';

export type TerminalTarget = number | null;

export const useTerminalStore = defineStore('terminal', () => {
  const bridge = useBridge();
  const id = ref<number | null>(null);
  const target = ref<TerminalTarget>(null);
  const connectString = ref('');
  const ended = ref(false);
  const error = ref<string | null>(null);
  let write: ((data: string) => void) | null = null;
  let columns = 80;
  /** an openTerminal call is on its way (its output may arrive before its answer) */
  let opening = false;
  let generation = 0;

  /** output that arrives before openTerminal's answer (the shell starts writing at once) */
  let early = new Map<number, string>();
  const earlyCharsMax = 64 * 1024;
  bridge.on('terminalOutput', (o) => {
    if (o.id === id.value) write?.(o.data);
    else if (opening) early.set(o.id, ((early.get(o.id) ?? '') + o.data).slice(-earlyCharsMax));
  });
  bridge.on('terminalExit', (e) => {
    if (e.id !== id.value) return;
    ended.value = true;
    id.value = null;
    write?.(`\r\n\x1b[2m[the shell ended (status ${e.code}): press Enter for a new one]\x1b[0m\r\n`);
  });

  /**
   * Opens a fresh shell. Each open (and each detach) starts a new generation: an answer for an
   * older one (the pane was closed or reopened meanwhile) closes that shell instead of using it.
   */
  async function open(): Promise<void> {
    const gen = ++generation;
    if (id.value !== null) void bridge.calls.closeTerminal(id.value).catch(() => {});
    id.value = null;
    ended.value = false;
    error.value = null;
    opening = true;
    try {
      const t = await bridge.calls.openTerminal({ server: target.value, columns });
      if (gen !== generation) {
        void bridge.calls.closeTerminal(t.id).catch(() => {});
        return;
      }
      id.value = t.id;
      connectString.value = t.connectString;
      const first = early.get(t.id);
      if (first) write?.(first);
    } catch (e) {
      if (gen === generation) error.value = `Could not open a shell: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      if (gen === generation) {
        opening = false;
        early = new Map();
      }
    }
  }

  /** the mounted xterm: where output goes, and its width */
  function attach(writer: (data: string) => void, cols: number): void {
    write = writer;
    columns = cols;
  }
  function detach(): void {
    generation++;
    opening = false;
    write = null;
    if (id.value !== null) void bridge.calls.closeTerminal(id.value).catch(() => {});
    id.value = null;
  }
  function input(data: string): void {
    if (id.value !== null) void bridge.calls.terminalInput(id.value, data).catch((e: unknown) => (error.value = String(e)));
    else if (ended.value && data === '\r') void open();
  }
  function resize(cols: number): void {
    columns = cols;
    if (id.value !== null) void bridge.calls.resizeTerminal(id.value, cols).catch(() => {});
  }
  function retarget(t: TerminalTarget): void {
    target.value = t;
    write?.(`\r\n\x1b[2m[connecting to ${t === null ? 'the ensemble' : `server ${t}`}…]\x1b[0m\r\n`);
    void open();
  }

  return { id, target, connectString, ended, error, open, attach, detach, input, resize, retarget };
});
