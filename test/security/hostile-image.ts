import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { writeDockerArchive } from '../../docker/docker-archive.mjs';
import { docker, TEST_LABEL } from '../support/leftovers.js';
import { type RawEntry, writeRawTar } from './raw-tar.js';

// Node's names for the architectures the test machines have, in the image config's terms.
const ENGINE_ARCHITECTURE =
  ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch;

/** A layer as entries to write, or a tar file made some other way (GNU tar for sparse members). */
export type HostileLayer = readonly RawEntry[] | { readonly file: string };

export type LoadOutcome =
  | { readonly loaded: true; readonly tag: string }
  | { readonly loaded: false; readonly refusal: string };

/**
 * Writes the layers as a docker-archive and `docker load`s it, as an attacker's image would arrive. The engine
 * refuses some layers outright; that refusal is the outcome, not a test failure.
 */
export async function loadHostileImage(
  name: string,
  layers: readonly HostileLayer[],
  options: { readonly dir: string; readonly label: string },
): Promise<LoadOutcome> {
  const files: { file: string; diffId: string }[] = [];
  for (const [index, layer] of layers.entries()) {
    if ('file' in layer) {
      files.push({ file: layer.file, diffId: await fileDigest(layer.file) });
      continue;
    }
    const file = join(options.dir, `${name}-layer-${index + 1}.tar`);
    files.push({ file, diffId: await writeRawTar(layer, file) });
  }
  const tag = `distroless-contents-test/hostile-${name}:${options.label.slice(0, 8)}`;
  const archive = join(options.dir, `${name}.tar`);
  await writeDockerArchive({
    file: archive,
    tag,
    layers: files,
    config: {
      architecture: ENGINE_ARCHITECTURE,
      os: 'linux',
      config: { Labels: { [TEST_LABEL]: options.label } },
    },
  });
  const result = await execa('docker', ['load', '--quiet', '--input', archive], { reject: false });
  if (result.exitCode === 0) return { loaded: true, tag };
  return { loaded: false, refusal: result.stderr.trim() };
}

/** Removes the images loadHostileImage made under `label`. */
export async function removeHostileImages(label: string): Promise<void> {
  const filters = JSON.stringify({ label: [`${TEST_LABEL}=${label}`] });
  for (const image of await docker.listImages({ filters })) {
    await docker.getImage(image.Id).remove({ force: true });
  }
}

async function fileDigest(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}
