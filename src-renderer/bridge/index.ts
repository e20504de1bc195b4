/**
 * The only renderer code that touches a transport. Under Electron the preload puts a tiny
 * facade on `window.zoolab`; in a browser we open a WebSocket to the host that served the
 * page, with the token from the page's URL. Either way the rest of the UI sees a `Bridge`.
 */
import type { AppCalls, AppEventName, AppEvents } from '../../src-main/api/contract';
import type { ZoolabFacade } from '../../src-main/api/rpc';
import { callsFromInvoke } from '../../src-main/api/rpc';
import { connectWebSocket } from './ws';

export type ConnectionStatus = 'connecting' | 'open' | 'closed';

export interface Bridge {
  readonly kind: 'ipc' | 'websocket';
  readonly calls: AppCalls;
  on<E extends AppEventName>(event: E, listener: (payload: AppEvents[E]) => void): () => void;
  status(): ConnectionStatus;
  onStatus(listener: (status: ConnectionStatus, detail: string) => void): () => void;
}

declare global {
  interface Window {
    zoolab?: ZoolabFacade;
  }
}

export function bridgeFromFacade(facade: ZoolabFacade): Bridge {
  return {
    kind: 'ipc',
    calls: callsFromInvoke((method, args) => facade.call(method, args)),
    on: (event, listener) => facade.on(event, listener as (payload: unknown) => void),
    status: () => 'open',
    onStatus: () => () => {},
  };
}

export function createBridge(): Bridge {
  if (window.zoolab) return bridgeFromFacade(window.zoolab);
  const token = new URL(window.location.href).searchParams.get('token') ?? sessionStorage.getItem('zoolab-token') ?? '';
  if (token) sessionStorage.setItem('zoolab-token', token);
  const wsUrl = new URL('/ws', window.location.href);
  wsUrl.protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  wsUrl.searchParams.set('token', token);
  return connectWebSocket(wsUrl.toString());
}

let current: Bridge | null = null;

/** main.ts installs the bridge once; stores take it from here. */
export function installBridge(bridge: Bridge): Bridge {
  current = bridge;
  return bridge;
}

export function useBridge(): Bridge {
  if (!current) throw new Error('bridge not installed: main.ts must call installBridge() before mounting');
  return current;
}
