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

/**
 * One line for a save that came back without some of its layers: the containerd image store skips a pulled
 * image's blobs when it already holds the layers unpacked (loaded from an uncompressed archive, or shared with
 * another image), and `docker save` then leaves them out without a word (moby#49473, fixed by moby#53615).
 */
export function missingLayerMessage(imageId: string, member: string): string {
  return `docker save of ${imageId} holds no bytes for its layer ${member}: the engine's containerd image store skipped that blob when it pulled the image (moby#49473); use --method article.`;
}
