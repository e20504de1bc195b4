/**
 * Dynamic membership of a local ensemble (workspaces started with reconfig: true): the
 * supervisor's reconfig session (ReconfigAdmin), the membership it last read, and growing,
 * shrinking and flipping roles while the ensemble serves. Servers added here hold their own
 * port leases (the workspace lease holds the first ones).
 */
import { rmSync, writeFileSync } from 'node:fs';
import type { MembershipView, ServerState, ServerView } from '../api/contract';
import { ZooLabError } from '../common/errors';
import { formatServerLine } from '../client/dynamic-config';
import type { KeepAlive } from './keep-alive';
import { allocatePorts } from './ports';
import type { PortLease, PortOptions } from './ports';
import { ReconfigAdmin } from './reconfig-admin';
import type { MembershipSnapshot } from './reconfig-admin';
import type { ServerProcess } from './server-process';
import { clientOrder, connectionStringOf, newSlot, renderZooCfg, serverLineOf } from './workspace';
import type { PeerType, ServerSlot, Workspace } from './workspace';

/** What membership changes ask of their ensemble. */
export interface MembershipHost {
  readonly ws: Workspace;
  /** where new servers' ports come from */
  readonly ports: PortOptions | undefined;
  /** whether a new server is kept alive (the keepAlive option) */
  readonly keepAliveNew: boolean;
  readonly keepAlive: KeepAlive;
  isClosed(): boolean;
  ids(): number[];
  find(id: number): ServerProcess | undefined;
  /** the server with this id; throws NOT_FOUND for an unknown id */
  server(id: number): ServerProcess;
  /** make (not start) the process of a new slot */
  addProcess(slot: ServerSlot): ServerProcess;
  /** drop a server's process from the ensemble */
  dropProcess(id: number): void;
  waitFor(id: number, state: ServerState, timeoutMs: number): Promise<void>;
  saveManifest(): void;
  changed(): void;
}

export class Membership {
  /** the supervisor's reconfig session; null: a fixed membership */
  private readonly admin: ReconfigAdmin | null = null;
  /** the last membership it read */
  private lastMembership: MembershipSnapshot | null = null;
  /** ports of servers added after the start (the workspace lease holds the first ones) */
  private readonly addedLeases = new Map<number, PortLease>();

  constructor(private readonly host: MembershipHost) {
    const reconfig = host.ws.settings.reconfig;
    if (reconfig !== undefined) {
      this.admin = new ReconfigAdmin(
        () => host.ws.connectionString,
        reconfig.superPassword,
        (m) => this.membershipChanged(m),
      );
    }
  }

  get enabled(): boolean {
    return this.admin !== null;
  }

  /** Follow /zookeeper/config in the background (retried until the ensemble answers, bounded). */
  watch(): void {
    const admin = this.admin;
    if (admin === null) return;
    let attempt = 0;
    const tryWatch = (): void => {
      if (this.host.isClosed()) return;
      admin.watch().catch(() => {
        attempt += 1;
        if (attempt < 60 && !this.host.isClosed()) setTimeout(tryWatch, 1000).unref();
      });
    };
    tryWatch();
  }

  /** The server views with inConfig set (once a membership was read). */
  decorate(servers: ServerView[]): ServerView[] {
    const m = this.lastMembership;
    if (m === null) return servers;
    const members = new Map(m.config.servers.map((s) => [s.id, s]));
    return servers.map((v) => ({ ...v, inConfig: members.has(v.id) }));
  }

  /** EnsembleView.membership: undefined for a fixed membership. */
  view(): MembershipView | undefined {
    if (this.admin === null) return undefined;
    const m = this.lastMembership;
    return m === null
      ? { version: null, members: [] }
      : { version: m.version < 0n ? null : m.version.toString(16), members: m.config.servers.map((s) => ({ id: s.id, role: s.role })) };
  }

  private needAdmin(what: string): ReconfigAdmin {
    if (this.admin === null) {
      throw new ZooLabError('USAGE', `${what}: this ensemble has a fixed membership; start it with reconfig on (zoolab up --reconfig, startEnsemble({ reconfig: true })) to grow or shrink it`);
    }
    return this.admin;
  }

  /** see Ensemble.membership */
  async read(): Promise<MembershipSnapshot> {
    return this.needAdmin('membership').read();
  }

  /** see Ensemble.addServer */
  async addServer(opts: { id?: number; role?: PeerType; readyTimeoutMs?: number } = {}): Promise<number> {
    const admin = this.needAdmin('addServer');
    const ws = this.host.ws;
    const role = opts.role ?? 'participant';
    const current = await admin.read();
    // the next id no process, workspace slot or config line (a server added from a shell) uses
    const id = opts.id ?? Math.max(0, ...this.host.ids(), ...ws.servers.map((s) => s.id), ...current.config.servers.map((s) => s.id)) + 1;
    if (!Number.isInteger(id) || id < 1 || id > 255) throw new ZooLabError('USAGE', `server id ${id}: a whole number 1..255`);
    if (this.host.find(id) !== undefined) throw new ZooLabError('USAGE', `server ${id} is already part of this ensemble`);
    if (current.config.servers.some((s) => s.id === id)) throw new ZooLabError('USAGE', `server ${id} is already in the configuration (version ${current.version.toString(16)})`);
    const lease = await allocatePorts(3, this.host.ports);
    const slot = newSlot(ws.dir, id, role, lease.ports as unknown as [number, number, number]);
    const own = serverLineOf(slot, true);
    const lines = [...current.config.servers.map((s) => formatServerLine(s)), own];
    writeFileSync(slot.configPath, renderZooCfg(ws, slot, lines));
    this.addedLeases.set(id, lease);
    ws.servers.push(slot);
    if (this.host.keepAliveNew) this.host.keepAlive.set(id, true);
    const proc = this.host.addProcess(slot);
    try {
      await proc.start();
      await this.host.waitFor(id, 'running', opts.readyTimeoutMs ?? 60_000);
      await admin.reconfig({ joining: [own] }, opts.readyTimeoutMs ?? 60_000);
    } catch (e) {
      await this.forget(id);
      throw e;
    }
    this.membersChanged();
    return id;
  }

  /** see Ensemble.removeServer */
  async removeServer(id: number): Promise<void> {
    const admin = this.needAdmin('removeServer');
    this.host.server(id);
    const current = await admin.read();
    if (current.config.servers.some((s) => s.id === id)) await admin.reconfig({ leaving: [id] });
    await this.forget(id);
    this.membersChanged();
  }

  /** see Ensemble.setRole */
  async setRole(id: number, role: PeerType): Promise<void> {
    const admin = this.needAdmin('setRole');
    const p = this.host.server(id);
    const current = await admin.read();
    const member = current.config.servers.find((s) => s.id === id);
    if (member === undefined) throw new ZooLabError('USAGE', `server ${id} is not in the configuration (version ${current.version.toString(16)}); add it first`);
    if (member.role !== role) await admin.reconfig({ joining: [formatServerLine({ ...member, role })] });
    p.slot.type = role;
    this.membersChanged();
  }

  /** the servers changed: new connection string, manifest, views */
  private membersChanged(): void {
    const ws = this.host.ws;
    ws.connectionString = connectionStringOf(clientOrder(ws.servers));
    this.host.saveManifest();
    this.host.changed();
  }

  /** Stop a server for good and drop it from the workspace (folder, ports, manifest). */
  private async forget(id: number): Promise<void> {
    const p = this.host.find(id);
    if (p !== undefined) {
      const st = p.state.state;
      if (st === 'starting' || st === 'running') await p.stop().catch(() => p.killNow());
      else if (st === 'stopping') await p.whenExited();
      await p.flushFiles();
      this.host.dropProcess(id);
      rmSync(p.slot.dir, { recursive: true, force: true });
    }
    this.host.keepAlive.set(id, false);
    const servers = this.host.ws.servers;
    const i = servers.findIndex((s) => s.id === id);
    if (i >= 0) servers.splice(i, 1);
    this.addedLeases.get(id)?.release();
    this.addedLeases.delete(id);
  }

  /** A membership was read: roles flipped from a shell show on the cards too. */
  private membershipChanged(m: MembershipSnapshot): void {
    this.lastMembership = m;
    for (const s of m.config.servers) {
      const p = this.host.find(s.id);
      if (p !== undefined && p.slot.type !== s.role) p.slot.type = s.role;
    }
    this.host.changed();
  }

  /** End the reconfig session (shutdown, detach). */
  async close(): Promise<void> {
    await this.admin?.close();
  }

  /** Release the ports of servers added after the start (shutdown). */
  releaseLeases(): void {
    for (const l of this.addedLeases.values()) l.release();
  }
}
