import { execa } from 'execa';

/** The image's ID and labels, or null when the engine has no such image. */
export async function inspectImage(name) {
  const result = await execa('docker', ['image', 'inspect', '--format', '{{json .}}', name], {
    reject: false,
  });
  if (result.exitCode !== 0) {
    if (/no such image/i.test(result.stderr)) return null;
    throw new Error(`docker image inspect ${name} failed: ${result.stderr.trim()}; is the engine running?`);
  }
  const image = JSON.parse(result.stdout);
  return { id: image.Id, tags: image.RepoTags ?? [], labels: image.Config?.Labels ?? {} };
}

/** `docker import` of a root folder tar as a one-layer image; `changes` are Dockerfile instructions. */
export async function importRootfsTar(file, tag, changes) {
  await execa('docker', ['import', ...changes.flatMap((c) => ['--change', c]), file, tag]);
}

/** `LABEL` instructions for `docker import --change`. */
export function labelChanges(labels) {
  return Object.entries(labels).map(([key, value]) => `LABEL ${key}=${value}`);
}

export async function loadArchive(file) {
  await execa('docker', ['load', '--quiet', '--input', file]);
}

/**
 * Removes an image this builder made and a rebuild left untagged. Best effort: a container or child image
 * still using it keeps it, which is fine.
 */
export async function removeUntaggedImage(id, label, log) {
  const image = await inspectImage(id);
  if (!image || image.tags.length > 0 || !(label in image.labels)) return;
  const result = await execa('docker', ['image', 'rm', id], { reject: false });
  if (result.exitCode !== 0) log(`test images: kept old image ${id}: ${result.stderr.trim()}`);
}
