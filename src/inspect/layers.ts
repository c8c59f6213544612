import { UsageError } from '../errors.js';
import type { ImageLayer, LayerChange, LayerEfficiency } from '../manifest.js';
import { visible } from '../text/visible.js';
import type { Target } from './target.js';

/** One step of the image's history in the report: the manifest's record, and what of it the image still holds. */
export type LayerRow = ImageLayer & {
  /** Entries of the image this layer wrote last (their `layer`); 0 for an empty step. */
  readonly entries: number;
};

/** What `report --layers` adds: per layer what it did, and the image's waste as this tool and dive count it. */
export interface LayerReport {
  /** The config's history lowest first, empty steps included. */
  readonly layers: readonly LayerRow[];
  /** Sum of the layers' sizes (bytes of their regular-file members). */
  readonly bytes: number;
  /** Sum of the layers' wasted bytes (regular-file members whose file is not in the image). */
  readonly wasted: number;
  /** dive's score, minimum and discovered bytes and its own wasted bytes (each copy of a path counted). */
  readonly efficiency: LayerEfficiency;
  /** dive's "user" bytes: every layer's but the lowest. */
  readonly userBytes: number;
  /** dive's wasted bytes over the user bytes (dive's "user wasted percent", as a fraction); null with no user bytes. */
  readonly wastedUserShare: number | null;
}

/** The layer report of a target whose manifest holds layer records; a usage error that says why otherwise. */
export function layerReport(target: Target): LayerReport {
  const image = target.image;
  if (!image?.layers || !image.efficiency) {
    const why =
      image === null
        ? 'a scanned folder has no manifest; keep the manifest beside it (extract --manifest)'
        : 'its manifest has no layer records (the article method reads no layers; a --path dump holds only part of each)';
    throw new UsageError(
      `Cannot show --layers for ${visible(target.spec)}: ${why}. Dump it whole with --method fast (or from an oci:, oci-archive: or docker-archive: source) and report on that.`,
    );
  }
  const wellFormed =
    Array.isArray(image.layers) &&
    image.layers.every(wellFormedLayer) &&
    typeof image.efficiency?.score === 'number';
  if (!wellFormed) {
    throw new UsageError(
      `Cannot show --layers for ${visible(target.spec)}: its manifest's image.layers or image.efficiency is not as extract writes them; dump the image again.`,
    );
  }
  const perLayer = new Map<number, number>();
  for (const entry of target.entries) {
    if (entry.layer !== undefined) perLayer.set(entry.layer, (perLayer.get(entry.layer) ?? 0) + 1);
  }
  const layers = image.layers.map((layer) => ({
    ...layer,
    entries: layer.index === undefined ? 0 : (perLayer.get(layer.index) ?? 0),
  }));
  let bytes = 0;
  let wasted = 0;
  let userBytes = 0;
  for (const layer of layers) {
    bytes += layer.size;
    wasted += layer.wasted ?? 0;
    if ((layer.index ?? 0) > 0) userBytes += layer.size;
  }
  const { efficiency } = image;
  return {
    layers,
    bytes,
    wasted,
    efficiency,
    userBytes,
    wastedUserShare: userBytes === 0 ? null : efficiency.wasted_bytes / userBytes,
  };
}

const isCount = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value >= 0;
const isChange = (value: unknown) =>
  value === undefined || (isCount((value as LayerChange)?.files) && isCount((value as LayerChange)?.bytes));

/** Every field the text, the JSON and the page read, of the shape extract writes (a manifest is only JSON). */
function wellFormedLayer(layer: unknown): boolean {
  if (typeof layer !== 'object' || layer === null) return false;
  const { index, diff_id, created_by, size, added, changed, deleted, wasted, removed } = layer as ImageLayer;
  // A layer (not an empty history step) has all its facts: the page reads them without asking.
  const change = (value: unknown) => (index === undefined || value !== undefined) && isChange(value);
  return (
    isCount(size) &&
    (index === undefined || isCount(index)) &&
    (diff_id === undefined || typeof diff_id === 'string') &&
    (created_by === undefined || typeof created_by === 'string') &&
    (wasted === undefined || isCount(wasted)) &&
    change(added) &&
    change(changed) &&
    change(deleted) &&
    (removed === undefined ||
      (Array.isArray(removed) &&
        removed.every(
          (item) => typeof item?.path === 'string' && isCount(item.files) && isCount(item.bytes),
        )))
  );
}
