import { join } from 'node:path';
import { execa } from 'execa';

// Go's archive/tar as an oracle: test/tar/go-reader/main.go, compiled once per test file.

/** One line of the Go reader: an entry (names and PAX as hex, numbers as decimal strings) or the end. */
export type GoRead = Record<string, unknown>;

/** Compiles the Go reader into `dir` and returns its path. */
export async function buildGoReader(dir: string): Promise<string> {
  const binary = join(dir, 'go-reader');
  await execa('go', ['build', '-o', binary, 'main.go'], {
    cwd: join(import.meta.dirname, 'go-reader'),
    env: { GOCACHE: join(dir, 'go-cache'), GO111MODULE: 'off' },
  });
  return binary;
}

/** What Go's archive/tar reads from each tar: its entries, then `{ end: '' }` or `{ end: error }`. */
export async function goRead(binary: string, tars: readonly Buffer[]): Promise<GoRead[][]> {
  const framed = tars.flatMap((tar) => {
    const length = Buffer.alloc(8);
    length.writeBigUInt64BE(BigInt(tar.length));
    return [length, tar];
  });
  const { stdout } = await execa(binary, { input: Buffer.concat(framed), maxBuffer: 1 << 30 });
  const all: GoRead[][] = [[]];
  for (const line of stdout.trim().split('\n')) {
    const read = JSON.parse(line) as GoRead;
    (all[all.length - 1] as GoRead[]).push(read);
    if ('end' in read) all.push([]);
  }
  all.pop();
  return all;
}
