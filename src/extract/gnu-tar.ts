import { execa } from 'execa';
import { OutputError } from '../errors.js';

const isRoot = process.getuid?.() === 0;

export interface GnuTarExtractOptions {
  readonly dir: string;
  /** Leading path components to drop from every member name. */
  readonly stripComponents?: number;
  readonly signal?: AbortSignal | undefined;
}

/**
 * GNU tar extracting the tar stream on its stdin into `dir`, as both methods run it.
 *
 * Flags it must never get: `--absolute-names` (-P) or `--dereference` (-h), which let members leave `dir`;
 * `--overwrite` or `--keep-directory-symlink`, which write through a symlink already on disk (by default
 * GNU tar unlinks a non-directory in the way, a symlink included, and never follows it for the name
 * itself); `--ignore-zeros`, which reads past the end marker; `--no-overwrite-dir`, which keeps a lower
 * directory's mode and owner where an upper layer (or the archive) sets its own.
 */
export function spawnGnuTarExtract(options: GnuTarExtractOptions) {
  // Directories get their modes and times once every member is written: a layer may list a folder's child
  // after other members, and as non-root GNU tar would seal a read-only folder (0555) before it came.
  const args = ['-x', '-p', '--numeric-owner', '--warning=no-timestamp', '--delay-directory-restore'];
  if (options.stripComponents) args.push(`--strip-components=${options.stripComponents}`);
  args.push('-C', options.dir, '-f', '-');
  if (isRoot) args.push('--same-owner');
  // Every attribute the process may set: GNU tar's default is user.* alone, and as non-root the kernel
  // refuses the others (see restorableXattr).
  args.push('--xattrs', `--xattrs-include=${isRoot ? '*' : 'user.*'}`);
  return execa('tar', args, {
    stdin: 'pipe',
    stdout: 'ignore',
    stderr: 'pipe',
    reject: false,
    // Its complaints are read below: in English whatever the user's locale. This also keeps it from
    // converting PAX names to the locale's charset (it keeps raw bytes when ASCII cannot hold them).
    env: { LC_ALL: 'C' },
    ...(options.signal && { cancelSignal: options.signal }),
  });
}

/** True when this process may set the extended attribute: security.* and trusted.* need root, user.* does not. */
export function restorableXattr(name: string): boolean {
  return isRoot || name.startsWith('user.');
}

export interface GnuTarResult {
  readonly exitCode?: number | undefined;
  readonly stderr: string;
}

export interface GnuTarFailureOptions {
  /** Device nodes GNU tar may not make (mknod needs root): that many refusals are a warning, not a failure. */
  readonly expectedMknodFailures: number;
  readonly dir: string;
  /** What was being written, for the message: "a layer", "the archive". */
  readonly writing: string;
}

/**
 * GNU tar's failure as the error to show, or undefined when it succeeded. Every line it writes counts: with
 * timestamp warnings off, a tar stream it reads without complaint leaves it silent.
 */
export function gnuTarFailure(result: GnuTarResult, options: GnuTarFailureOptions): OutputError | undefined {
  const problems = tarProblems(result.stderr, options.expectedMknodFailures);
  // As non-root, tar exits 2 for the device nodes it may not create; that alone is a warning, not a failure.
  const failed = problems.length > 0 || (result.exitCode !== 0 && options.expectedMknodFailures === 0);
  if (!failed) return undefined;
  // A full disk or a read-only output explains the lines after it: that one is the cause.
  const line =
    problems.find((problem) => DISK_FULL.test(problem)) ??
    problems.find((problem) => NOT_WRITABLE.test(problem)) ??
    problems[0] ??
    (result.stderr.trim() || `tar exited with code ${result.exitCode}`);
  const detail = line.replace(/^tar: /, '');
  if (DISK_FULL.test(line)) {
    return new OutputError(
      'DISK_FULL',
      `No space left on device while writing ${options.dir} (${detail}); free space or choose another --output.`,
    );
  }
  if (NOT_WRITABLE.test(line)) {
    return new OutputError(
      'OUTPUT_NOT_WRITABLE',
      `Cannot write ${options.dir} (${detail}); choose an --output you can write.`,
    );
  }
  return new OutputError('EXTRACT_FAILED', `Writing ${options.writing} failed: ${detail}`);
}

/**
 * True when GNU tar stopped because of the output (full, or not writable): then the broken pipe or stream
 * error that feeding it met is a symptom, and its own words are the cause to show.
 */
export function isOutputFault(failure: OutputError | undefined): boolean {
  return failure?.code === 'DISK_FULL' || failure?.code === 'OUTPUT_NOT_WRITABLE';
}

// GNU tar warns (exit 0) where the kernel refuses an attribute, such as user.* on a symlink; the engine
// skips those too (moby ignores EPERM and ENOTSUP from lsetxattr).
const XATTR_REFUSED = /: Cannot set '.*' extended attribute for file '.*': /;

/** GNU tar's words for each extended attribute it could not set. */
export function xattrRefusals(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => XATTR_REFUSED.test(line))
    .map((line) => line.replace(/^tar: (?:l?setxattr: )?/, ''));
}

// GNU tar reports a write cut short by a full disk as "Wrote only N of M bytes".
const DISK_FULL = /No space left on device|Wrote only \d+ of \d+ bytes/;
const NOT_WRITABLE = /Permission denied|Read-only file system/;

/** GNU tar's complaints that matter: everything but the mknod refusals expected as non-root. */
function tarProblems(stderr: string, expectedMknodFailures: number): string[] {
  let mknod = 0;
  return stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => {
      if (!line || /^tar: Exiting with failure status due to previous errors/.test(line)) return false;
      if (XATTR_REFUSED.test(line)) return false;
      if (/: Cannot mknod: Operation not permitted$/.test(line) && mknod < expectedMknodFailures) {
        mknod++;
        return false;
      }
      return true;
    });
}
