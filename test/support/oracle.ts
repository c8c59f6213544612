import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { TestEngine } from './engines.js';
import { compareTrees, type DiskEntry, readDumpTree, type TreeEntry } from './image-tree.js';

// The fidelity oracle: an implementation of the image spec that is neither ours nor an engine's. skopeo
// copies the image out of the engine (or a registry) into an OCI layout, umoci applies its layers by the
// spec's changeset rules (Go's archive/tar reads them, as every engine does) into a folder, as root, so
// owners, modes, links, devices, file mtimes and xattrs are written exactly.
//
// Folder mtimes, as umoci gives them: after each entry it restores the metadata of the entry's parent
// folder, so a folder keeps its own header's mtime, or (not listed by a layer) the lower layer's. Two
// cases get the time of the unpack instead: a folder no layer lists at all (the image says nothing of it),
// and a folder that a later entry of its layer reached only through parents no layer lists (umoci's
// MkdirAll changes it and restores only the direct parent). Those folders are `stamped`: their mtime is no
// fact of the image, so comparisons leave it out, and each test names them.

export interface OracleTree {
  /** The image's final filesystem, by path (the root left out); names and xattrs are byte strings. */
  readonly entries: ReadonlyMap<string, DiskEntry>;
  /** Folders whose mtime umoci set to the time of the unpack (see above), sorted. */
  readonly stamped: readonly string[];
}

/** Where the oracle reads the image from: an engine's image store, or a registry (`host/repo:tag`, plain HTTP). */
export type OracleSource =
  | { readonly engine: TestEngine; readonly image: string }
  | {
      readonly registry: string;
      readonly user: string;
      readonly password: string;
      /** Of an index, the platform's image (`amd64`); skopeo's own choice otherwise. */
      readonly arch?: string;
    };

export async function oracleTree(source: OracleSource): Promise<OracleTree> {
  const dir = await mkdtemp(join(tmpdir(), 'dc-oracle-'));
  try {
    const layout = `${join(dir, 'oci')}:image`;
    const platform =
      'registry' in source && source.arch ? ['--override-os', 'linux', '--override-arch', source.arch] : [];
    // umoci 0.4.7 reads plain and gzip layers only: skopeo recompresses zstd ones (same tar bytes inside).
    const gzip = ['--dest-compress', '--dest-compress-format', 'gzip'];
    await execa('skopeo', [
      ...platform,
      'copy',
      '--quiet',
      ...gzip,
      ...(await sourceArgs(source, dir)),
      `oci:${layout}`,
    ]);
    // A second's slack: umoci's stamps are whole seconds of the clock, our start is not.
    const started = Math.floor(Date.now() / 1000) - 1;
    await execa('umoci', ['unpack', '--image', layout, join(dir, 'bundle')]);
    const entries = await readDumpTree(join(dir, 'bundle', 'rootfs'), { xattrs: true });
    const stamped = [...entries.values()]
      .filter((entry) => entry.type === 'dir' && entry.mtime >= started)
      .map((entry) => entry.path);
    return { entries, stamped };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function sourceArgs(source: OracleSource, dir: string): Promise<string[]> {
  if ('registry' in source) {
    return [
      '--src-tls-verify=false',
      '--src-creds',
      `${source.user}:${source.password}`,
      `docker://${source.registry}`,
    ];
  }
  // What skopeo's docker-daemon transport would read, the engine's export of its stored image, through the
  // CLI: skopeo 1.9 speaks API 1.22 to a daemon, and Docker 26 refuses anything below 1.24.
  const archive = join(dir, 'image.tar');
  await execa('docker', ['save', '--output', archive, source.image], {
    env: { ...process.env, ...source.engine.env },
  });
  return [`docker-archive:${archive}`];
}

/**
 * Entry-by-entry differences between the oracle and a dump (a folder read with readDumpTree, or a manifest's
 * entries): everything compareTrees compares, owners, folder mtimes (but for the stamped ones) and xattrs.
 */
export function oracleDifferences(
  oracle: OracleTree,
  actual: ReadonlyMap<string, TreeEntry | DiskEntry>,
): string[] {
  return compareTrees(
    withoutStampedMtimes(oracle.entries, oracle.stamped),
    withoutStampedMtimes(actual, oracle.stamped),
    {
      owners: true,
      dirMtimes: true,
      xattrs: true,
    },
  );
}

/** A manifest's entries as a tree compareTrees reads. */
export function manifestTree(entries: readonly TreeEntry[]): Map<string, TreeEntry> {
  return new Map(entries.map((entry) => [entry.path, entry]));
}

function withoutStampedMtimes<T extends TreeEntry | DiskEntry>(
  tree: ReadonlyMap<string, T>,
  stamped: readonly string[],
): Map<string, T> {
  const result = new Map(tree);
  for (const path of stamped) {
    const entry = result.get(path);
    if (entry?.type === 'dir') result.set(path, { ...entry, mtime: 0 });
  }
  return result;
}
