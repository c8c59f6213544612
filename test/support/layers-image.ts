import { join } from 'node:path';
import { writeDockerArchive } from '../../docker/docker-archive.mjs';
import { type LayerTarEntry, writeLayerTar } from '../../docker/tar-layer.mjs';
import { TEST_LABEL } from './leftovers.js';

/** Node's names for the machine's architecture, in the image config's terms. */
const ARCHITECTURE =
  ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch;

// An image whose layer facts are known from its members: a file overwritten in a later layer, a deleted
// folder, an opaque folder, a chown of a large file (dive counts it twice), empty steps in the history.

const T = 1_700_000_000;
/** Large enough to dominate every score, small enough to write quickly. */
export const BIG = 2_000_000;

function dir(name: string): LayerTarEntry {
  return { name: `${name}/`, type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: T };
}
function file(name: string, size: number, uid = 0): LayerTarEntry {
  return { name, type: 'file', mode: 0o644, uid, gid: 0, mtime: T, content: Buffer.alloc(size, 0x6c) };
}

export const LAYERS: readonly (readonly LayerTarEntry[])[] = [
  [
    dir('etc'),
    file('etc/config', 1000),
    dir('opt'),
    dir('opt/tool'),
    file('opt/tool/bin', 4000),
    file('opt/tool/lib', 2500),
    dir('data'),
    dir('data/d1'),
    file('data/d1/a', 300),
    file('data/d1/b', 700),
    file('data/keep', 11),
    dir('big'),
    file('big/blob', BIG),
  ],
  [
    dir('etc'),
    file('etc/config', 1500),
    dir('opt'),
    file('opt/.wh.tool', 0),
    dir('data'),
    dir('data/d1'),
    file('data/d1/.wh..wh..opq', 0),
    file('data/d1/c', 50),
  ],
  [dir('big'), file('big/blob', BIG, 1000)],
];

export const HISTORY = [
  { created_by: 'ADD base.tar / # layers test' },
  { created_by: 'ENV LAYERS=1', empty_layer: true },
  { created_by: 'RUN overwrite etc/config; rm -r opt/tool; replace data/d1' },
  { created_by: 'LABEL layers=test', empty_layer: true },
  { created_by: 'RUN chown 1000 big/blob' },
  { created_by: 'CMD ["/nothing"]', empty_layer: true },
];

/** Writes the layers and a docker-archive of them tagged `tag`; returns the archive and the diff IDs. */
export async function writeLayersImage(
  dir: string,
  tag: string,
  label: string,
): Promise<{ archive: string; diffIds: string[] }> {
  const layers: { file: string; diffId: string }[] = [];
  for (const [index, members] of LAYERS.entries()) {
    const layerFile = join(dir, `layers-${index}.tar`);
    layers.push({ file: layerFile, diffId: await writeLayerTar(members, layerFile) });
  }
  const archive = join(dir, 'layers-image.tar');
  await writeDockerArchive({
    file: archive,
    tag,
    layers,
    config: {
      architecture: ARCHITECTURE,
      os: 'linux',
      config: { Labels: { [TEST_LABEL]: label }, Cmd: ['/nothing'] },
      history: HISTORY,
    },
  });
  return { archive, diffIds: layers.map((layer) => layer.diffId) };
}
