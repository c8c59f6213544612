export {
  DistrolessContentsError,
  DockerError,
  type ErrorCode,
  InterruptedError,
  OutputError,
  UsageError,
} from './errors.js';
export { type ExtractResult, extractImage } from './extract/extract-image.js';
export { RUN_LABEL, TOOL_LABEL } from './labels.js';
export type { EntryCounts, EntryType, ImageInfo, Manifest, ManifestEntry } from './manifest.js';
export { DEFAULT_BASE, DEFAULT_OUTPUT, type ExtractOptions, type PullPolicy } from './options.js';
export { type ImageReference, parseReference } from './reference.js';
export { type LeftoverOptions, type LeftoverReport, removeLeftovers } from './leftovers.js';
