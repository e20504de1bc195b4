/**
 * What the shell needs from a ZooKeeper client, in the Java client's model (which zkCli is
 * built on): one default watcher receives every watch and connection-state event; calls take a
 * boolean `watch`. Protocol outcomes are values (`{ ok: false, code }`), never thrown.
 * `client-binding.ts` implements it over src-main/client.
 */
import type { ACL, Stat } from '../jute/types';
import type { ShellWatchedEvent } from './format';

/** The Java client's ZooKeeper.States, as zkCli shows them in the prompt. */
export type ZkState = 'CONNECTING' | 'CONNECTED' | 'CONNECTEDREADONLY' | 'CLOSED' | 'AUTH_FAILED' | 'NOT_CONNECTED';

export type Outcome<T> = { ok: true; value: T } | { ok: false; code: number };

export interface ShellZk {
  readonly state: ZkState;
  /** flags: CreateFlags; ttl only for the TTL modes */
  create(path: string, data: Uint8Array | null, acl: readonly ACL[], flags: number, ttl?: bigint): Promise<Outcome<string>>;
  delete(path: string, version: number): Promise<Outcome<void>>;
  /** several deletes in one multi (deleteall's batches) */
  deleteMulti(paths: readonly string[]): Promise<Outcome<void>>;
  exists(path: string, watch: boolean): Promise<Outcome<Stat>>;
  getData(path: string, watch: boolean): Promise<Outcome<{ data: Uint8Array | null; stat: Stat }>>;
  setData(path: string, data: Uint8Array | null, version: number): Promise<Outcome<Stat>>;
  getACL(path: string): Promise<Outcome<{ acl: ACL[]; stat: Stat }>>;
  setACL(path: string, acl: readonly ACL[], version: number): Promise<Outcome<Stat>>;
  /** getChildren2: children with the parent's Stat */
  getChildren(path: string, watch: boolean): Promise<Outcome<{ children: string[]; stat: Stat }>>;
  sync(path: string): Promise<Outcome<void>>;
  getEphemerals(prefixPath: string): Promise<Outcome<string[]>>;
  getAllChildrenNumber(path: string): Promise<Outcome<number>>;
  /** mode: AddWatchMode */
  addWatch(path: string, mode: number): Promise<Outcome<void>>;
  /**
   * type: WatcherType (Children, Data, Any). Removes the local watches too and delivers the
   * matching DataWatchRemoved / ChildWatchRemoved / PersistentWatchRemoved events to the default
   * watcher, as the Java client does. `local`: remove locally even without a server connection.
   */
  removeWatches(path: string, type: number, local: boolean): Promise<Outcome<void>>;
  /** like Java's addAuthInfo: queued, its failure arrives as an AuthFailed event */
  addAuth(scheme: string, auth: Uint8Array): void;
  whoAmI(): Promise<Outcome<{ authScheme: string; user: string }[]>>;
  /** the data of /zookeeper/config (getConfig) */
  getConfig(watch: boolean): Promise<Outcome<{ data: Uint8Array | null; stat: Stat }>>;
  /** reconfig (ZooKeeperAdmin): the committed configuration text and the Stat of /zookeeper/config */
  reconfig(
    joiningServers: string | null,
    leavingServers: string | null,
    newMembers: string | null,
    fromConfig: bigint,
  ): Promise<Outcome<{ data: Uint8Array | null; stat: Stat }>>;
  /** fail the calls still waiting for a connection with CONNECTIONLOSS, unsent (Ctrl-C) */
  cancelWaiting(): void;
  /**
   * Closes the session; the default watcher then sees state Closed. `keepSession`: only drop
   * the connection, the session expires at the server later (zkCli's JVM exit without quit).
   */
  close(options?: { keepSession?: boolean }): Promise<void>;
}

export interface ConnectOptions {
  connectString: string;
  sessionTimeoutMs: number;
  readOnly: boolean;
  /** the default watcher */
  onEvent(event: ShellWatchedEvent): void;
}

/** Opens a session (asynchronously: the returned client starts CONNECTING). */
export type ShellZkFactory = (options: ConnectOptions) => ShellZk;
