import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import tar from 'tar-stream';
import type { EntryType, ManifestEntry } from '../manifest.js';

const TYPES: Readonly<Record<string, EntryType>> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'dir',
  symlink: 'symlink',
  link: 'hardlink',
  fifo: 'fifo',
  'character-device': 'char',
  'block-device': 'block',
};

const XATTR_PREFIX = 'SCHILY.xattr.';

/**
 * A writable that parses a tar stream into manifest entries, hashing file contents on the way.
 * `stripComponents` leading path components are removed from names and hardlink targets; the entry that
 * becomes empty (the archive's own top folder) is the root and is left out.
 */
export function entryReader(stripComponents: number): { sink: Writable; entries: ManifestEntry[] } {
  const entries: ManifestEntry[] = [];
  const extract = tar.extract();
  extract.on('entry', (header, body, next) => {
    // An archive cut mid-entry (the engine died) destroys the entry with the error the pipeline already
    // reports; left unheard, that second 'error' crashes the process before anything is cleaned up.
    body.on('error', () => {});
    const type = TYPES[header.type ?? 'file'];
    const path = normalise(header.name, stripComponents);
    if (type === undefined || path === '') {
      body.on('end', next).resume();
      return;
    }
    const pax = (header.pax ?? {}) as Readonly<Record<string, string>>;
    const hash = type === 'file' ? createHash('sha256') : undefined;
    body.on('data', (chunk: unknown) => {
      hash?.update(chunk as Buffer);
    });
    body.on('end', () => {
      const xattrs = Object.fromEntries(
        Object.entries(pax)
          .filter(([key]) => key.startsWith(XATTR_PREFIX))
          .map(([key, value]) => [key.slice(XATTR_PREFIX.length), value]),
      );
      const target =
        type === 'symlink'
          ? (header.linkname ?? '')
          : type === 'hardlink'
            ? normalise(header.linkname ?? '', stripComponents)
            : undefined;
      entries.push({
        path,
        type,
        mode: (header.mode ?? 0) & 0o7777,
        // Large ids travel in PAX records, which tar-stream leaves undecoded.
        uid: pax.uid !== undefined ? Number(pax.uid) : (header.uid ?? 0),
        gid: pax.gid !== undefined ? Number(pax.gid) : (header.gid ?? 0),
        size: type === 'file' ? (header.size ?? 0) : 0,
        mtime: Math.floor(
          (pax.mtime !== undefined ? Number(pax.mtime) * 1000 : (header.mtime?.getTime() ?? 0)) / 1000,
        ),
        ...(target !== undefined && { target }),
        ...(hash && { sha256: hash.digest('hex') }),
        ...((type === 'char' || type === 'block') && {
          devmajor: header.devmajor ?? 0,
          devminor: header.devminor ?? 0,
        }),
        ...(Object.keys(xattrs).length > 0 && { xattrs }),
      });
      next();
    });
  });
  return { sink: extract as unknown as Writable, entries };
}

/** Archive names may start with `./` or `/` and end with `/`; manifest paths do neither. */
export function normalise(name: string, stripComponents = 0): string {
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  return parts.slice(stripComponents).join('/');
}
