import { randomUUID } from 'node:crypto';

/** Every container and image the tool creates carries this label, so leftovers can be found: `docker ps -a --filter label=dev.distroless-contents.tool`. */
export const TOOL_LABEL = 'dev.distroless-contents.tool';
/** A per-run id, so concurrent runs never touch each other's resources. */
export const RUN_LABEL = 'dev.distroless-contents.run';

export const TOOL_NAME = 'distroless-contents';

/** Each label costs one more step in the legacy builder, so they are kept few. */
export function runLabels(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return { ...extra, [TOOL_LABEL]: TOOL_NAME, [RUN_LABEL]: randomUUID() };
}
