import { encodeBytes } from '../tar/byte-string.js';

/**
 * Where a manifest path lies under a dump folder, as bytes: a name that was not UTF-8 holds lone surrogates,
 * which a string path would write as U+FFFD and so miss the file.
 */
export function pathOnDisk(folder: string, path: string): Buffer {
  return Buffer.concat([Buffer.from(folder), Buffer.from('/'), encodeBytes(path)]);
}
