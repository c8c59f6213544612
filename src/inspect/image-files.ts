import { createHash } from 'node:crypto';
import { readFile, realpath } from 'node:fs/promises';
import type { ManifestEntry } from '../manifest.js';
import { decodeBytes } from '../tar/byte-string.js';
import { visible } from '../text/visible.js';
import { resolveInImage, shownPath } from './image-paths.js';
import { pathOnDisk } from './path-on-disk.js';
import type { Target } from './target.js';

/** Larger "small files" are refused: account and package databases are far below this. */
const MAX_BYTES = 32 * 1024 * 1024;

/** A text file read from the dump, under the path it was asked for and the path it resolved to. */
export interface ImageFile {
  readonly path: string;
  readonly resolved: string;
  readonly text: string;
  /** The same contents as read, for names that are bytes (package file lists). */
  readonly bytes: Buffer;
}

/** Reads the few small files the reports need (passwd, os-release, package databases) out of a dump. */
export interface ImageFiles {
  /** False when the target has no folder: a manifest alone holds no file contents. */
  readonly available: boolean;
  /** Why a file could not be read; one line each, for the report's notes. */
  readonly problems: string[];
  entry(path: string): ManifestEntry | undefined;
  /** Entries directly inside a folder of the image, sorted by path. */
  children(path: string): ManifestEntry[];
  /** The file's text after following symlinks inside the image; undefined when missing or unreadable. */
  readText(path: string): Promise<ImageFile | undefined>;
}

export function imageFiles(target: Target): ImageFiles {
  const index = new Map<string, ManifestEntry>();
  for (const entry of target.entries) index.set(entry.path, entry);
  const problems: string[] = [];
  const folder = target.folder;
  let realFolder: Promise<Buffer> | undefined;

  const contentEntry = (entry: ManifestEntry) =>
    entry.type === 'hardlink' && entry.target !== undefined ? index.get(entry.target) : entry;

  return {
    available: folder !== null,
    problems,
    entry: (path) => index.get(path),
    children(path) {
      const prefix = path === '' ? '' : `${path}/`;
      return target.entries.filter(
        (entry) => entry.path.startsWith(prefix) && !entry.path.slice(prefix.length).includes('/'),
      );
    },
    async readText(path) {
      if (folder === null) return undefined;
      const entry = resolveInImage(index, path);
      const content = entry && contentEntry(entry);
      if (!entry || !content || content.type !== 'file') return undefined;
      if (content.size > MAX_BYTES) {
        problems.push(`${shownPath(path)} is larger than ${MAX_BYTES} bytes; not read.`);
        return undefined;
      }
      realFolder ??= realpath(folder, { encoding: 'buffer' });
      const root = Buffer.concat([await realFolder, Buffer.from('/')]);
      let absolute: Buffer;
      try {
        absolute = await realpath(pathOnDisk(folder, entry.path), { encoding: 'buffer' });
      } catch {
        problems.push(`${shownPath(entry.path)} is listed but missing from ${visible(folder)}; not read.`);
        return undefined;
      }
      // The manifest and the folder might disagree; never read outside the dump.
      if (!absolute.subarray(0, root.length).equals(root)) {
        problems.push(`${shownPath(entry.path)} leads outside ${visible(folder)} on disk; not read.`);
        return undefined;
      }
      let bytes: Buffer;
      try {
        bytes = await readFile(absolute);
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        problems.push(`Cannot read ${shownPath(entry.path)} in ${visible(folder)}: ${reason}.`);
        return undefined;
      }
      if (
        content.sha256 !== undefined &&
        createHash('sha256').update(bytes).digest('hex') !== content.sha256
      ) {
        problems.push(
          `${shownPath(entry.path)} in ${visible(folder)} differs from the manifest (the dump is not the manifest's); not read.`,
        );
        return undefined;
      }
      // Decoded as names are, so a field's bytes that are not UTF-8 stay exact (and show as \xff).
      return { path, resolved: entry.path, text: decodeBytes(bytes), bytes };
    },
  };
}
