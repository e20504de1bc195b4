/**
 * Closed-loop load: `outstanding` requests kept in flight over `connections` sessions; every
 * reply immediately sends the next request on that session. A warm-up phase is discarded,
 * then latencies (send → reply, ms) are recorded for `measureMs` or `opsMax` ops.
 */
import { WireSession, OP, createBody, getDataBody, setDataBody } from './wire.mjs';

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

const VALUE = Buffer.alloc(100, 0x7a);
export const GET_KEYS = 1000;
export const SET_KEYS_PER_CONNECTION = 100;

/** Nodes the get and set workloads read and write. */
export async function prepare(port, tag) {
  const s = await WireSession.open(port);
  const must = async (p) => {
    const err = await p;
    if (err !== 0 && err !== -110) throw new Error(`prepare: err ${err}`);
  };
  await must(s.send(OP.create, createBody(`/bench-${tag}`, null)));
  const batch = [];
  for (let i = 0; i < GET_KEYS; i++) batch.push(must(s.send(OP.create, createBody(`/bench-${tag}/g-${i}`, VALUE))));
  await Promise.all(batch);
  await s.close();
}

/**
 * op: 'create' | 'get' | 'set'. `port` is one client port, or a list: session i then goes to
 * port[i % length] (clients spread over an ensemble's servers).
 * Returns { ops, seconds, throughput, p50, p99, max, errors }.
 */
export async function runLoad(port, { op, outstanding, connections, warmupMs, measureMs, opsMax, tag, run }) {
  const ports = Array.isArray(port) ? port : [port];
  const sessions = await Promise.all(Array.from({ length: connections }, (_, i) => WireSession.open(ports[i % ports.length])));
  const perConnection = Math.max(1, Math.round(outstanding / connections));
  const latencies = [];
  let errors = 0;
  let phase = 'warmup';
  let measureStart = 0;
  let measureEnd = 0;
  let lastDone = 0;
  const t0 = performance.now();
  await Promise.all(
    sessions.map(async (s, ci) => {
      let n = 0;
      const next = () => {
        const k = n++;
        switch (op) {
          case 'create':
            return s.send(OP.create, createBody(`/bench-${tag}/c-${run}-${ci}-${k}`, VALUE));
          case 'get':
            return s.send(OP.getData, getDataBody(`/bench-${tag}/g-${(ci * 7919 + k) % GET_KEYS}`));
          default:
            return s.send(OP.setData, setDataBody(`/bench-${tag}/g-${(ci * SET_KEYS_PER_CONNECTION + (k % SET_KEYS_PER_CONNECTION)) % GET_KEYS}`, VALUE));
        }
      };
      const lane = async () => {
        for (;;) {
          const now = performance.now();
          if (phase === 'warmup' && now - t0 >= warmupMs) {
            phase = 'measure';
            measureStart = now;
          }
          if (phase === 'measure' && (now - measureStart >= measureMs || latencies.length >= opsMax)) {
            if (measureEnd === 0) measureEnd = now;
            phase = 'done';
          }
          if (phase === 'done') return;
          const sentAt = performance.now();
          const counted = phase === 'measure';
          const err = await next();
          if (err !== 0) errors++;
          // every request sent in the window counts, even one that stalls past its end
          if (counted) {
            const doneAt = performance.now();
            latencies.push(doneAt - sentAt);
            lastDone = Math.max(lastDone, doneAt);
          }
        }
      };
      await Promise.all(Array.from({ length: perConnection }, lane));
    }),
  );
  await Promise.all(sessions.map((s) => s.close()));
  // the window runs until the last request sent in it was answered
  const seconds = (Math.max(measureEnd, lastDone) - measureStart) / 1000;
  latencies.sort((a, b) => a - b);
  return { ops: latencies.length, seconds, throughput: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? NaN, errors };
}
