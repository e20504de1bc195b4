/**
 * The client side of SASL DIGEST-MD5 (RFC 2831) as ZooKeeper's Java client runs it over
 * opcode 102: an empty first token, the server's challenge, then one response computed from
 * user, realm, password and nonces; the server's rspauth completes it. Service "zookeeper",
 * server name "zk-sasl-md5", qop "auth".
 */
import { createHash, randomBytes } from 'node:crypto';

/** key=value pairs of a DIGEST-MD5 challenge (values may be quoted and contain commas). */
export function parseDigestChallenge(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /\s*([a-zA-Z0-9-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^,]*)\s*,?/g;
  for (const m of text.matchAll(re)) out.set(m[1]!.toLowerCase(), m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[2]!.trim());
  return out;
}

const md5 = (data: Buffer | string): Buffer => createHash('md5').update(data).digest();
const hex = (b: Buffer): string => b.toString('hex');

/** The client's response to a challenge, as bytes to send in the next GetSASLRequest. */
export function digestMd5Response(challenge: Map<string, string>, user: string, password: string, cnonce = randomBytes(16).toString('base64')): Uint8Array {
  const realm = challenge.get('realm') ?? 'zk-sasl-md5';
  const nonce = challenge.get('nonce') ?? '';
  const qop = 'auth';
  const nc = '00000001';
  const digestUri = `zookeeper/${realm}`;
  const a1 = Buffer.concat([md5(`${user}:${realm}:${password}`), Buffer.from(`:${nonce}:${cnonce}`)]);
  const a2 = `AUTHENTICATE:${digestUri}`;
  const response = hex(md5(`${hex(md5(a1))}:${nonce}:${nc}:${cnonce}:${qop}:${hex(md5(a2))}`));
  const charset = challenge.has('charset') ? ',charset=utf-8' : '';
  return Buffer.from(
    `username="${user}",realm="${realm}",nonce="${nonce}",nc=${nc},cnonce="${cnonce}",digest-uri="${digestUri}",maxbuf=65536,response=${response},qop=${qop}${charset}`,
  );
}
