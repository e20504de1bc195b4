/**
 * The browser shell's host: serves the built renderer and the backend contract over a
 * WebSocket, on 127.0.0.1 only, behind a per-launch random token.
 *
 * Why a token: any page the user opens (and any other user on the machine) can reach
 * 127.0.0.1. The token is in the printed URL only. The first page load carries it as
 * `?token=`; the response sets an HttpOnly, SameSite=Strict cookie (named per port, since
 * cookies ignore ports) so the page's own assets load; the WebSocket upgrade must carry the
 * token in its query. Host and Origin are checked too, against DNS rebinding.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AppBackend, AppEventName, WireMessage } from '../api/contract';
import { eventNames, parseJsonObject, serveCall } from '../api/rpc';
import { serveStatic } from './static-files';

export interface WebHostOptions {
  backend: AppBackend;
  /** the built renderer (out/renderer) */
  staticDir: string;
  /** 0 or absent: a free port chosen by the OS */
  port?: number;
  /** absent: 32 random bytes, hex */
  token?: string;
}

export interface WebHost {
  readonly port: number;
  readonly token: string;
  /** http://127.0.0.1:PORT/?token=… */
  readonly url: string;
  /** how many WebSocket clients are connected */
  clientCount(): number;
  close(): Promise<void>;
}

const wsPath = '/ws';
const wsMessageBytesMax = 1024 * 1024;
/** a client that stops reading gets dropped instead of growing our memory without bound */
const wsBufferedBytesMax = 16 * 1024 * 1024;

export function makeToken(): string {
  return randomBytes(32).toString('hex');
}

function sameSecret(given: string | null | undefined, token: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** A call frame's envelope; method and args are checked by serveCall, which answers refusals. */
function parseCallFrame(text: string): { id: number; method: unknown; args: unknown } | null {
  const r = parseJsonObject(text);
  if (r === null) return null;
  const id = r['id'];
  if (r['kind'] !== 'call' || typeof id !== 'number' || !Number.isSafeInteger(id)) return null;
  return { id, method: r['method'], args: r['args'] };
}

function refuse(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const token = options.token ?? makeToken();
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const cookieName = `zoolab_token_${port}`;
  const allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const allowedOrigins = new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);

  const authorized = (req: IncomingMessage, url: URL, allowCookie: boolean): string | null => {
    if (!allowedHosts.has(req.headers.host ?? '')) return 'unexpected Host header';
    if (sameSecret(url.searchParams.get('token'), token)) return null;
    if (allowCookie && sameSecret(cookieValue(req.headers.cookie, cookieName), token)) return null;
    return 'missing or wrong token: open the URL that `zoolab app` printed';
  };

  server.on('request', (req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const problem = authorized(req, url, true);
    if (problem !== null) return refuse(res, 403, `403 Forbidden: ${problem}\n`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, '405 Method Not Allowed\n');
    const headers: Record<string, string> = {
      'set-cookie': `${cookieName}=${token}; HttpOnly; SameSite=Strict; Path=/`,
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'content-security-policy': [
        "default-src 'self'",
        `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "frame-ancestors 'none'",
      ].join('; '),
    };
    void serveStatic(options.staticDir, url.pathname, req.method === 'HEAD', res, headers);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: wsMessageBytesMax });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const origin = req.headers.origin;
    const problem =
      url.pathname !== wsPath
        ? 'no such endpoint'
        : origin !== undefined && !allowedOrigins.has(origin)
          ? 'foreign origin'
          : authorized(req, url, false);
    if (problem !== null) {
      socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n403 Forbidden: ${problem}\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const clients = new Set<WebSocket>();
  const sendTo = (ws: WebSocket, message: WireMessage): void => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > wsBufferedBytesMax) {
      ws.close(1013, 'client too slow');
      return;
    }
    ws.send(JSON.stringify(message));
  };
  const relay = (name: AppEventName) =>
    options.backend.on(name, (payload) => {
      for (const ws of clients) sendTo(ws, { kind: 'event', name, payload });
    });
  const unsubscribe = eventNames.filter((name) => name !== 'trace').map(relay);
  // the trace only while a page is open: listening to it makes the servers trace every write step
  let traceOff: (() => void) | null = null;

  wss.on('connection', (ws: WebSocket) => {
    clients.add(ws);
    traceOff ??= relay('trace');
    // terminals belong to the page that opened them: closing the page closes its shells
    const terminals = new Set<number>();
    const gone = () => {
      clients.delete(ws);
      if (clients.size === 0 && traceOff !== null) {
        traceOff();
        traceOff = null;
      }
      for (const id of terminals) void options.backend.calls.closeTerminal(id).catch(() => {});
      terminals.clear();
    };
    ws.on('close', gone);
    ws.on('error', gone);
    ws.on('message', (data, isBinary) => {
      const call = isBinary ? null : parseCallFrame(data.toString());
      if (call === null) {
        ws.close(1008, 'expected a call message');
        return;
      }
      // serveCall checks the method and arguments and answers a refusal as a result
      void serveCall(options.backend.calls, call.method, call.args).then((r) => {
        if (r.ok && call.method === 'openTerminal') terminals.add((r.value as { id: number }).id);
        if (call.method === 'closeTerminal' && Array.isArray(call.args)) terminals.delete(call.args[0] as number);
        sendTo(ws, r.ok ? { kind: 'result', id: call.id, ok: true, value: r.value } : { kind: 'result', id: call.id, ok: false, error: r.error });
      });
    });
  });

  let closed: Promise<void> | null = null;
  return {
    port,
    token,
    url: `http://127.0.0.1:${port}/?token=${token}`,
    clientCount: () => clients.size,
    close() {
      closed ??= (async () => {
        for (const off of unsubscribe) off();
        traceOff?.();
        traceOff = null;
        for (const ws of clients) ws.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closed;
    },
  };
}
