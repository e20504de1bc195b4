/**
 * The WebSocket transport: JSON wire messages from the contract, pending calls rejected when
 * the socket drops, and a bounded reconnect (the app may be restarting).
 */
import { createRpcClient, parseWireMessage } from '../../src-main/api/rpc';
import type { Bridge, ConnectionStatus } from './index';

const reconnectAttemptsMax = 40;
const reconnectDelayMsMax = 5_000;

export function connectWebSocket(url: string): Bridge {
  let socket: WebSocket | null = null;
  let status: ConnectionStatus = 'connecting';
  let attempts = 0;
  const statusListeners = new Set<(s: ConnectionStatus, detail: string) => void>();
  const setStatus = (s: ConnectionStatus, detail: string) => {
    status = s;
    for (const l of [...statusListeners]) l(s, detail);
  };
  const queue: string[] = [];
  const rpc = createRpcClient((message) => {
    const text = JSON.stringify(message);
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(text);
    else if (status === 'closed' && attempts >= reconnectAttemptsMax) throw new Error('not connected to ZooLab: reload the page');
    else queue.push(text);
  });

  const open = () => {
    const ws = new WebSocket(url);
    socket = ws;
    ws.onopen = () => {
      attempts = 0;
      setStatus('open', 'connected');
      for (const text of queue.splice(0)) ws.send(text);
    };
    ws.onmessage = (e: MessageEvent) => {
      const m = typeof e.data === 'string' ? parseWireMessage(e.data) : null;
      if (m) rpc.receive(m);
    };
    ws.onclose = (e: CloseEvent) => {
      socket = null;
      rpc.failAll('the connection to ZooLab closed before the answer came; try again');
      attempts++;
      if (attempts >= reconnectAttemptsMax) {
        setStatus('closed', 'ZooLab is not answering: is `zoolab app` still running? Start it again and open the URL it prints.');
        return;
      }
      setStatus('connecting', e.code === 1006 ? 'reconnecting…' : `reconnecting (${e.reason || e.code})…`);
      setTimeout(open, Math.min(reconnectDelayMsMax, 250 * 2 ** Math.min(attempts, 5)));
    };
  };
  open();

  return {
    kind: 'websocket',
    calls: rpc.calls,
    on: (event, listener) => rpc.on(event, listener),
    status: () => status,
    onStatus(listener) {
      statusListeners.add(listener);
      return () => statusListeners.delete(listener);
    },
  };
}
