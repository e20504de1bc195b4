/**
 * zxids and session ids are 64-bit: bigint everywhere inside, hex on every text boundary
 * (logs, trace events, four-letter words, the UI), as ZooKeeper prints them.
 */
export type Zxid = bigint;
export type SessionId = bigint;

const MASK_32 = 0xffffffffn;

export function makeZxid(epoch: number, counter: number): Zxid {
  return (BigInt(epoch) << 32n) | (BigInt(counter) & MASK_32);
}

export function zxidEpoch(zxid: Zxid): number {
  return Number((zxid >> 32n) & MASK_32);
}

export function zxidCounter(zxid: Zxid): number {
  return Number(zxid & MASK_32);
}

/** `0x1000000a3` style, as ZooKeeper logs zxids. */
export function hex(value: bigint): string {
  return `0x${BigInt.asUintN(64, value).toString(16)}`;
}

export function parseHex(text: string): bigint {
  const t = text.startsWith('0x') || text.startsWith('0X') ? text.slice(2) : text;
  if (!/^[0-9a-fA-F]{1,16}$/.test(t)) throw new Error(`not a 64-bit hex number: ${text}`);
  return BigInt.asIntN(64, BigInt(`0x${t}`));
}
