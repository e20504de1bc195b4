/** Reading a `srvr` answer back: the supervisor's health polling and tests use it. */
import { NOT_SERVING } from './four-letter-text';

/** Parsed `srvr` answer, for the supervisor's health polling and for tests. */
export interface SrvrReport {
  serving: boolean;
  version: string | null;
  latency: { min: number; avg: number; max: number } | null;
  received: number | null;
  sent: number | null;
  connections: number | null;
  outstanding: number | null;
  zxid: bigint | null;
  mode: string | null;
  nodeCount: number | null;
}

export function parseSrvr(text: string): SrvrReport {
  const report: SrvrReport = {
    serving: !text.startsWith(NOT_SERVING),
    version: null,
    latency: null,
    received: null,
    sent: null,
    connections: null,
    outstanding: null,
    zxid: null,
    mode: null,
    nodeCount: null,
  };
  for (const line of text.split('\n')) {
    const colon = line.indexOf(': ');
    if (colon === -1) continue;
    const key = line.slice(0, colon);
    const value = line.slice(colon + 2).trim();
    switch (key) {
      case 'Zookeeper version':
        report.version = value;
        break;
      case 'Latency min/avg/max': {
        const [a, b, c] = value.split('/').map(Number);
        report.latency = { min: a ?? 0, avg: b ?? 0, max: c ?? 0 };
        break;
      }
      case 'Received':
        report.received = Number(value);
        break;
      case 'Sent':
        report.sent = Number(value);
        break;
      case 'Connections':
        report.connections = Number(value);
        break;
      case 'Outstanding':
        report.outstanding = Number(value);
        break;
      case 'Zxid':
        if (/^0x[0-9a-fA-F]{1,16}$/.test(value)) report.zxid = BigInt(value);
        break;
      case 'Mode':
        report.mode = value;
        break;
      case 'Node count':
        report.nodeCount = Number(value);
        break;
    }
  }
  return report;
}
