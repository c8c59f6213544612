import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';
import { parseReference } from './reference.js';

const templateUrl = new URL('../templates/Dockerfile', import.meta.url);

/** Where the image's root lands inside the built image, as in the article. */
export const CONTENTS_DIR = '/distroless-contents';

export interface DockerfileValues {
  /** The image whose filesystem is copied: a reference or an image ID. */
  readonly image: string;
  /** The image that provides /bin/sh: a reference or an image ID. */
  readonly base: string;
  /** Labels of the LABEL step, which every later step's image and container inherits. At least one. */
  readonly labels: Readonly<Record<string, string>>;
  /** `--path`: the COPY step once per path, each to its own place below CONTENTS_DIR; default the root. */
  readonly paths?: readonly string[] | undefined;
}

export function readTemplate(): string {
  return readFileSync(templateUrl, 'utf8');
}

/**
 * Renders templates/Dockerfile. Both images must pass the reference grammar and labels are quoted, so
 * nothing else can reach the file.
 */
export function renderDockerfile(values: DockerfileValues, template = readTemplate()): string {
  const checked: Record<string, string> = {
    image: parseReference(values.image).raw,
    base: parseReference(values.base).raw,
    labels: labelPairs(values.labels),
  };
  return copyPerPath(template, values.paths).replace(/\{\{(\w+)\}\}/g, (placeholder, key: string) => {
    const value = checked[key];
    if (value === undefined)
      throw new Error(`templates/Dockerfile has an unknown placeholder ${placeholder}.`);
    return value;
  });
}

const WHOLE_ROOT = ' / $DISTROLESS_CONTENTS/';

/**
 * The template's COPY of the root, once per selected path instead: `COPY --from=IMAGE ["/etc",
 * "/distroless-contents/etc"]`. A folder's contents land in the named place, which COPY makes (and the
 * folders above it) root:root 0755 at the time of the build: the caller restores their metadata.
 * options.ts refuses paths holding what COPY would read as a pattern or a variable.
 */
function copyPerPath(template: string, paths: readonly string[] | undefined): string {
  if (paths === undefined) return template;
  const lines = template.split('\n');
  const at = lines.findIndex((line) => line.includes('{{image}}'));
  const line = lines[at];
  if (line === undefined || !line.endsWith(WHOLE_ROOT)) {
    throw new Error(`templates/Dockerfile has no COPY of the root ending in "${WHOLE_ROOT}".`);
  }
  const copies = paths.map((path) =>
    line.replace(WHOLE_ROOT, ` [${JSON.stringify(path)}, ${JSON.stringify(`${CONTENTS_DIR}${path}`)}]`),
  );
  lines.splice(at, 1, ...copies);
  return lines.join('\n');
}

/** `"key"="value" …`, sorted; inside a Dockerfile's double quotes only `"`, `$` and `\` need a backslash. */
function labelPairs(labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) throw new Error('renderDockerfile needs at least one label.');
  return keys.map((key) => `${quote(key)}=${quote(labels[key] as string)}`).join(' ');
}

function quote(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused.
  if (/[\u0000-\u001f\u007f]/.test(text)) {
    throw new UsageError(
      `Invalid label ${JSON.stringify(text)}: labels cannot hold control characters such as a line break.`,
    );
  }
  return `"${text.replace(/["$\\]/g, '\\$&')}"`;
}
