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
  let opening: Promise<void> | null = null;

  bridge.on('terminalOutput', (o) => {
    if (o.id === id.value) write?.(o.data);
  });
  bridge.on('terminalExit', (e) => {
    if (e.id !== id.value) return;
    ended.value = true;
    id.value = null;
    write?.(`\r\n\x1b[2m[the shell ended (status ${e.code}): press Enter for a new one]\x1b[0m\r\n`);
  });

  async function open(): Promise<void> {
    opening ??= (async () => {
      try {
        if (id.value !== null) await bridge.calls.closeTerminal(id.value).catch(() => {});
        id.value = null;
        ended.value = false;
        error.value = null;
        const t = await bridge.calls.openTerminal({ server: target.value, columns });
        id.value = t.id;
        connectString.value = t.connectString;
      } catch (e) {
        error.value = `Could not open a shell: ${e instanceof Error ? e.message : String(e)}`;
      } finally {
        opening = null;
      }
    })();
    return opening;
  }

  /** the mounted xterm: where output goes, and its width */
  function attach(writer: (data: string) => void, cols: number): void {
    write = writer;
    columns = cols;
  }
  function detach(): void {
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
