import type { LayerTarEntry } from '../../docker/tar-layer.mjs';

// What a test's own layers say, worked out from the members it writes (never from the tool): each layer's
// bytes and wasted bytes by the image spec's changeset rules, and dive's efficiency by dive's rules
// (filetree.Efficiency: per path, the smallest size over the summed sizes, a whiteout sized as the files of
// the folder it hides in dive's stacked tree, which knows no opaque markers).

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

function pathOf(entry: LayerTarEntry): string {
  return entry.name.replace(/^\.\//, '').replace(/\/$/, '');
}
function sizeOf(entry: LayerTarEntry): number {
  return entry.type === 'file' ? (entry.content?.length ?? 0) : 0;
}
function under(path: string, folder: string): boolean {
  return folder === '' || path.startsWith(`${folder}/`);
}

export interface OracleLayer {
  /** Bytes of its regular-file members. */
  readonly size: number;
  /** Of those, bytes whose file is not in the final image. */
  readonly wasted: number;
}

/** Each layer's bytes and wasted bytes, by a plain path model of the spec's rules. */
export function oracleLayers(layers: readonly (readonly LayerTarEntry[])[]): OracleLayer[] {
  const image = new Map<string, { layer: number; file?: object }>();
  const written: { file: object; size: number }[][] = [];
  layers.forEach((members, layer) => {
    const files: { file: object; size: number }[] = [];
    const hidden: ((path: string) => boolean)[] = [];
    for (const member of members) {
      const path = pathOf(member);
      const name = path.slice(path.lastIndexOf('/') + 1);
      const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
      if (name === OPAQUE) {
        hidden.push((p) => under(p, parent));
        continue;
      }
      if (name.startsWith(WHITEOUT)) {
        const target = (parent ? `${parent}/` : '') + name.slice(WHITEOUT.length);
        hidden.push((p) => p === target || under(p, target));
        continue;
      }
      if (member.type !== 'directory') {
        for (const p of [...image.keys()]) if (under(p, path)) image.delete(p);
      }
      let file: object | undefined;
      if (member.type === 'file') {
        file = {};
        files.push({ file, size: sizeOf(member) });
      } else if (member.type === 'link')
        file = image.get(pathOf({ ...member, name: member.linkname ?? '' }))?.file;
      image.set(path, { layer, ...(file && { file }) });
    }
    for (const [p, entry] of [...image]) {
      if (entry.layer < layer && hidden.some((hides) => hides(p))) image.delete(p);
    }
    written.push(files);
  });
  const live = new Set([...image.values()].map((entry) => entry.file));
  return written.map((files) => {
    const size = files.reduce((sum, f) => sum + f.size, 0);
    const kept = files.filter((f) => live.has(f.file)).reduce((sum, f) => sum + f.size, 0);
    return { size, wasted: size - kept };
  });
}

/** dive's efficiency of the layers: score, minimum and discovered bytes, and dive's wasted bytes. */
export function oracleEfficiency(layers: readonly (readonly LayerTarEntry[])[]) {
  const paths = new Map<string, { cumulative: number; minimum: number; count: number }>();
  const seen = (path: string, size: number) => {
    const sizes = paths.get(path) ?? { cumulative: 0, minimum: Number.POSITIVE_INFINITY, count: 0 };
    sizes.cumulative += size;
    sizes.minimum = Math.min(sizes.minimum, size);
    sizes.count++;
    paths.set(path, sizes);
  };
  // dive's stacked tree: path -> size and folder-ness; whiteouts remove, opaque markers do nothing.
  const stacked = new Map<string, { size: number; dir: boolean }>();
  for (const members of layers) {
    const tree = members
      .map((member) => ({ member, path: pathOf(member) }))
      .filter(({ path }) => !path.slice(path.lastIndexOf('/') + 1).startsWith(`${WHITEOUT}${WHITEOUT}`));
    const above = new Set(
      tree.flatMap(({ path }) =>
        path
          .split('/')
          .slice(0, -1)
          .map((_, i, parts) => parts.slice(0, i + 1).join('/')),
      ),
    );
    const whiteouts: string[] = [];
    for (const { member, path } of tree) {
      const name = path.slice(path.lastIndexOf('/') + 1);
      if (name.startsWith(WHITEOUT)) {
        const target = path.slice(0, path.length - name.length) + name.slice(WHITEOUT.length);
        const lower = stacked.get(target);
        let size = 0;
        if (lower?.dir) for (const [p, e] of stacked) if (p === target || under(p, target)) size += e.size;
        seen(target, size);
        whiteouts.push(target);
      } else if (!above.has(path)) seen(path, sizeOf(member));
    }
    for (const { member, path } of tree) {
      if (!path.slice(path.lastIndexOf('/') + 1).startsWith(WHITEOUT)) {
        stacked.set(path, { size: sizeOf(member), dir: member.type === 'directory' });
      }
    }
    for (const target of whiteouts)
      for (const p of [...stacked.keys()]) if (p === target || under(p, target)) stacked.delete(p);
  }
  let minimum = 0;
  let discovered = 0;
  let wasted = 0;
  for (const sizes of paths.values()) {
    minimum += sizes.minimum;
    discovered += sizes.cumulative;
    if (sizes.count > 1) wasted += sizes.cumulative;
  }
  return {
    score: discovered === 0 ? 1 : minimum / discovered,
    minimum_bytes: minimum,
    discovered_bytes: discovered,
    wasted_bytes: wasted,
  };
}
