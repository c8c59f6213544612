import type { ImageInfo, ManifestEntry } from '../manifest.js';

/** What the user named: an image to extract, a dump folder, or a manifest file. */
export type TargetKind = 'image' | 'folder' | 'manifest';

/** A manifest entry, with the bytes it takes on disk when a folder scan measured them. */
export interface InspectEntry extends ManifestEntry {
  /** `st_blocks * 512`, counted once per inode (0 for further hardlinks); absent when not measured. */
  readonly diskBytes?: number;
}

/** Everything the reports and diffs read: the entries, and where small files' contents can be read. */
export interface Target {
  readonly kind: TargetKind;
  /** The TARGET argument as given. */
  readonly spec: string;
  /** Absolute path of the manifest the entries come from, when they come from one the user has. */
  readonly manifestPath: string | null;
  /** Absolute path of the dump folder, when there is one to read file contents from. */
  readonly folder: string | null;
  readonly image: ImageInfo | null;
  /** Sorted by path (code-unit order), as in a manifest. */
  readonly entries: readonly InspectEntry[];
  /** `manifest`: the image's true owners; `disk`: owners as the dump folder holds them. */
  readonly ownersFrom: 'manifest' | 'disk';
  /** Things the reader should know about where the data came from. */
  readonly notes: readonly string[];
}

/** The part of a target that reports and diffs print (the temporary folder of an image target is not shown). */
export interface TargetInfo {
  readonly kind: TargetKind;
  readonly spec: string;
  readonly manifest: string | null;
  readonly folder: string | null;
  readonly ownersFrom: 'manifest' | 'disk';
}

export function targetInfo(target: Target): TargetInfo {
  return {
    kind: target.kind,
    spec: target.spec,
    manifest: target.manifestPath,
    folder: target.kind === 'image' ? null : target.folder,
    ownersFrom: target.ownersFrom,
  };
}
