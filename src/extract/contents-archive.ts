import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import { engineKind } from '../docker/engine-kind.js';
import { CONTENTS_DIR } from '../template.js';
import { TarSubtree } from './tar-subtree.js';

/**
 * A tar stream of the container's /distroless-contents (members named `distroless-contents/...`), with the
 * true owners. Docker's archive endpoint gives exactly that. Podman's chowns every member to the container's
 * user (libpod container_copy_linux.go: ChownDirs/ChownFiles), so there the container's export, which keeps
 * owners, is cut down to the same members.
 */
export async function contentsArchive(docker: Docker, container: Docker.Container): Promise<Readable> {
  if ((await engineKind(docker)) === 'docker') {
    return (await container.getArchive({ path: CONTENTS_DIR })) as unknown as Readable;
  }
  const exported = (await container.export()) as Readable;
  const subtree = new TarSubtree(CONTENTS_DIR);
  // The reader sees any failure: pipeline destroys every stream with it, and the iteration below throws it.
  pipeline(exported, subtree).catch(() => {});
  // A plain Readable, as the archive endpoint gives: the caller reads it through two pipelines at once,
  // and a Duplex collects a listener set per pipeline on both of its sides.
  return Readable.from(subtree, { objectMode: false });
}
