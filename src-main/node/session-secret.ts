/**
 * The secret session passwords are derived from (SHA-1(secret ‖ session id)). It must be the
 * same on every server of an ensemble and across restarts, or a client that reconnects after a
 * restart or to another server is told its session expired. The supervisor hands every server
 * of an ensemble the same random secret (kept in ensemble.json) through ZOOLAB_SESSION_SECRET;
 * a server started by hand derives one from its config, which is stable and shared by the
 * ensemble (with reconfigEnabled, a fixed one), and as predictable as upstream's passwords.
 */
import { createHash } from 'node:crypto';
import type { ZooCfg } from './config';

export const SESSION_SECRET_ENV = 'ZOOLAB_SESSION_SECRET';

export function sessionSecret(cfg: ZooCfg, env: NodeJS.ProcessEnv): Uint8Array {
  const given = env[SESSION_SECRET_ENV];
  if (given && /^[0-9a-fA-F]{32,}$/.test(given) && given.length % 2 === 0) return Uint8Array.from(Buffer.from(given, 'hex'));
  // with reconfigEnabled the server lines change over time and a joiner starts with others than
  // the members have: only a basis that does not depend on them is shared by every server
  const basis = cfg.reconfigEnabled
    ? 'reconfigurable ensemble'
    : cfg.servers.size > 0
      ? [...cfg.servers.values()]
          .sort((a, b) => a.id - b.id)
          .map((s) => `${s.id}=${s.host}:${s.quorumPort}:${s.electionPort}`)
          .join('\n')
      : `standalone ${cfg.dataDir}`;
  return createHash('sha1').update(`zoolab-session-secret\n${basis}`).digest();
}
