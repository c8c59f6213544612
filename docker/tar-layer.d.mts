import type { Headers } from 'tar-stream';

/** A layer member: a tar-stream header with `mtime` in whole seconds, and `content` for regular files. */
export type LayerTarEntry = Omit<Partial<Headers>, 'mtime'> & {
  readonly name: string;
  readonly type: NonNullable<Headers['type']>;
  readonly mode: number;
  readonly mtime: number;
  readonly content?: Buffer;
};

/** Writes a layer tar from entry specs; resolves to its diff_id (`sha256:` of the uncompressed bytes). */
export declare function writeLayerTar(entries: readonly LayerTarEntry[], file: string): Promise<string>;
