import { TOOL_NAME } from '../labels.js';
import { countEntries, type ImageInfo, type Manifest, type ManifestEntry, sortEntries } from '../manifest.js';
import { TOOL_VERSION } from '../version.js';
import type { ExtractResult } from './extract-image.js';
import { canonicaliseHardlinks } from './hardlink-groups.js';
import type { OutputFolder } from './output-folder.js';

export interface WrittenDump {
  readonly method: Manifest['method'];
  readonly image: ImageInfo;
  /** The `--path` selection; empty for the whole image. */
  readonly paths: readonly string[];
  /** As the method read them: sorted and hardlink groups made canonical here. */
  readonly entries: ManifestEntry[];
  readonly warnings: readonly string[];
  /** `performance.now()` when the run started. */
  readonly started: number;
}

/** Puts a written dump and its manifest in place together, and says what was written: every source's last step. */
export async function commitDump(output: OutputFolder, dump: WrittenDump): Promise<ExtractResult> {
  const entries = sortEntries(canonicaliseHardlinks(dump.entries));
  const { warnings } = dump;
  const manifest: Manifest = {
    schema: 1,
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    method: dump.method,
    image: dump.image,
    ...(dump.paths.length > 0 && { paths: dump.paths }),
    entries,
    ...(warnings.length > 0 && { warnings }),
  };
  await output.commit(output.manifest && `${JSON.stringify(manifest, null, 2)}\n`);
  return {
    output: output.output,
    ...(output.manifest && { manifestPath: output.manifest }),
    image: dump.image,
    counts: countEntries(entries),
    manifest,
    durationMs: Math.round(performance.now() - dump.started),
    warnings,
  };
}
