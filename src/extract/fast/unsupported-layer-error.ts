/** A layer's member that --method fast cannot reproduce the engine's result for. */
export class UnsupportedLayerError extends Error {
  override name = 'UnsupportedLayerError';
}
