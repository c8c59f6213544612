import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import { OutputError } from '../errors.js';
import type { ManifestEntry } from '../manifest.js';
import { entryReader } from './read-entries.js';

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
  const args = [
    '-x',
    '-p',
    '--numeric-owner',
    `--strip-components=${options.stripComponents}`,
    '-C',
    dir,
    '-f',
    '-',
  ];
  if (isRoot) args.push('--same-owner', '--xattrs', '--xattrs-include=*');
  const child = execa('tar', args, {
    stdin: 'pipe',
    stdout: 'ignore',
    stderr: 'pipe',
    reject: false,
    ...(options.signal && { cancelSignal: options.signal }),
  });
  const reader = entryReader(options.stripComponents);
  // One source, two consumers: pipe() holds the archive back until both have taken each chunk.
  const streamOptions = options.signal ? { signal: options.signal } : {};
  const piped = Promise.allSettled([
    pipeline(archive, child.stdin as NodeJS.WritableStream, streamOptions),
    pipeline(archive, reader.sink, streamOptions),
  ]);
  // Counted once both pipes are attached, so that no chunk flows before they are.
  if (options.onProgress) countProgress(archive, reader.entries, options.onProgress);
  const [toTar, toReader] = await piped;
  const result = await child;
  options.signal?.throwIfAborted();
  // tar stopping early (disk full) breaks our pipe to it; that EPIPE is a symptom, tar's own words the cause.
  const streamFailure = [toTar, toReader].find(
    (outcome): outcome is PromiseRejectedResult =>
      outcome.status === 'rejected' && (outcome.reason as NodeJS.ErrnoException)?.code !== 'EPIPE',
  );
  const skipped = await skippedDevices(dir, reader.entries);
  const problems = tarProblems(result.stderr, skipped.length);
  // As non-root, tar exits 2 for the device nodes it may not create; that alone is a warning, not a failure.
  const tarFailed = problems.length > 0 || (result.exitCode !== 0 && skipped.length === 0);
  if (
    streamFailure &&
    !(tarFailed && /No space left|Wrote only|Permission denied|Read-only/.test(result.stderr))
  ) {
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
  if (tarFailed)
    throw tarError(problems[0] || result.stderr.trim() || `tar exited with code ${result.exitCode}`, dir);
  const warnings: string[] = [];
  if (skipped.length > 0) {
    warnings.push(
      `Skipped ${skipped.length} device node${skipped.length === 1 ? '' : 's'} (creating them needs root): ${skipped.join(', ')}; the manifest lists them.`,
    );
  }
  return { entries: reader.entries, warnings };
}

function countProgress(
  archive: Readable,
  entries: readonly unknown[],
  onProgress: (bytes: number, entries: number) => void,
): void {
  let bytes = 0;
  let reported = 0;
  // A second 'data' listener sees the chunks that pipe() forwards, without changing its back-pressure.
  archive.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    const now = performance.now();
    if (now - reported >= 100) {
      reported = now;
      onProgress(bytes, entries.length);
    }
  });
  archive.once('end', () => onProgress(bytes, entries.length));
}

/** Device entries that are not on disk: expected when not root, since mknod needs privilege. */
async function skippedDevices(dir: string, entries: readonly ManifestEntry[]): Promise<string[]> {
  if (isRoot) return [];
  const missing: string[] = [];
  for (const entry of entries) {
    if (entry.type !== 'char' && entry.type !== 'block') continue;
    try {
      await lstat(join(dir, entry.path));
    } catch {
      missing.push(entry.path);
    }
  }
  return missing;
}

/** GNU tar's complaints that matter: everything but the mknod refusals we expect as non-root. */
function tarProblems(stderr: string, expectedMknodFailures: number): string[] {
  let mknod = 0;
  return stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => {
      if (!line || /^tar: Exiting with failure status due to previous errors/.test(line)) return false;
      if (/: Cannot mknod: Operation not permitted$/.test(line) && mknod < expectedMknodFailures) {
        mknod++;
        return false;
      }
      return true;
    });
}

function tarError(line: string, dir: string): OutputError {
  const detail = line.replace(/^tar: /, '');
  // GNU tar reports a write cut short by a full disk as "Wrote only N of M bytes".
  if (/No space left on device|Wrote only \d+ of \d+ bytes/.test(line)) {
    return new OutputError(
      'DISK_FULL',
      `No space left on device while writing ${dir} (${detail}); free space or choose another --output.`,
    );
  }
  if (/Permission denied|Read-only file system/.test(line)) {
    return new OutputError(
      'OUTPUT_NOT_WRITABLE',
      `Cannot write ${dir} (${detail}); choose an --output you can write.`,
    );
  }
  return new OutputError('EXTRACT_FAILED', `Writing the archive failed: ${detail}`);
}
