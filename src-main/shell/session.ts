/**
 * ShellSession: zkCli's interpreter (ZooKeeperMain) without a terminal. Input comes in as
 * bytes/keys (`feed`) or whole command lines; output goes out as text through callbacks. The
 * same session runs behind `zoolab shell` (stdin/stdout) and the app's xterm pane.
 *
 * Three modes, as zkCli has them:
 * - `oneShot`: `runOnce(words)` runs one command given on the command line, then the caller
 *   exits with `exitCode`.
 * - `lines`: input is piped text; no prompt, no echo (zkCli without JLine).
 * - `terminal`: raw keys from a terminal; line editing, history, tab completion, the prompt
 *   `[zk: host:port(CONNECTED) N] `; output uses CRLF line ends.
 */
import { tokenizeLine, decodeJavaInt } from './args';
import { CliError, JavaCrash, commandDefs, findCommand, parseCommand, usageText } from './commands';
import type { CommandContext } from './commands';
import { complete } from './completion';
import type { ShellWatchedEvent } from './format';
import { formatWatcherNotification } from './format';
import { LineEditor } from './line-editor';
import type { ShellZk, ShellZkFactory } from './zk-port';

export type ShellMode = 'oneShot' | 'lines' | 'terminal';

export interface ShellSessionOptions {
  /** the -server connection string */
  server: string;
  timeoutMs: number;
  readOnly?: boolean;
  mode: ShellMode;
  connect: ShellZkFactory;
  stdout(text: string): void;
  stderr(text: string): void;
  /** called once when the session ends (quit, end of input, one-shot done) with zkCli's status */
  onExit?(code: number): void;
  /** IANA zone for ctime/mtime (the process's zone by default) */
  timeZone?: string;
  /** local file access for reconfig -file (see CommandContext.readFile) */
  readFile?(path: string): Promise<string>;
}

const commandNames = commandDefs.map((d) => d.name);
/** Commands that work without a live session (the rest print "Not connected"). */
const sessionLevel = new Set(['quit', 'redo', 'history', 'printwatches', 'connect']);

export class ShellSession {
  private zk: ShellZk | null = null;
  private host: string;
  private printWatches = true;
  private readonly history = new Map<number, string>();
  private commandCount = 0;
  private code = 0;
  private ended = false;
  private busy = false;
  private readonly queue: string[] = [];
  private lineBuffer = '';
  /** after the session ended: late events and output are dropped, as zkCli's exit drops them */
  private muted = false;
  private readonly editor: LineEditor;
  private readonly terminal: boolean;
  /** terminal mode: the last text written ended a line */
  private atLineStart = true;
  /** bumped by Ctrl-C: output of a command started under an older value is dropped */
  private commandGen = 0;
  /** resolves the race of the command that is running (terminal mode), if any */
  private interruptRunning: (() => void) | null = null;

  constructor(private readonly options: ShellSessionOptions) {
    this.host = options.server;
    this.terminal = options.mode === 'terminal';
    this.editor = new LineEditor((t) => options.stdout(t));
  }

  /** zkCli's exit status so far: the last command's. */
  get exitCode(): number {
    return this.code;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** The prompt zkCli shows with JLine: `[zk: 127.0.0.1:2181(CONNECTED) 3] `. */
  get prompt(): string {
    const state = this.zk?.state ?? 'CLOSED';
    return `[zk: ${this.host}(${state}) ${this.commandCount}] `;
  }

  /** Connect and greet, as zkCli does before it reads commands. */
  start(): void {
    this.out(`Connecting to ${this.host}\n`);
    this.openSession(this.host);
    if (this.options.mode === 'oneShot') return;
    this.out('Welcome to ZooKeeper!\n');
    this.out(this.terminal ? 'JLine support is enabled\n' : 'JLine support is disabled\n');
    if (this.terminal) this.showPrompt();
  }

  /** One command from the command line (words already split by the OS shell). */
  async runOnce(words: readonly string[]): Promise<number> {
    await this.execute([...words], words.join(' '));
    if (!this.ended) this.finish(this.code);
    return this.code;
  }

  /** Terminal keys or piped text. */
  feed(data: string): void {
    if (this.ended) return;
    const ctrlC = data.lastIndexOf('\x03');
    if (this.terminal && ctrlC >= 0 && this.interruptRunning !== null) {
      // Ctrl-C while a command runs: abandon it and return to the prompt; what was typed ahead
      // before the ^C is discarded, as a terminal flushes its input on an interrupt
      this.queue.length = 0;
      this.interruptCommand();
      data = data.slice(ctrlC + 1);
      if (data.length === 0) return;
    }
    this.queue.push(data);
    void this.pump();
  }

  /**
   * Ctrl-C during a command: calls still waiting for a connection fail unsent, the command's
   * further output is dropped, `^C` and a fresh prompt are shown. A request already sent may
   * still take effect at the server (as when zkCli is killed by the interrupt).
   */
  private interruptCommand(): void {
    const resume = this.interruptRunning;
    if (resume === null) return;
    this.interruptRunning = null;
    this.commandGen += 1;
    this.zk?.cancelWaiting();
    this.out('^C\n');
    resume();
  }

  /** Runs one command line; in terminal mode Ctrl-C ends the wait early (see interruptCommand). */
  private async runInterruptibly(line: string): Promise<void> {
    if (!this.terminal) {
      await this.executeLine(line);
      return;
    }
    let interrupted = false;
    const interrupt = new Promise<void>((resolve) => {
      this.interruptRunning = () => {
        interrupted = true;
        resolve();
      };
    });
    const running = this.executeLine(line);
    await Promise.race([running, interrupt]);
    this.interruptRunning = null;
    if (interrupted) {
      // the abandoned command finishes in the background, silently; it keeps its history number
      void running.catch(() => undefined);
      this.commandCount += 1;
    }
  }

  /** End of piped input (stdin closed): zkCli exits with the last command's status. */
  endOfInput(): void {
    this.queue.push('\u0004EOF');
    void this.pump();
  }

  /** Leave without a status change (the terminal pane closed): closes the ZooKeeper session. */
  async dispose(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.muted = true;
    const zk = this.zk;
    this.zk = null;
    if (zk !== null) await zk.close();
  }

  // ---- input ----

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length > 0 && !this.ended) {
        const data = this.queue.shift() as string;
        if (data === '\u0004EOF') {
          if (this.lineBuffer.length > 0) {
            const last = this.lineBuffer;
            this.lineBuffer = '';
            await this.executeLine(last);
          }
          if (!this.ended) this.finish(this.code);
          break;
        }
        if (this.terminal) await this.feedTerminal(data);
        else await this.feedLines(data);
      }
    } finally {
      this.busy = false;
    }
  }

  private async feedLines(data: string): Promise<void> {
    this.lineBuffer += data;
    let nl: number;
    while ((nl = this.lineBuffer.indexOf('\n')) >= 0 && !this.ended) {
      const line = this.lineBuffer.slice(0, nl).replace(/\r$/, '');
      this.lineBuffer = this.lineBuffer.slice(nl + 1);
      await this.executeLine(line);
    }
  }

  private async feedTerminal(data: string): Promise<void> {
    let rest = data;
    while (rest.length > 0 && !this.ended) {
      const r = this.editor.feed(rest);
      rest = r.rest;
      for (const a of r.actions) {
        if (this.ended) return;
        if (a.kind === 'line') {
          await this.runInterruptibly(a.line);
          if (!this.ended) this.showPrompt();
        } else if (a.kind === 'interrupt') {
          this.showPrompt();
        } else if (a.kind === 'eof') {
          await this.quit();
          return;
        } else {
          const result = await complete(a.line, a.cursor, commandNames, (p) => this.listChildren(p));
          this.editor.applyCompletion(result);
        }
      }
    }
  }

  private async listChildren(path: string): Promise<string[] | null> {
    const zk = this.zk;
    if (zk === null || zk.state !== 'CONNECTED') return null;
    const r = await zk.getChildren(path, false);
    return r.ok ? r.value.children : null;
  }

  private showPrompt(): void {
    // the prompt starts on a row of its own even after output without a final newline
    if (!this.atLineStart) this.options.stdout('\r\n');
    this.editor.setPrompt(this.prompt);
    this.editor.begin();
    this.atLineStart = false;
  }

  /** The terminal is `columns` wide now (terminal mode: lines that wrap are redrawn right). */
  resize(columns: number): void {
    this.editor.setColumns(columns);
  }

  // ---- commands ----

  /** One typed line: ignored when empty, else recorded in the history and run. */
  async executeLine(line: string): Promise<void> {
    if (line === '') return;
    const words = tokenizeLine(line);
    if (words.length === 0) return;
    this.history.set(this.commandCount, line);
    const gen = this.commandGen;
    await this.execute(words, line);
    // (an interrupted command's number was taken when Ctrl-C returned to the prompt)
    if (gen === this.commandGen) this.commandCount += 1;
  }

  private async execute(words: string[], line: string): Promise<void> {
    const gen = this.commandGen;
    try {
      await this.processCommand(words);
      if (gen === this.commandGen) this.code = 0;
    } catch (e) {
      if (gen !== this.commandGen) return;
      if (e instanceof CliError) {
        this.code = e.exitCode;
        this.err(`${e.message}\n`);
      } else if (e instanceof JavaCrash) {
        this.code = 1;
        this.err(`Exception in thread "main" ${e.message}\n`);
        if (this.options.mode === 'oneShot') this.finish(1);
      } else {
        this.code = 1;
        this.err(`${line}: ${(e as Error).message ?? String(e)}\n`);
      }
    }
  }

  private async processCommand(words: string[]): Promise<void> {
    const name = words[0] ?? '';
    const def = findCommand(name);
    if (def === undefined) {
      this.err(usageText());
      throw new CliError(`Command not found: Command not found ${name}`, 127);
    }
    switch (name) {
      case 'quit':
        await this.quit();
        return;
      case 'redo':
        if (words.length >= 2) {
          await this.redo(words[1] ?? '');
          return;
        }
        break;
      case 'history':
        for (let i = this.commandCount - 10; i <= this.commandCount; i++) {
          if (i >= 0) this.out(`${i} - ${this.history.get(i) ?? 'null'}\n`);
        }
        break;
      case 'printwatches':
        if (words.length === 1) this.out(`printwatches is ${this.printWatches ? 'on' : 'off'}\n`);
        else this.printWatches = words[1] === 'on';
        break;
      case 'connect':
        await this.reconnect(words[1] ?? this.host);
        break;
      default:
        break;
    }
    const zk = this.zk;
    if (zk === null || !isAlive(zk)) {
      this.out('Not connected\n');
      return;
    }
    if (sessionLevel.has(name)) return;
    if (name === 'close') {
      await zk.close();
      return;
    }
    if (def.run === undefined) return;
    const opts = parseCommand(def, words);
    const gen = this.commandGen;
    const ctx: CommandContext = {
      zk,
      out: (t) => {
        if (gen === this.commandGen) this.out(t);
      },
      err: (t) => {
        if (gen === this.commandGen) this.err(t);
      },
      timeZone: this.options.timeZone,
      readFile: this.options.readFile,
    };
    await def.run(ctx, opts);
  }

  private async redo(arg: string): Promise<void> {
    const i = decodeJavaInt(arg);
    if (i === null) {
      throw new JavaCrash(`java.lang.NumberFormatException: For input string: "${arg}"`);
    }
    if (this.commandCount <= i || i < 0) throw new CliError('Command index out of range');
    const line = this.history.get(i) ?? '';
    const words = tokenizeLine(line);
    if (words[0] === 'redo') throw new CliError('No redoing redos');
    this.history.set(this.commandCount, line);
    await this.processCommand(words);
  }

  private async quit(): Promise<void> {
    const zk = this.zk;
    this.zk = null;
    if (zk !== null) await zk.close();
    this.finish(this.code);
  }

  private finish(code: number): void {
    if (this.ended) return;
    this.ended = true;
    const zk = this.zk;
    this.zk = null;
    // Leaving without quit (one-shot, end of piped input): zkCli's JVM exits without closing the
    // session, which lives on at the server until it expires (a `create -e` survives that long).
    // Only the connection goes, so no socket keeps the process alive; nothing more is printed.
    this.muted = true;
    if (zk !== null) void zk.close({ keepSession: true });
    this.options.onExit?.(code);
  }

  private async reconnect(host: string): Promise<void> {
    const old = this.zk;
    this.zk = null;
    if (old !== null && old.state !== 'CLOSED') await old.close();
    this.host = host;
    this.openSession(host);
  }

  private openSession(host: string): void {
    let zk: ShellZk | null = null;
    zk = this.options.connect({
      connectString: host,
      sessionTimeoutMs: this.options.timeoutMs,
      readOnly: this.options.readOnly ?? false,
      onEvent: (e) => this.onWatchedEvent(e),
    });
    this.zk = zk;
  }

  private onWatchedEvent(e: ShellWatchedEvent): void {
    if (!this.printWatches || this.muted) return;
    const text = formatWatcherNotification(e);
    if (this.terminal && !this.busy) {
      // an event while the user is typing: print it in place of the prompt, then redraw below
      this.editor.clear();
      this.out(text);
      this.editor.setPrompt(this.prompt);
      this.editor.redraw();
      this.atLineStart = false;
      return;
    }
    this.out(text);
  }

  private out(text: string): void {
    if (this.muted || text.length === 0) return;
    this.atLineStart = text.endsWith('\n');
    this.options.stdout(this.terminal ? text.replace(/\r?\n/g, '\r\n') : text);
  }

  private err(text: string): void {
    if (this.muted || text.length === 0) return;
    this.atLineStart = text.endsWith('\n');
    this.options.stderr(this.terminal ? text.replace(/\r?\n/g, '\r\n') : text);
  }
}

function isAlive(zk: ShellZk): boolean {
  return zk.state !== 'CLOSED' && zk.state !== 'AUTH_FAILED' && zk.state !== 'NOT_CONNECTED';
}
