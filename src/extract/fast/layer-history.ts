import type { ImageLayer, LayerEfficiency } from '../../manifest.js';
import type { PathSelection } from '../path-selection.js';
import type { LayerFact } from './layer-facts.js';
import type { LayerTree } from './layer-tree.js';

/** One step of an image config's `history`, as far as this tool reads it. */
export interface HistoryStep {
  readonly created_by?: unknown;
  readonly empty_layer?: unknown;
}

/** The manifest's image part for layers: each history step, a layer's with its facts, and dive's efficiency. */
export interface LayerPart {
  readonly layers: ImageLayer[];
  readonly efficiency: LayerEfficiency;
}

/**
 * The layer part of an applied tree: call after the last layer, before `tree.entries()`. None with a
 * `--path` selection: the tree then holds only part of each layer, and facts of whole layers (what a layer
 * changed, what it wasted) cannot be told from a part.
 */
export function layerPart(
  tree: LayerTree,
  diffIds: readonly string[],
  history: unknown,
  selection: PathSelection | undefined,
): LayerPart | undefined {
  if (selection) return undefined;
  const { facts, efficiency } = tree.facts.finish(tree, diffIds.length);
  return { layers: historyLayers(history, diffIds, facts), efficiency };
}

/**
 * The config's history lowest first, each step that is not `empty_layer` paired with the next layer, as the
 * engine pairs them (moby's image history, dive's archive reader); layers the history does not reach (it is
 * optional) are listed after it with no `created_by`, history steps beyond the last layer are left out.
 */
export function historyLayers(
  history: unknown,
  diffIds: readonly string[],
  facts: readonly LayerFact[],
): ImageLayer[] {
  const steps = Array.isArray(history) ? (history as HistoryStep[]) : [];
  const layers: ImageLayer[] = [];
  let next = 0;
  const layer = (createdBy: string | undefined): ImageLayer => {
    const index = next++;
    const fact = facts[index] as LayerFact;
    return {
      index,
      diff_id: diffIds[index] as string,
      ...(createdBy !== undefined && { created_by: createdBy }),
      ...fact,
    };
  };
  for (const step of steps) {
    const createdBy = typeof step?.created_by === 'string' ? step.created_by : undefined;
    if (step?.empty_layer === true) {
      layers.push({ ...(createdBy !== undefined && { created_by: createdBy }), empty_layer: true, size: 0 });
    } else if (next < diffIds.length) layers.push(layer(createdBy));
  }
  while (next < diffIds.length) layers.push(layer(undefined));
  return layers;
}
