/**
 * The ShellZk port over src-main/client's ZkClient. Maps the client's thrown KeeperErrors to
 * outcome values, its 'state' transitions to the connection events zkCli prints
 * (`WatchedEvent state:SyncConnected type:None path:null`, Disconnected, Expired, Closed, …),
 * and its 'watch' event to the default watcher.
 *
 * A call made while the client is not connected waits for the connection and fails with
 * CONNECTIONLOSS without being sent as soon as a connection attempt fails (the client's
 * 'connectFailed'), as the Java client fails its queued calls then (so a failed `create` never
 * runs later); `cancelWaiting()` (Ctrl-C) fails them at once.
 */
import { ErrorCode } from '../common/error-codes';
import { KeeperState, WatcherEventType } from '../jute/types';
import type { ACL } from '../jute/types';
import { KeeperError, createClient, op } from '../client/index';
import type { ClientState, ZkClient } from '../client/index';
import type { ShellWatchedEvent } from './format';
import type { ConnectOptions, Outcome, ShellZk, ShellZkFactory, ZkState } from './zk-port';

const stateNames: Record<ClientState, ZkState> = {
  connecting: 'CONNECTING',
  connected: 'CONNECTED',
  connectedReadOnly: 'CONNECTEDREADONLY',
  // the Java client reconnects after a disconnection: its state is CONNECTING again
  disconnected: 'CONNECTING',
  expired: 'CLOSED',
  authFailed: 'AUTH_FAILED',
  closed: 'CLOSED',
};

const stateEvents: Partial<Record<ClientState, number>> = {
  connected: KeeperState.SyncConnected,
  connectedReadOnly: KeeperState.ConnectedReadOnly,
  disconnected: KeeperState.Disconnected,
  expired: KeeperState.Expired,
  authFailed: KeeperState.AuthFailed,
  closed: KeeperState.Closed,
};

/** The code a call gets when the client is in a terminal state (as waitUntilConnected rejects). */
function terminalCode(state: ClientState): number | null {
  if (state === 'expired') return ErrorCode.SESSIONEXPIRED;
  if (state === 'authFailed') return ErrorCode.AUTHFAILED;
  if (state === 'closed') return ErrorCode.CONNECTIONLOSS;
  return null;
}

function fail(e: unknown): { ok: false; code: number } {
  if (e instanceof KeeperError) return { ok: false, code: e.code };
  throw e;
}

export class ClientShellZk implements ShellZk {
  /** a backstop only: a connection attempt ends (connectFailed) within the client's connect timeout */
  private readonly connectWaitMaxMs: number;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly client: ZkClient,
    options: { sessionTimeoutMs: number },
  ) {
    this.connectWaitMaxMs = 2 * Math.max(1000, Math.floor(options.sessionTimeoutMs / Math.max(1, client.hosts.length))) + 1000;
  }

  get state(): ZkState {
    return stateNames[this.client.state];
  }

  /** null once connected; else the code the waiting call fails with */
  private waitForConnection(): Promise<number | null> {
    const client = this.client;
    if (client.isConnected) return Promise.resolve(null);
    const terminal = terminalCode(client.state);
    if (terminal !== null) return Promise.resolve(terminal);
    return new Promise((resolve) => {
      const done = (code: number | null): void => {
        clearTimeout(timer);
        client.off('state', onState);
        client.off('connectFailed', onFailed);
        this.waiters.delete(cancel);
        resolve(code);
      };
      const onState = (s: ClientState): void => {
        if (s === 'connected' || s === 'connectedReadOnly') done(null);
        else if (terminalCode(s) !== null) done(terminalCode(s));
      };
      const onFailed = (): void => done(ErrorCode.CONNECTIONLOSS);
      const cancel = (): void => done(ErrorCode.CONNECTIONLOSS);
      const timer = setTimeout(() => done(ErrorCode.CONNECTIONLOSS), this.connectWaitMaxMs);
      client.on('state', onState);
      client.on('connectFailed', onFailed);
      this.waiters.add(cancel);
    });
  }

  /** Runs `f` once connected; CONNECTIONLOSS (nothing sent) if the next connection attempt fails. */
  private async run<T>(f: () => Promise<T>): Promise<Outcome<T>> {
    const code = await this.waitForConnection();
    if (code !== null) return { ok: false, code };
    try {
      return { ok: true, value: await f() };
    } catch (e) {
      return fail(e);
    }
  }

  create(path: string, data: Uint8Array | null, acl: readonly ACL[], flags: number, ttl?: bigint) {
    return this.run(() => this.client.create(path, data, { acl, mode: flags, ...(ttl !== undefined ? { ttl } : {}) }));
  }

  delete(path: string, version: number) {
    return this.run(() => this.client.delete(path, version));
  }

  async deleteMulti(paths: readonly string[]): Promise<Outcome<void>> {
    return this.run(async () => {
      await this.client.multi(paths.map((p) => op.delete(p, -1)));
    });
  }

  async exists(path: string, watch: boolean) {
    const r = await this.run(() => this.client.exists(path, watch));
    if (!r.ok) return r;
    return r.value === null ? { ok: false as const, code: ErrorCode.NONODE } : { ok: true as const, value: r.value };
  }

  getData(path: string, watch: boolean) {
    return this.run(() => this.client.getData(path, watch));
  }

  setData(path: string, data: Uint8Array | null, version: number) {
    return this.run(() => this.client.setData(path, data, version));
  }

  getACL(path: string) {
    return this.run(() => this.client.getACL(path));
  }

  setACL(path: string, acl: readonly ACL[], version: number) {
    return this.run(() => this.client.setACL(path, acl, version));
  }

  getChildren(path: string, watch: boolean) {
    return this.run(() => this.client.getChildren2(path, watch));
  }

  async sync(path: string): Promise<Outcome<void>> {
    return this.run(async () => {
      await this.client.sync(path);
    });
  }

  getEphemerals(prefixPath: string) {
    return this.run(() => this.client.getEphemerals(prefixPath));
  }

  getAllChildrenNumber(path: string) {
    return this.run(() => this.client.getAllChildrenNumber(path));
  }

  addWatch(path: string, mode: number) {
    return this.run(() => this.client.addWatch(path, mode));
  }

  async removeWatches(path: string, type: number, local: boolean): Promise<Outcome<void>> {
    if (local && !this.client.isConnected) {
      try {
        await this.client.removeWatches(path, type, true);
        return { ok: true, value: undefined };
      } catch (e) {
        return fail(e);
      }
    }
    return this.run(() => this.client.removeWatches(path, type, false));
  }

  addAuth(scheme: string, auth: Uint8Array): void {
    // zkCli's addauth returns at once; a rejection shows up as the AuthFailed state event
    this.client.addAuth(scheme, auth).catch(() => undefined);
  }

  whoAmI() {
    return this.run(() => this.client.whoAmI());
  }

  getConfig(watch: boolean) {
    return this.run(() => this.client.getConfig(watch));
  }

  reconfig(joiningServers: string | null, leavingServers: string | null, newMembers: string | null, fromConfig: bigint) {
    return this.run(() => this.client.reconfig({ joining: joiningServers, leaving: leavingServers, newMembers, fromConfig }));
  }

  cancelWaiting(): void {
    for (const cancel of [...this.waiters]) cancel();
  }

  async close(options: { keepSession?: boolean } = {}): Promise<void> {
    await this.client.close(options);
  }
}

/** Opens a ZkClient and wires its events to the shell's default watcher. */
export const connectShellZk: ShellZkFactory = (options: ConnectOptions): ShellZk => {
  const client = createClient(options.connectString, {
    sessionTimeoutMs: options.sessionTimeoutMs,
    readOnly: options.readOnly,
  });
  client.on('state', (state) => {
    const keeperState = stateEvents[state];
    if (keeperState === undefined) return;
    const event: ShellWatchedEvent = { type: WatcherEventType.None, state: keeperState, path: null };
    options.onEvent(event);
  });
  client.on('watch', (e) => options.onEvent({ type: e.type, state: e.state, path: e.path }));
  return new ClientShellZk(client, options);
};
