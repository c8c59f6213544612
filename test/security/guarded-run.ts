import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import type { Manifest } from '../../src/manifest.js';
import { leftovers, testLabel } from '../support/leftovers.js';
import { type MeasuredRun, runCliMeasured } from './measured-cli.js';
import { type RawTreeEntry, readRawTree, treeDigest } from './raw-tree.js';

export const METHODS = ['article', 'fast'] as const;
export type Method = (typeof METHODS)[number];

/** Fills `dir` with what a careless extractor would overwrite, chmod or delete through a hostile link. */
export async function makeCanary(dir: string): Promise<void> {
  await mkdir(join(dir, 'sub'), { recursive: true });
  await writeFile(join(dir, 'file'), 'canary\n', { mode: 0o644 });
  await writeFile(join(dir, 'secret'), 'do not read\n', { mode: 0o600 });
  await writeFile(join(dir, 'sub', 'inner'), 'inner\n');
}

export interface GuardedRun extends MeasuredRun {
  readonly method: Method;
  /** The output folder asked for; it exists only when the run succeeded. */
  readonly output: string;
  /** Canary folders whose digest changed: the sibling of the output, and the host folders given. */
  readonly changedCanaries: readonly string[];
  /** What the output's parent holds afterwards: the output, its manifest and the canary, nothing more. */
  readonly parentListing: readonly string[];
  readonly tree?: readonly RawTreeEntry[];
  readonly manifest?: Manifest;
  /** Containers and images of the run still in the engine. */
  readonly leftovers: readonly string[];
}

/**
 * Dumps `image` with `method` into `<dir>/out` beside a canary folder `<dir>/canary`, and reports all that
 * the run changed besides its output: canaries (also the host folders given), stray files, engine leftovers.
 */
export async function guardedRun(
  image: string,
  method: Method,
  dir: string,
  hostCanaries: readonly string[] = [],
): Promise<GuardedRun> {
  const canary = join(dir, 'canary');
  await makeCanary(canary);
  const canaries = [canary, ...hostCanaries];
  const before = await Promise.all(canaries.map(treeDigest));
  const output = join(dir, 'out');
  const label = testLabel();
  const run = await runCliMeasured([
    'extract',
    image,
    '--method',
    method,
    '--base',
    TEST_IMAGES.shell,
    '--pull',
    'never',
    '--quiet',
    '-o',
    output,
    '--manifest',
    `${output}.json`,
    '--label',
    label.arg,
  ]);
  const after = await Promise.all(canaries.map(treeDigest));
  const parentListing = (await readdir(dir)).sort();
  const succeeded = parentListing.includes('out');
  return {
    ...run,
    method,
    output,
    changedCanaries: canaries.filter((_, i) => before[i] !== after[i]),
    parentListing,
    ...(succeeded && { tree: await readRawTree(output) }),
    ...(parentListing.includes('out.json') && {
      manifest: JSON.parse(await readFile(`${output}.json`, 'utf8')) as Manifest,
    }),
    leftovers: await leftovers(label.value),
  };
}

/** A path's bytes as text that shows every byte: printable ASCII as is, everything else as \xNN. */
export function printable(path: Buffer): string {
  let text = '';
  for (const byte of path) {
    text +=
      byte >= 0x20 && byte < 0x7f && byte !== 0x5c
        ? String.fromCharCode(byte)
        : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return text;
}

/** The dump as `printable path → type` (`symlink -> target` for symlinks), for exact comparisons. */
export function treeShape(tree: readonly RawTreeEntry[]): Record<string, string> {
  return Object.fromEntries(
    tree.map((entry) => [
      printable(entry.path),
      entry.type === 'symlink' ? `symlink -> ${printable(entry.target ?? Buffer.alloc(0))}` : entry.type,
    ]),
  );
}
