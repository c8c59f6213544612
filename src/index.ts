export {
  type BatchImageResult,
  type BatchOptions,
  type BatchResult,
  extractImages,
} from './batch/extract-batch.js';
export { folderName } from './batch/folder-name.js';
export {
  DistrolessContentsError,
  DockerError,
  type ErrorCode,
  InterruptedError,
  OutputError,
  UsageError,
} from './errors.js';
export { type ExtractResult, extractImage } from './extract/extract-image.js';
export { type DiffOptions, diffManifests, type ManifestDiff } from './inspect/diff.js';
export { type DiffReport, type DiffReportOptions, diffTargets } from './inspect/diff-report.js';
export { formatDiffText } from './inspect/format-diff-text.js';
export { formatReportHtml } from './inspect/format-html.js';
export { formatReportText } from './inspect/format-text.js';
export type { LayerReport, LayerRow } from './inspect/layers.js';
export { type LoadTargetOptions, withTarget } from './inspect/load-target.js';
export { type Report, type ReportOptions, reportFor } from './inspect/report.js';
export type { InspectEntry, Target, TargetKind } from './inspect/target.js';
export type { TargetArgument, TargetArgumentOptions } from './inspect/target-arguments.js';
export { RUN_LABEL, TOOL_LABEL } from './labels.js';
export { type LeftoverOptions, type LeftoverReport, removeLeftovers } from './leftovers.js';
export type {
  EntryCounts,
  EntryType,
  ImageInfo,
  ImageLayer,
  LayerChange,
  LayerEfficiency,
  Manifest,
  ManifestEntry,
  RemovedPath,
} from './manifest.js';
export {
  DEFAULT_BASE,
  DEFAULT_OUTPUT,
  EXTRACT_METHODS,
  type ExtractMethod,
  type ExtractOptions,
  PULL_POLICIES,
  type PullPolicy,
} from './options.js';
export { type ImageReference, parseReference } from './reference.js';
export { openShell, type ShellOptions } from './shell/open-shell.js';
