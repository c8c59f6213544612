/**
 * The daemon's words when `docker save` misses blobs: on the containerd image store, an image pulled for one
 * platform of a multi-platform index lacks the other platforms' blobs, and a save of the index fails
 * (moby#49473).
 */
const MISSING_BLOB = /content digest sha256:[0-9a-f]{64}: not found/i;

/** One line for a refused `docker save` of `imageId`: what went wrong in the daemon's words, and what to do. */
export function saveFailureMessage(imageId: string, daemonWords: string): string {
  if (MISSING_BLOB.test(daemonWords)) {
    return `docker save of ${imageId} failed: the engine holds only some platforms of this multi-platform image and cannot save it (${daemonWords}; moby#49473); use --method article.`;
  }
  return `docker save of ${imageId} failed: ${daemonWords}`;
}
