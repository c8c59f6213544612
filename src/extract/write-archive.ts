import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OutputError } from '../errors.js';
import type { ManifestEntry } from '../manifest.js';
import { countProgress } from './count-progress.js';
import { gnuTarFailure, isOutputFault, spawnGnuTarExtract, xattrRefusals } from './gnu-tar.js';
import { openFolder } from './open-folder.js';
import { entryReader } from './read-entries.js';
import { xattrWarnings } from './xattr-warnings.js';

export interface WriteArchiveOptions {
  /** Leading path components to drop (the archive's top folder). */
  readonly stripComponents: number;
  readonly signal?: AbortSignal | undefined;
  /** Bytes of archive read and entries seen so far, at most about ten times a second. */
  readonly onProgress?: ((bytes: number, entries: number) => void) | undefined;
}

export interface WrittenArchive {
  readonly entries: ManifestEntry[];
  readonly warnings: string[];
}

const isRoot = process.getuid?.() === 0;

/**
 * Writes a tar stream into `dir` with GNU tar and reads the same bytes into manifest entries in one pass.
 *
 * GNU tar, not node-tar: it keeps absolute symlink targets, setuid/setgid bits, FIFOs, devices and xattrs,
 * applies no umask with -p, refuses `..` members and defers dangerous symlinks (see shared facts).
 */
export async function writeArchive(
  archive: Readable,
  dir: string,
  options: WriteArchiveOptions,
): Promise<WrittenArchive> {
  const child = spawnGnuTarExtract({
    dir,
    stripComponents: options.stripComponents,
    signal: options.signal,
  });
  const reader = entryReader(options.stripComponents);
  // One source, two consumers: pipe() holds the archive back until both have taken each chunk.
  const streamOptions = options.signal ? { signal: options.signal } : {};
  const piped = Promise.allSettled([
    pipeline(archive, child.stdin as NodeJS.WritableStream, streamOptions),
    pipeline(archive, reader.sink, streamOptions),
  ]);
  // Counted once both pipes are attached, so that no chunk flows before they are.
  const counted =
    options.onProgress && countProgress(archive, () => reader.entries.length, options.onProgress);
  const [toTar, toReader] = await piped;
  counted?.();
  const result = await child;
  options.signal?.throwIfAborted();
  // tar stopping early (disk full) breaks our pipe to it; that EPIPE is a symptom, tar's own words the cause.
  const streamFailure = [toTar, toReader].find(
    (outcome): outcome is PromiseRejectedResult =>
      outcome.status === 'rejected' && (outcome.reason as NodeJS.ErrnoException)?.code !== 'EPIPE',
  );
  const skipped = await skippedDevices(dir, reader.entries);
  const failure = gnuTarFailure(result, {
    expectedMknodFailures: skipped.length,
    dir,
    writing: 'the archive',
  });
  if (streamFailure && !isOutputFault(failure)) {
    const reason =
      streamFailure.reason instanceof Error ? streamFailure.reason.message : String(streamFailure.reason);
    throw new OutputError(
      'EXTRACT_FAILED',
      `Reading the image archive failed: ${reason}; check the engine (docker info) and retry.`,
      {
        cause: streamFailure.reason,
      },
    );
  }
  if (failure) throw failure;
  const warnings: string[] = [];
  if (skipped.length > 0) {
    warnings.push(
      `Skipped ${skipped.length} device node${skipped.length === 1 ? '' : 's'} (creating them needs root): ${skipped.join(', ')}; the manifest lists them.`,
    );
  }
  warnings.push(...xattrWarnings(reader.entries, xattrRefusals(result.stderr)));
  return { entries: reader.entries, warnings };
}

/** Device entries that are not on disk: expected when not root, since mknod needs privilege. */
async function skippedDevices(dir: string, entries: readonly ManifestEntry[]): Promise<string[]> {
  if (isRoot || !entries.some((entry) => entry.type === 'char' || entry.type === 'block')) return [];
  const missing: string[] = [];
  const folder = await openFolder(dir);
  try {
    for (const entry of entries) {
      if (entry.type !== 'char' && entry.type !== 'block') continue;
      try {
        await lstat(join(folder.path, entry.path));
      } catch {
        missing.push(entry.path);
      }
    }
  } finally {
    await folder.close();
  }
  return missing;
}
