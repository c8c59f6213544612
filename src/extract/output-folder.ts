import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chmod, lstat, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { OutputError, UsageError } from '../errors.js';
import { type OpenFolder, openFolder } from './open-folder.js';

/**
 * Staging folders are named `<prefix><output name>-<pid>-<random>`, so an interrupted run's leftovers can be
 * recognised, and told from a running one's by its process id.
 */
export const STAGING_PREFIX = '.distroless-contents-staging-';
const STAGING_PID = /-(\d+)-[0-9a-f]{8}(?:-old)?$/;

/** The process id in a staging folder's name. */
export function stagingPid(name: string): number | undefined {
  const match = name.startsWith(STAGING_PREFIX) ? STAGING_PID.exec(name) : null;
  return match ? Number(match[1]) : undefined;
}

/**
 * A staging folder beside the output, renamed into place only when complete: a failed run leaves no
 * half-written output, and with `force` the old output stays until the new one is whole. The manifest is
 * committed with it: either both are in place, or neither changed.
 */
export interface OutputFolder {
  readonly output: string;
  /** Absolute path of the manifest, when one was asked for. */
  readonly manifest: string | undefined;
  readonly staging: string;
  /** Moves the staging folder into place (replacing an old output when allowed) and writes the manifest. */
  commit(manifest?: string): Promise<void>;
  /** Removes the staging folder; safe to call after commit. */
  discard(): Promise<void>;
}

/** Checks the output and manifest paths before any work starts (usage errors), then makes the staging folder. */
export async function prepareOutput(
  outputPath: string,
  force: boolean,
  manifestPath?: string,
): Promise<OutputFolder> {
  const output = resolve(outputPath);
  const manifest = manifestPath === undefined ? undefined : resolve(manifestPath);
  const existing = await statOrUndefined(output);
  if (existing && !existing.isDirectory()) {
    throw new UsageError(
      `Output ${output} exists and is not a folder; remove it or choose another --output.`,
    );
  }
  await checkWritable(existing ? output : await nearestFolder(dirname(output)), `--output ${output}`);
  if (manifest) await checkManifest(manifest, output);
  if (existing && !force && (await readdir(output)).length > 0) {
    throw new OutputError(
      'OUTPUT_EXISTS',
      `Output folder ${output} is not empty; pass --force to replace it, or choose another --output.`,
    );
  }
  const parent = dirname(output);
  const staging = join(
    parent,
    `${STAGING_PREFIX}${basename(output)}-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  try {
    await mkdir(parent, { recursive: true });
    await mkdir(staging, { mode: 0o700 });
  } catch (error) {
    throw writeError(error, output);
  }
  let committed = false;
  return {
    output,
    manifest,
    staging,
    async commit(content) {
      const temporary = manifest && `${manifest}.${randomBytes(4).toString('hex')}.tmp`;
      try {
        if (temporary)
          await writeFile(temporary, content ?? '').catch((error) => {
            throw writeError(error, manifest as string);
          });
        await chmod(staging, 0o755);
        const old = (await statOrUndefined(output)) ? `${staging}-old` : undefined;
        if (old) await rename(output, old);
        try {
          await rename(staging, output);
          // The manifest's rename is the commit point: until it is done, the old output can come back.
          if (temporary) await rename(temporary, manifest as string);
        } catch (error) {
          if ((await statOrUndefined(staging)) === undefined) await rename(output, staging);
          if (old) await rename(old, output);
          throw writeError(error, output);
        }
        committed = true;
        if (old) await removeTree(old);
      } finally {
        if (temporary) await rm(temporary, { force: true });
      }
    },
    async discard() {
      if (!committed) await removeTree(staging);
    },
  };
}

/** The manifest must name a file whose folder exists and can be written, outside the output folder. */
async function checkManifest(manifest: string, output: string): Promise<void> {
  const inside = relative(output, manifest);
  if (inside === '' || (!inside.startsWith(`..${sep}`) && inside !== '..')) {
    throw new UsageError(
      `--manifest ${manifest} is inside the output folder ${output}, which is replaced whole; put it beside it.`,
    );
  }
  if ((await statOrUndefined(manifest))?.isDirectory()) {
    throw new UsageError(
      `--manifest ${manifest} is a folder; name a file, e.g. ${join(manifest, 'manifest.json')}.`,
    );
  }
  const folder = dirname(manifest);
  const found = await statOrUndefined(folder);
  // The run makes the output's parent folders: a manifest beside the output may go into one of them.
  const madeByRun = !relative(folder, dirname(output)).startsWith('..');
  if (!found?.isDirectory() && (found || !madeByRun)) {
    throw new UsageError(
      `--manifest ${manifest}: the folder ${folder} does not exist; create it or choose another path.`,
    );
  }
  await checkWritable(found ? folder : await nearestFolder(folder), `--manifest ${manifest}`);
}

/** The path itself if it exists, else its nearest existing ancestor: what a recursive mkdir would write in. */
async function nearestFolder(path: string): Promise<string> {
  for (let current = path; ; current = dirname(current)) {
    const found = await statOrUndefined(current);
    if (found) {
      if (!found.isDirectory()) {
        throw new UsageError(
          `${current} is not a folder, so nothing can be written below it; choose another path.`,
        );
      }
      return current;
    }
    if (dirname(current) === current) return current;
  }
}

async function checkWritable(folder: string, what: string): Promise<void> {
  try {
    await access(folder, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new UsageError(
      `Cannot write ${what}: ${folder} is not writable (${(error as NodeJS.ErrnoException).code}); choose a folder you can write.`,
      { cause: error },
    );
  }
}

/**
 * Removes a tree even when it holds mode-000 or read-only folders that a non-root user cannot enter, or paths
 * longer than PATH_MAX from here: its content goes through the open folder's short name (open-folder.ts).
 */
export async function removeTree(path: string): Promise<void> {
  let folder: OpenFolder;
  try {
    folder = await openFolder(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    // Not a folder (ELOOP: a symlink): the name alone goes.
    if (code === 'ENOTDIR' || code === 'ELOOP') return rm(path, { force: true });
    if (code !== 'EACCES') throw error;
    await chmod(path, 0o700);
    folder = await openFolder(path);
  }
  try {
    // A read-only top folder (a layer's own `./`) would keep its children.
    await chmod(folder.path, 0o700);
    for (const name of await readdir(folder.path, { encoding: 'buffer' })) {
      await removeBelow(Buffer.concat([Buffer.from(`${folder.path}/`), name]));
    }
  } finally {
    await folder.close();
  }
  await rm(path, { recursive: true, force: true });
}

async function removeBelow(path: Buffer): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EACCES') throw error;
    await openUp(path);
    await rm(path, { recursive: true, force: true });
  }
}

async function openUp(dir: Buffer): Promise<void> {
  try {
    if (!(await lstat(dir)).isDirectory()) return;
    await chmod(dir, 0o700);
    for (const entry of await readdir(dir, { withFileTypes: true, encoding: 'buffer' })) {
      if (entry.isDirectory()) await openUp(Buffer.concat([dir, Buffer.from('/'), entry.name]));
    }
  } catch (error) {
    // The failed rm may already have removed part of the tree.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

async function statOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw writeError(error, path);
  }
}

function writeError(error: unknown, output: string): OutputError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') {
    return new OutputError(
      'DISK_FULL',
      `No space left on device for ${output}; free space or choose another --output.`,
      {
        cause: error,
      },
    );
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new OutputError(
    'OUTPUT_NOT_WRITABLE',
    `Cannot write output ${output}: ${reason}; choose an --output you can write.`,
    {
      cause: error,
    },
  );
}
