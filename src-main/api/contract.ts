/**
 * The one typed contract between the backend (Electron main or the web host) and the
 * renderer. Both transports (IPC via the preload facade, WebSocket in the browser) carry
 * exactly these calls and events, as JSON. Pure: no node:*, no electron, no DOM.
 */
import type { TraceEvent } from '../common/trace';

export type ServerState = 'stopped' | 'starting' | 'running' | 'stopping' | 'crashed';
export type ServerRole = 'standalone' | 'leader' | 'follower' | 'observer' | 'looking' | 'unknown';

export interface ServerView {
  id: number;
  host: string;
  clientPort: number;
  quorumPort: number;
  electionPort: number;
  state: ServerState;
  pid: number | null;
  /** from `srvr` while running */
  role: ServerRole;
  /** zxid in hex, from `srvr` */
  lastZxid: string | null;
  epoch: number | null;
  connections: number | null;
  /** absolute paths, so a person can open them */
  dir: string;
  dataDir: string;
  configPath: string;
  /** why it crashed or failed to start, in words a person can act on */
  lastError: string | null;
  /** frozen with SIGSTOP (pauseServer) until resumeServer; absent means false */
  paused?: boolean;
  /** a non-voting observer (peerType=observer in its zoo.cfg); absent means a voter */
  observer?: boolean;
  /** dynamic membership: whether /zookeeper/config lists this server (absent: fixed membership) */
  inConfig?: boolean;
}

/** The membership in /zookeeper/config (ensembles started with reconfig on). */
export interface MembershipView {
  /** the config version (hex zxid of the reconfig that made it), null before the first read */
  version: string | null;
  members: { id: number; role: 'participant' | 'observer' }[];
}

/** One link fault every server obeys: messages from → to are lost, or held delayMs. '*' = any server. */
export interface LinkFaultView {
  from: number | '*';
  to: number | '*';
  drop?: boolean;
  delayMs?: number;
}

/** One `srvr` sample of a server, for its sparkline. */
export interface HealthSampleView {
  t: number;
  connections: number | null;
  outstanding: number | null;
  latencyAvgMs: number | null;
  latencyMaxMs: number | null;
}

export interface EnsembleView {
  dir: string;
  connectionString: string;
  servers: ServerView[];
  /** the link fault table in force (empty: healthy links); absent from older hosts */
  faults?: LinkFaultView[];
  /** step mode: the servers hold quorum messages until released */
  stepMode?: boolean;
  /** how many quorum messages are held right now (step mode) */
  held?: number;
  /** slowed-down release: one held message every this many ms, or null */
  releaseEveryMs?: number | null;
  /** set when the app is connected to an ensemble it did not start (no processes to act on) */
  external?: ExternalTargetView;
  /** present when the servers run with reconfigEnabled: servers can be added, removed, made observers */
  membership?: MembershipView;
}

export interface ExternalTargetView {
  /** chroot suffix of the connection string, e.g. "/app", or null */
  chroot: string | null;
  /** the digest user the sessions authenticate as, or null */
  user: string | null;
}

/** Connecting to an ensemble the app did not start (served by the app hosts, src-main/web/external.ts). */
export interface ConnectCalls {
  /**
   * Any ZooKeeper connection string ("h1:2181,h2:2181/chroot"); the tree and new terminals then
   * use it, authenticated with the digest user when given. Refused while a local ensemble runs.
   */
  connectExisting(options: { connectString: string; digest: { user: string; password: string } | null }): Promise<EnsembleView>;
  /** back to the start screen */
  disconnectExisting(): Promise<void>;
}

/** A workspace on disk the app can reopen (its data kept). */
export interface SavedEnsembleView {
  /** folder name under the workspaces root: what openSavedEnsemble takes */
  name: string;
  dir: string;
  voters: number;
  observers: number;
  tickTimeMs: number;
  connectionString: string;
  /** ISO time of the last manifest write */
  updatedAt: string;
  running: boolean;
}

export interface StartEnsembleOptions {
  servers: number;
  /** non-voting observers on top of `servers` voters (default 0) */
  observers?: number;
  tickTimeMs?: number;
  initLimit?: number;
  syncLimit?: number;
  /** dynamic membership (reconfigEnabled): servers can then be added, removed and flipped while serving */
  reconfig?: boolean;
}

/** Calls the renderer may make. Every method returns a Promise of a JSON-able value. */
export interface BackendCalls {
  getEnsemble(): Promise<EnsembleView | null>;
  startEnsemble(options: StartEnsembleOptions): Promise<EnsembleView>;
  stopEnsemble(): Promise<void>;
  killServer(id: number): Promise<void>;
  stopServer(id: number): Promise<void>;
  startServer(id: number): Promise<void>;
  restartServer(id: number): Promise<void>;
  pauseServer(id: number): Promise<void>;
  resumeServer(id: number): Promise<void>;
  /** 'zoo.cfg.dynamic': the dynamic config file zoo.cfg points at (dynamicConfigFile=, written by reconfig-enabled servers) */
  readServerFile(id: number, file: 'zoo.cfg' | 'zoo.cfg.dynamic' | 'myid' | 'log'): Promise<string>;
  /** cut one server off from every other (both directions); shown in the trace as fault.set */
  isolateServer(id: number): Promise<void>;
  /** split the servers into sides that cannot reach each other (servers not named: one more side) */
  partitionEnsemble(sides: number[][]): Promise<void>;
  /** every message from → to is lost (drop) or held delayMs */
  faultLink(from: number, to: number, fault: { drop: true } | { delayMs: number }): Promise<void>;
  /** remove every link fault */
  healEnsemble(): Promise<void>;
  /** step mode on/off (off lets every held message go) */
  setStepMode(on: boolean): Promise<void>;
  /** let the `count` oldest held messages go; returns how many went */
  releaseHeld(count: number): Promise<number>;
  /** release one held message every intervalMs (slow motion); null stops */
  releaseEvery(intervalMs: number | null): Promise<void>;
  /** the workspaces under the app's folder (~/.zoolab/ensembles or --dir), newest first */
  listSavedEnsembles(): Promise<SavedEnsembleView[]>;
  /** start a saved workspace again, with its data */
  openSavedEnsemble(name: string): Promise<EnsembleView>;
  /** the recent srvr samples of one server, oldest first (at most `max`) */
  serverHealth(id: number, max: number): Promise<HealthSampleView[]>;
  /** dynamic membership: start one more server and reconfig it in; resolves with its id */
  addServer(options: { role: 'participant' | 'observer' }): Promise<number>;
  /** dynamic membership: reconfig the server out, then stop it and remove its folder */
  removeServer(id: number): Promise<void>;
  /** dynamic membership: make a server an observer, or a voter again */
  setServerRole(id: number, role: 'participant' | 'observer'): Promise<void>;
}

/** Events the backend pushes. */
export interface BackendEvents {
  ensemble: EnsembleView;
  trace: TraceEvent[];
  serverLog: { server: number; lines: string[] };
}

export type CallName = keyof BackendCalls;
export type EventName = keyof BackendEvents;

/** The allow-list main and the web host check every incoming call against. */
export const callNames: readonly CallName[] = [
  'getEnsemble',
  'startEnsemble',
  'stopEnsemble',
  'killServer',
  'stopServer',
  'startServer',
  'restartServer',
  'pauseServer',
  'resumeServer',
  'readServerFile',
  'isolateServer',
  'partitionEnsemble',
  'faultLink',
  'healEnsemble',
  'setStepMode',
  'releaseHeld',
  'releaseEvery',
  'serverHealth',
  'listSavedEnsembles',
  'openSavedEnsemble',
  'addServer',
  'removeServer',
  'setServerRole',
] as const;

export function isCallName(name: unknown): name is CallName {
  return typeof name === 'string' && (callNames as readonly string[]).includes(name);
}

/**
 * Terminals: the app hosts (web host, Electron main) add these to the supervisor's Backend.
 * Each runs the zoolab shell (zkCli-compatible) against the ensemble or one of its servers;
 * the renderer's xterm only forwards keys in and text out.
 */
export interface TerminalCalls {
  /** server: one server's client port, or null for the whole ensemble's connection string */
  openTerminal(options: { server: number | null; columns: number }): Promise<{ id: number; connectString: string }>;
  terminalInput(id: number, data: string): Promise<void>;
  resizeTerminal(id: number, columns: number): Promise<void>;
  closeTerminal(id: number): Promise<void>;
}

export interface TerminalEvents {
  terminalOutput: { id: number; data: string };
  terminalExit: { id: number; code: number };
}

/** A znode's Stat at a text boundary: zxids and the owner session in hex, times in ms. */
export interface StatView {
  czxid: string;
  mzxid: string;
  pzxid: string;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  /** "0x0" for a persistent node */
  ephemeralOwner: string;
  dataLength: number;
  numChildren: number;
}

export type CreateModeName = 'persistent' | 'ephemeral' | 'persistent-sequential' | 'ephemeral-sequential' | 'container' | 'persistent-ttl' | 'persistent-sequential-ttl';

/**
 * The znode tree of the running ensemble, through one ZooKeeper session the host keeps
 * (src-main/web/tree-host.ts). Reads leave watches; their firing arrives as `treeChanged`.
 * Data travels as base64 (bytes, not text: the renderer picks how to show them).
 */
export interface TreeCalls {
  treeChildren(path: string): Promise<{ children: string[]; stat: StatView }>;
  treeGet(path: string): Promise<{ dataBase64: string | null; stat: StatView }>;
  /** version -1 = any; a stale version fails with "version conflict: …" and changes nothing */
  treeSet(path: string, dataBase64: string | null, version: number): Promise<StatView>;
  /** returns the created path (with the sequence suffix for sequential modes) */
  treeCreate(path: string, dataBase64: string | null, mode: CreateModeName, ttlMs?: number): Promise<string>;
  /** recursive: the whole subtree, children first */
  treeDelete(path: string, version: number, recursive: boolean): Promise<void>;
  /**
   * Whose copy of the tree to show: null = the ensemble (any server), or one server's own local
   * copy (a session pinned to that server: a lagging follower shows). Returns the connect string.
   */
  treeUseServer(server: number | null): Promise<string>;
}

/** One ACL entry: scheme (world, digest, ip, auth, sasl), id, perms as Perms bits (c=4 d=8 r=1 w=2 a=16). */
export interface AclEntryView {
  scheme: string;
  id: string;
  perms: number;
}

/** A subtree as JSON (export/import/copy): data base64 or null, children by name. */
export interface SubtreeNodeView {
  data: string | null;
  children: Record<string, SubtreeNodeView>;
}

export interface SubtreeExport {
  format: 'zoolab-subtree/1';
  /** the path it was exported from */
  path: string;
  nodes: number;
  root: SubtreeNodeView;
}

export interface SearchHit {
  path: string;
  /** what matched: the path, or the data (as UTF-8 text) */
  match: 'path' | 'content';
  /** for a content match: the text around it */
  snippet: string | null;
}

/** More of the tree: ACLs, subtree export/import/copy, search (src-main/web/tree-tools.ts). */
export interface TreeToolCalls {
  treeGetAcl(path: string): Promise<{ acl: AclEntryView[]; stat: StatView }>;
  /** aversion -1 = any; a stale aversion is a "version conflict" */
  treeSetAcl(path: string, acl: AclEntryView[], aversion: number): Promise<StatView>;
  /** the digest ACL id for user:password, as ZooKeeper computes it: "user:base64(sha1(user:password))" */
  treeDigestId(user: string, password: string): Promise<string>;
  treeExport(path: string): Promise<SubtreeExport>;
  /** creates what is missing under `path` (persistent), sets the data of what exists */
  treeImport(path: string, root: SubtreeNodeView): Promise<{ created: number; updated: number }>;
  /** export `from` and import it at `to` */
  treeCopy(from: string, to: string): Promise<{ created: number; updated: number }>;
  /** below `path`, znodes whose path (or, with inContent, whose data) contains `text` (case-insensitive) */
  treeSearch(path: string, text: string, inContent: boolean): Promise<{ hits: SearchHit[]; visited: number; truncated: boolean }>;
}

export interface TreeEvents {
  /** a watch fired: `children` of path changed, its `data` changed, or it was `deleted`/`created` */
  treeChanged: { path: string; what: 'children' | 'data' | 'deleted' | 'created' };
}

/** Everything the renderer can call and hear: the supervisor's Backend plus terminals and the tree. */
export type AppCalls = BackendCalls & TerminalCalls & TreeCalls & TreeToolCalls & ConnectCalls;
export type AppEvents = BackendEvents & TerminalEvents & TreeEvents;
export type AppCallName = keyof AppCalls;
export type AppEventName = keyof AppEvents;

export const terminalCallNames: readonly (keyof TerminalCalls)[] = ['openTerminal', 'terminalInput', 'resizeTerminal', 'closeTerminal'] as const;

export const treeCallNames: readonly (keyof TreeCalls)[] = ['treeChildren', 'treeGet', 'treeSet', 'treeCreate', 'treeDelete', 'treeUseServer'] as const;

export const connectCallNames: readonly (keyof ConnectCalls)[] = ['connectExisting', 'disconnectExisting'] as const;

export const treeToolCallNames: readonly (keyof TreeToolCalls)[] = ['treeGetAcl', 'treeSetAcl', 'treeDigestId', 'treeExport', 'treeImport', 'treeCopy', 'treeSearch'] as const;

export function isAppCallName(name: unknown): name is AppCallName {
  return isCallName(name) || (typeof name === 'string' && ([...terminalCallNames, ...treeCallNames, ...treeToolCallNames, ...connectCallNames] as readonly string[]).includes(name));
}

/** What the hosts serve: a Backend with terminals and the tree (see src-main/web/app-backend.ts). */
export interface AppBackend {
  readonly calls: AppCalls;
  on<E extends AppEventName>(event: E, listener: (payload: AppEvents[E]) => void): () => void;
  dispose(): Promise<void>;
}

/** Wire messages (WebSocket frames; IPC uses invoke/send with the same payloads). */
export type WireMessage =
  | { kind: 'call'; id: number; method: AppCallName; args: unknown[] }
  | { kind: 'result'; id: number; ok: true; value: unknown }
  | { kind: 'result'; id: number; ok: false; error: string }
  | { kind: 'event'; name: AppEventName; payload: unknown };

/**
 * What a backend host (Electron main, the web host, tests) gets from the supervisor: the calls
 * plus a way to listen to pushed events. Implemented in src-main/supervisor.
 */
export interface Backend {
  readonly calls: BackendCalls;
  on<E extends EventName>(event: E, listener: (payload: BackendEvents[E]) => void): () => void;
  /** stops every server this backend started and releases its resources */
  dispose(): Promise<void>;
}
