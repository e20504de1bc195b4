/**
 * Ask a server a four-letter word: connect, write the 4 bytes, read until the server closes.
 * Bounded in time and size, so a paused or wedged server cannot hold the caller.
 */
import net from 'node:net';
import { ZooLabError } from '../common/errors';

export function askFourLetterWord(host: string, port: number, word: string, timeoutMs = 2000, bytesMax = 1 << 20): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: Error | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const socket = net.connect({ host, port }, () => socket.write(word));
    const timer = setTimeout(
      () => finish(new ZooLabError('TIMEOUT', `${host}:${port} did not answer '${word}' within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('data', (c: Buffer) => {
      size += c.length;
      if (size > bytesMax) return finish(new ZooLabError('CONNECTION', `${host}:${port}: '${word}' answer larger than ${bytesMax} bytes`));
      chunks.push(c);
    });
    socket.on('end', () => finish(null));
    socket.on('close', () => finish(null));
    socket.on('error', (e) => finish(new ZooLabError('CONNECTION', `${host}:${port}: ${e.message}`, { cause: e })));
  });
}
