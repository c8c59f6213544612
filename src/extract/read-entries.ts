import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import type { EntryType, ManifestEntry } from '../manifest.js';
import { type TarHeader, toMember } from '../tar/tar-member.js';
import { TarParser } from '../tar/tar-reader.js';

const TYPES: Readonly<Record<string, EntryType>> = {
  file: 'file',
  dir: 'dir',
  symlink: 'symlink',
  hardlink: 'hardlink',
  fifo: 'fifo',
  char: 'char',
  block: 'block',
};

/**
 * A writable that parses a tar stream into manifest entries with the one tar reader (src/tar, as Go reads
 * it), hashing file contents on the way. `stripComponents` leading path components are removed from names
 * and hardlink targets; the entry that becomes empty (the archive's own top folder) is the root and is left
 * out. Names, targets and xattrs are byte strings (byte-string.ts).
 */
export function entryReader(stripComponents: number): { sink: Writable; entries: ManifestEntry[] } {
  const entries: ManifestEntry[] = [];
  // A name listed twice is written twice by GNU tar, the later one last: that one describes the disk.
  const indexOf = new Map<string, number>();
  const add = (entry: ManifestEntry) => {
    const index = indexOf.get(entry.path);
    if (index === undefined) {
      indexOf.set(entry.path, entries.length);
      entries.push(entry);
    } else entries[index] = entry;
  };
  const parser = new TarParser({
    entry(entry) {
      if (entry.typeflag === 'g') return undefined;
      let header: TarHeader;
      try {
        header = toMember(entry);
      } catch {
        // A kind no dump holds (the engine's archive has none): GNU tar decides what to do with it.
        return undefined;
      }
      const type = TYPES[header.kind] as EntryType;
      const path = normalise(header.name, stripComponents);
      if (path === '') return undefined;
      const hash = type === 'file' ? createHash('sha256') : undefined;
      return {
        update: (chunk) => hash?.update(chunk),
        end: () => {
          const target =
            type === 'symlink'
              ? header.linkname
              : type === 'hardlink'
                ? normalise(header.linkname, stripComponents)
                : undefined;
          add({
            path,
            type,
            mode: header.mode,
            uid: header.uid,
            gid: header.gid,
            size: header.size,
            mtime: header.mtime,
            ...(target !== undefined && { target }),
            ...(hash && { sha256: hash.digest('hex') }),
            ...((type === 'char' || type === 'block') && {
              devmajor: header.devmajor,
              devminor: header.devminor,
            }),
            ...(Object.keys(header.xattrs).length > 0 && { xattrs: { ...header.xattrs } }),
          });
        },
      };
    },
  });
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      try {
        if (!parser.ended) parser.write(chunk);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    final(callback) {
      try {
        parser.end();
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
  return { sink, entries };
}

/** Archive names may start with `./` or `/` and end with `/`; manifest paths do neither. */
export function normalise(name: string, stripComponents = 0): string {
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  return parts.slice(stripComponents).join('/');
}
