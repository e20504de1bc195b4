/**
 * "Connect to an existing ensemble": the app's tree and terminals aimed at any ZooKeeper
 * connection string (several hosts, a chroot) instead of the local ensemble, with an optional
 * digest user added to every session. The wrapped Backend answers getEnsemble with a view of
 * that target (no processes: nothing to kill), and refuses to connect while a local ensemble
 * runs, so the two never mix.
 */
import type { Backend, BackendEvents, ConnectCalls, EnsembleView, EventName, ServerView } from '../api/contract';
import { ZooLabError } from '../common/errors';
import { connectShellZk, type ShellZk, type ShellZkFactory } from '../shell';

export interface ExternalTarget {
  connectString: string;
  hosts: { host: string; port: number }[];
  chroot: string | null;
  digest: { user: string; password: string } | null;
}

/** "h1:2181,[::1]:2182,h3/app" → hosts and chroot; a sentence when it is not a connection string. */
export function parseTarget(connectString: string): Pick<ExternalTarget, 'hosts' | 'chroot'> {
  const text = connectString.trim();
  const slash = text.indexOf('/');
  const hostPart = slash < 0 ? text : text.slice(0, slash);
  const chroot = slash < 0 || text.slice(slash) === '/' ? null : text.slice(slash);
  if (chroot !== null && (chroot.endsWith('/') || chroot.includes('//'))) throw new ZooLabError('USAGE', `chroot ${chroot} must not end with / or have an empty segment`);
  const hosts = hostPart
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '')
    .map((h) => {
      const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?$/.exec(h);
      const port = m?.[2] === undefined ? 2181 : Number(m[2]);
      if (!m || port < 1 || port > 65535) throw new ZooLabError('USAGE', `'${h}' is not host:port (for example 127.0.0.1:2181)`);
      return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
    });
  if (hosts.length === 0) throw new ZooLabError('USAGE', 'the connection string names no server: write host:port[,host:port…][/chroot]');
  return { hosts, chroot };
}

export function externalView(t: ExternalTarget, state: ServerView['state'] = 'running'): EnsembleView {
  return {
    dir: '',
    connectionString: t.connectString,
    servers: t.hosts.map((h, i) => ({
      id: i + 1,
      host: h.host,
      clientPort: h.port,
      quorumPort: 0,
      electionPort: 0,
      state,
      pid: null,
      role: 'unknown',
      lastZxid: null,
      epoch: null,
      connections: null,
      dir: '',
      dataDir: '',
      configPath: '',
      lastError: null,
    })),
    external: { chroot: t.chroot, user: t.digest?.user ?? null },
  };
}

const probeDeadlineMs = 10_000;

async function probe(zk: ShellZk, t: ExternalTarget): Promise<void> {
  const until = Date.now() + probeDeadlineMs;
  while (zk.state === 'CONNECTING' || zk.state === 'NOT_CONNECTED') {
    if (Date.now() > until) throw new ZooLabError('CONNECTION', `no server of ${t.hosts.map((h) => `${h.host}:${h.port}`).join(',')} answered within ${probeDeadlineMs / 1000} s: is it running, and is the port right?`);
    await new Promise((r) => setTimeout(r, 50));
  }
  // a round trip after addAuth: an unknown user or a wrong password shows up by now
  const r = await zk.exists('/', false);
  if (zk.state === 'AUTH_FAILED') throw new ZooLabError('CONNECTION', `the servers refused digest user '${t.digest?.user ?? ''}': check the user and password`);
  if (!r.ok && t.chroot !== null) throw new ZooLabError('CONNECTION', `chroot ${t.chroot} does not exist on that ensemble: create it first, or connect without it`);
  if (!r.ok) throw new ZooLabError('CONNECTION', `connected, but reading / failed (code ${r.code})`);
}

/** The backend as the app's services see it, plus connectExisting/disconnectExisting and the session factory that adds the digest user. */
export function withExternal(backend: Backend, base: ShellZkFactory = connectShellZk): { backend: Backend; calls: ConnectCalls; connect: ShellZkFactory } {
  let target: ExternalTarget | null = null;
  const ensembleListeners = new Set<(v: EnsembleView) => void>();
  const announce = (v: EnsembleView) => {
    for (const l of ensembleListeners) l(v);
  };
  const connect: ShellZkFactory = (o) => {
    const zk = base(o);
    if (target?.digest) zk.addAuth('digest', new TextEncoder().encode(`${target.digest.user}:${target.digest.password}`));
    return zk;
  };
  const disconnect = async (): Promise<void> => {
    const t = target;
    if (!t) return;
    target = null;
    announce(externalView(t, 'stopped'));
  };

  const calls: ConnectCalls = {
    async connectExisting({ connectString, digest }) {
      const local = await backend.calls.getEnsemble();
      if (local && local.servers.some((s) => s.state !== 'stopped' && s.state !== 'crashed')) {
        throw new ZooLabError('USAGE', 'a local ensemble is running: stop it first (Stop all), then connect');
      }
      const t: ExternalTarget = { connectString: connectString.trim(), ...parseTarget(connectString), digest };
      const zk = base({ connectString: t.connectString, sessionTimeoutMs: 10_000, readOnly: false, onEvent: () => {} });
      if (digest) zk.addAuth('digest', new TextEncoder().encode(`${digest.user}:${digest.password}`));
      try {
        await probe(zk, t);
      } finally {
        await zk.close().catch(() => {});
      }
      await disconnect();
      target = t;
      const v = externalView(t);
      announce(v);
      return v;
    },
    disconnectExisting: disconnect,
  };

  const wrapped: Backend = {
    calls: {
      ...backend.calls,
      getEnsemble: async () => (target ? externalView(target) : backend.calls.getEnsemble()),
      startEnsemble: async (o) => {
        await disconnect();
        return backend.calls.startEnsemble(o);
      },
      openSavedEnsemble: async (name) => {
        await disconnect();
        return backend.calls.openSavedEnsemble(name);
      },
      stopEnsemble: async () => {
        await disconnect();
        return backend.calls.stopEnsemble();
      },
    },
    on<E extends EventName>(event: E, listener: (payload: BackendEvents[E]) => void): () => void {
      const off = backend.on(event, listener);
      if (event !== 'ensemble') return off;
      const l = listener as (v: EnsembleView) => void;
      ensembleListeners.add(l);
      return () => {
        off();
        ensembleListeners.delete(l);
      };
    },
    dispose: async () => {
      target = null;
      await backend.dispose();
    },
  };
  return { backend: wrapped, calls, connect };
}
