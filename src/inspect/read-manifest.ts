import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { commandLine } from '../invocation.js';
import { type EntryType, type Manifest, type ManifestEntry, sortEntries } from '../manifest.js';
import { visible } from '../text/visible.js';

const TYPES = new Set<EntryType>(['file', 'dir', 'symlink', 'hardlink', 'fifo', 'char', 'block']);

/** Reads and checks a manifest written by `extract --manifest`; entries come back sorted by path. */
export async function readManifestFile(path: string): Promise<Manifest> {
  const hint = `pass a manifest written by ${commandLine('extract')} IMAGE --manifest FILE`;
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(`Cannot read manifest ${visible(path)}: ${reason}; ${hint}.`, { cause: error });
  }
  const manifest = data as Partial<Manifest> | null;
  if (manifest?.schema !== 1 || !Array.isArray(manifest.entries) || typeof manifest.image !== 'object') {
    throw new UsageError(`${visible(path)} is not a distroless-contents manifest (schema 1); ${hint}.`);
  }
  let sorted = true;
  let previous = '';
  for (const [index, entry] of manifest.entries.entries()) {
    const { path: entryPath, type } = (entry ?? {}) as Partial<ManifestEntry>;
    if (typeof entryPath !== 'string' || !TYPES.has(type as EntryType)) {
      throw new UsageError(`${visible(path)}: entry ${index} has no valid path and type; ${hint}.`);
    }
    if (index > 0 && entryPath <= previous) sorted = false;
    previous = entryPath;
  }
  return sorted
    ? (manifest as Manifest)
    : { ...(manifest as Manifest), entries: sortEntries([...manifest.entries]) };
}
