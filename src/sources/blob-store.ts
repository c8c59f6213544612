import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { SourceError } from './source-error.js';

/** Where an image's documents and blobs are read from, by their name in the layout or archive. */
export interface BlobStore {
  /** What to call the source in an error: its path. */
  readonly label: string;
  /** True when the streams `open` gives check each layer's digest themselves (a DigestMismatchError at the end). */
  readonly verifies?: boolean;
  /** The member's bytes, or a SourceError naming the member when there is none. */
  open(name: string): Promise<Readable>;
}

/** Members a layout or archive may name: relative, no `.` or `..` part, nothing but these characters. */
const MEMBER = /^(?!.*(?:^|\/)\.\.?(?:\/|$))[A-Za-z0-9._:+-]+(?:\/[A-Za-z0-9._:+-]+)*$/;
/** Links to links are followed this far; an archive has no reason to chain them at all. */
const MAX_LINK_HOPS = 8;

/** An OCI image layout folder: every name is a path below it, checked so it cannot leave the folder. */
export function folderStore(dir: string): BlobStore {
  return {
    label: dir,
    async open(name) {
      if (!MEMBER.test(name)) throw new SourceError(`${dir} names a blob ${JSON.stringify(name)} outside it`);
      const stream = createReadStream(join(dir, name), { highWaterMark: 256 * 1024 });
      // Opening is lazy; wait for it so a missing blob is one clear error before anything is applied.
      await new Promise<void>((ready, fail) => {
        stream.once('ready', ready);
        stream.once('error', (error: NodeJS.ErrnoException) =>
          fail(
            error.code === 'ENOENT' || error.code === 'EISDIR'
              ? new SourceError(`${dir} lacks ${name}${describe(name)}`)
              : error,
          ),
        );
      });
      return stream;
    },
  };
}

/**
 * An archive (oci-archive or docker-archive) unpacked into `spillDir`, member by member under names of our
 * own, since its index or manifest comes last. Links between members are kept as a map, never made on disk.
 */
export async function unpackArchive(
  archive: string,
  spillDir: string,
  signal: AbortSignal | undefined,
): Promise<BlobStore> {
  const files = new Map<string, string>();
  const links = new Map<string, string>();
  await mkdir(spillDir, { recursive: true, mode: 0o700 });
  try {
    await pipeline(
      createReadStream(archive, { highWaterMark: 256 * 1024 }),
      tar.extract() as unknown as Duplex,
      async (members: AsyncIterable<Readable & { header: tar.Header }>) => {
        for await (const member of members) {
          const { type, linkname } = member.header;
          const name = memberName(member.header.name);
          if ((type === 'file' || type === 'symlink' || type === 'link') && files.has(name)) {
            throw new SourceError(`archive ${archive} holds ${name} twice`);
          }
          if (type === 'file') {
            const file = join(spillDir, `member-${files.size}`);
            await pipeline(member, createWriteStream(file), ...(signal ? [{ signal }] : []));
            files.set(name, file);
            continue;
          }
          // A symlink names a member relative to its own folder, a hardlink from the top of the archive.
          if (type === 'symlink')
            links.set(name, memberName(posix.join(posix.dirname(name), linkname ?? '')));
          if (type === 'link') links.set(name, memberName(linkname ?? ''));
          member.resume();
        }
      },
      ...(signal ? [{ signal }] : []),
    );
  } catch (error) {
    signal?.throwIfAborted();
    if (error instanceof SourceError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES') {
      throw new SourceError(`cannot read archive ${archive}: ${reason}`, { cause: error });
    }
    if (code === 'ENOSPC') throw error;
    throw new SourceError(`archive ${archive} is cut short or not a tar (${reason})`, { cause: error });
  }
  if (files.size === 0) throw new SourceError(`archive ${archive} holds no files; is it a tar of an image?`);
  return {
    label: archive,
    async open(name) {
      let target = memberName(name);
      for (let hops = 0; links.has(target); hops++) {
        if (hops === MAX_LINK_HOPS)
          throw new SourceError(`archive ${archive}: member ${name} links in a loop`);
        target = links.get(target) as string;
      }
      const file = files.get(target);
      if (!file) throw new SourceError(`archive ${archive} lacks ${name}${describe(name)}`);
      return createReadStream(file, { highWaterMark: 256 * 1024 });
    },
  };
}

/** A member's name as manifests write it: no `./`, no trailing slash. */
function memberName(name: string): string {
  return posix.normalize(name).replace(/^\.\/|\/$/g, '');
}

function describe(name: string): string {
  return name.includes('/') || name.endsWith('.tar') ? ', which its index or manifest names' : '';
}
