import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientListener } from './client-listener';
import type { ClientConnection } from './client-listener';
import { ServerStats } from './four-letter-words';
import type { Logger } from './log';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function exchange(port: number, bytes: Uint8Array | string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(bytes));
    s.on('data', (c) => chunks.push(c));
    s.on('close', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
    s.setTimeout(5000, () => {
      s.destroy();
      reject(new Error('timeout'));
    });
  });
}

describe('client listener', () => {
  let listener: ClientListener | null = null;
  afterEach(async () => {
    await listener?.close();
    listener = null;
  });

  function make(onFrame: (c: ClientConnection, p: Uint8Array) => void, maxClientCnxns = 0): ClientListener {
    listener = new ClientListener({
      host: '127.0.0.1',
      port: 0,
      packetBytesMax: 1024,
      maxClientCnxns,
      answerFourLetterWord: (w) => (w === 'ruok' ? 'imok' : `${w}!`),
      handler: { opened() {}, frame: onFrame, closed() {} },
      stats: new ServerStats(),
      log: quiet,
    });
    return listener;
  }

  it('four-letter word: answered and closed', async () => {
    const { port } = await make(() => {}).listen();
    expect((await exchange(port, 'ruok')).toString()).toBe('imok');
  });

  it('frames reach the handler; replies carry a length prefix', async () => {
    const { port } = await make((c, p) => {
      c.sendFrame(p.slice().reverse());
      c.close('done');
    }).listen();
    const reply = await exchange(port, new Uint8Array([0, 0, 0, 3, 1, 2, 3]));
    expect([...reply]).toEqual([0, 0, 0, 3, 3, 2, 1]);
  });

  it('a pre-handshake frame above the small bound closes the connection', async () => {
    const seen: number[] = [];
    const { port } = await make((_c, p) => seen.push(p.length)).listen();
    const reply = await exchange(port, new Uint8Array([0, 0, 0x20, 0, 1]));
    expect(reply.length).toBe(0);
    expect(seen).toEqual([]);
  });

  it('port in use → PORT_IN_USE naming the address', async () => {
    const { port } = await make(() => {}).listen();
    const second = new ClientListener({
      host: '127.0.0.1',
      port,
      packetBytesMax: 1024,
      maxClientCnxns: 0,
      answerFourLetterWord: () => '',
      handler: { opened() {}, frame() {}, closed() {} },
      stats: new ServerStats(),
      log: quiet,
    });
    await expect(second.listen()).rejects.toThrow(new RegExp(`127\\.0\\.0\\.1:${port} is already in use`));
  });
});
