/**
 * The supervisor's ZooKeeper session for dynamic reconfiguration: authenticated as the
 * workspace's super user (reconfig needs WRITE on /zookeeper/config), it reads the membership
 * from /zookeeper/config, keeps a watch on it (so changes made from a shell show too) and issues
 * reconfig, retrying the refusals that only mean "not yet" (a joining server still syncing:
 * NEWCONFIGNOQUORUM; another reconfig in flight; a connection lost during a leader change).
 */
import { ErrorCode } from '../common/error-codes';
import { ZooLabError } from '../common/errors';
import { KeeperError, configVersion, connectClient, parseDynamicConfig, type DynamicConfig, type ReconfigChange, type ZkClient } from '../client/index';

export interface MembershipSnapshot {
  config: DynamicConfig;
  /** configVersion(config); -1n when /zookeeper/config holds no version (standalone, or not yet stamped) */
  version: bigint;
}

const RETRYABLE = new Set<number>([ErrorCode.NEWCONFIGNOQUORUM, ErrorCode.RECONFIGINPROGRESS, ErrorCode.CONNECTIONLOSS, ErrorCode.OPERATIONTIMEOUT]);

function decode(data: Uint8Array | null): string {
  return data === null ? '' : new TextDecoder().decode(data);
}

export class ReconfigAdmin {
  private client: ZkClient | null = null;
  private connecting: Promise<ZkClient> | null = null;
  private closed = false;
  private watching = false;
  private rearmTimer: ReturnType<typeof setTimeout> | null = null;
  /** one watcher function, so re-arming never stacks watchers (the client keeps a set of them) */
  private readonly onConfigChanged = (): void => this.rearm();

  constructor(
    private readonly connectString: () => string,
    private readonly superPassword: string,
    /** called with every membership read (after each change, when watching) */
    private readonly onMembership: (m: MembershipSnapshot) => void = () => {},
    /** opens the session (tests step in here to close the admin at a chosen moment) */
    private readonly connect: (hosts: string) => Promise<ZkClient> = (hosts) => connectClient(hosts, { sessionTimeoutMs: 10_000 }, 30_000),
  ) {}

  private async session(): Promise<ZkClient> {
    if (this.closed) throw new ZooLabError('USAGE', 'the ensemble is shut down');
    const hosts = this.connectString();
    if (this.client !== null && this.client.state !== 'closed' && this.client.state !== 'expired') {
      // servers added or removed since this session began: start over on the current ones, so it
      // never depends on servers that left (its watch is re-armed below)
      if (this.client.hosts.map((h) => `${h.host}:${h.port}`).join(',') === hosts) return this.client;
      const old = this.client;
      this.client = null;
      void old.close().catch(() => undefined);
    }
    this.connecting ??= (async () => {
      const c = await this.connect(hosts);
      // closed while connecting or authenticating (an ensemble detached or shut down): this
      // session must not live on, or its pings keep a detaching `zoolab up` alive for good
      const closedMeanwhile = async (): Promise<boolean> => {
        if (!this.closed) return false;
        await c.close();
        return true;
      };
      if (await closedMeanwhile()) throw new ZooLabError('USAGE', 'the ensemble is shut down');
      await c.addAuth('digest', `super:${this.superPassword}`).catch(async (e: unknown) => {
        await c.close();
        throw e;
      });
      if (await closedMeanwhile()) throw new ZooLabError('USAGE', 'the ensemble is shut down');
      // a new session: the old one's watch went with it
      c.on('expired', () => {
        if (this.client === c) this.client = null;
      });
      // a change may land while the session is away: read again on every reconnect
      c.on('connected', () => {
        if (this.client === c) this.rearm();
      });
      this.client = c;
      if (this.watching) this.rearm();
      return c;
    })().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  /** The current membership; `watch` re-arms the /zookeeper/config watch that reports changes. */
  async read(watch = false): Promise<MembershipSnapshot> {
    const zk = await this.session();
    const { data } = await zk.getConfig(watch ? this.onConfigChanged : undefined);
    const config = parseDynamicConfig(decode(data));
    const snap = { config, version: configVersion(config) };
    this.onMembership(snap);
    return snap;
  }

  /** Read with the watch again; a failed read (the session moving to another server) is retried. */
  private rearm(attempt = 0): void {
    if (this.closed || !this.watching) return;
    if (this.rearmTimer !== null) clearTimeout(this.rearmTimer);
    this.rearmTimer = null;
    this.read(true).catch(() => {
      if (this.closed || attempt >= 600) return;
      this.rearmTimer = setTimeout(() => this.rearm(attempt + 1), Math.min(1000, 100 * (attempt + 1)));
      this.rearmTimer.unref();
    });
  }

  /** Keep onMembership informed of every change of /zookeeper/config. */
  async watch(): Promise<MembershipSnapshot> {
    this.watching = true;
    return this.read(true);
  }

  /** reconfig, retried while the refusal means "not yet"; resolves with the committed membership. */
  async reconfig(change: ReconfigChange, deadlineMs = 30_000): Promise<MembershipSnapshot> {
    const until = Date.now() + deadlineMs;
    let lastCode = 0;
    for (let attempt = 0; attempt < 200; attempt += 1) {
      try {
        const zk = await this.session();
        const { data } = await zk.reconfig(change);
        const config = parseDynamicConfig(decode(data));
        const snap = { config, version: configVersion(config) };
        this.onMembership(snap);
        return snap;
      } catch (e) {
        if (!(e instanceof KeeperError)) throw e;
        lastCode = e.code;
        if (!RETRYABLE.has(e.code) || Date.now() > until) {
          throw new ZooLabError('USAGE', `reconfig refused: ${e.codeName}${reasonOf(e.code)}`, { cause: e });
        }
      }
      await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** Math.min(attempt, 5))));
    }
    throw new ZooLabError('TIMEOUT', `reconfig did not go through within ${deadlineMs} ms (last refusal: ${lastCode})`);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.rearmTimer !== null) clearTimeout(this.rearmTimer);
    const c = this.client;
    this.client = null;
    await c?.close().catch(() => undefined);
    // a session still being made closes itself when it lands (see session())
    await this.connecting?.catch(() => undefined);
  }
}

function reasonOf(code: number): string {
  switch (code) {
    case ErrorCode.RECONFIGDISABLED:
      return ' (the servers run with reconfigEnabled=false)';
    case ErrorCode.NOAUTH:
      return ' (no WRITE right on /zookeeper/config)';
    case ErrorCode.BADARGUMENTS:
      return ' (the change leaves no valid membership, or names a server wrongly)';
    case ErrorCode.NEWCONFIGNOQUORUM:
      return ': a quorum of the new membership is not connected and in sync with the leader yet';
    case ErrorCode.UNIMPLEMENTED:
      return ' (a standalone server cannot be reconfigured)';
    default:
      return '';
  }
}
