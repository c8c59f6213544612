import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { SourceError } from './source-error.js';

const ALGORITHMS: Readonly<Record<string, number>> = { sha256: 64, sha512: 128 };

/** Checks that `digest` is one this tool can verify: `sha256:` + 64 or `sha512:` + 128 lowercase hex digits. */
export function checkDigest(digest: unknown, what: string): string {
  const [algorithm = '', encoded = ''] = typeof digest === 'string' ? digest.split(':') : [];
  const length = ALGORITHMS[algorithm];
  if (length === undefined || encoded.length !== length || !/^[a-f0-9]+$/.test(encoded)) {
    throw new SourceError(
      `${what} has the digest ${JSON.stringify(digest)}, which is no sha256 or sha512 digest`,
    );
  }
  return digest as string;
}

/**
 * Passes bytes through while hashing them; at the end, a digest other than `digest` is an error, so the
 * stream never ends cleanly on a blob that is not what its index or manifest promised.
 */
export function verifyDigest(digest: string, what: string): Transform {
  const [algorithm = 'sha256', expected = ''] = digest.split(':');
  const hash = createHash(algorithm);
  return new Transform({
    highWaterMark: 256 * 1024,
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      const actual = hash.digest('hex');
      if (actual === expected) done();
      else
        done(new DigestMismatchError(`${what} is corrupt: its ${algorithm} is ${actual}, not ${expected}`));
    },
  });
}

export class DigestMismatchError extends SourceError {
  override name = 'DigestMismatchError';
}
