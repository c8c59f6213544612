import { readFileSync } from 'node:fs';
import { parseReference } from './reference.js';

const templateUrl = new URL('../templates/Dockerfile', import.meta.url);

/** Where the image's root lands inside the built image, as in the article. */
export const CONTENTS_DIR = '/distroless-contents';

export interface DockerfileValues {
  /** The image whose filesystem is copied: a reference or an image ID. */
  readonly image: string;
  /** The image that provides /bin/sh: a reference or an image ID. */
  readonly base: string;
}

export function readTemplate(): string {
  return readFileSync(templateUrl, 'utf8');
}

/** Renders templates/Dockerfile. Both values must pass the reference grammar, so nothing else can reach the file. */
export function renderDockerfile(values: DockerfileValues, template = readTemplate()): string {
  const checked: Record<string, string> = {
    image: parseReference(values.image).raw,
    base: parseReference(values.base).raw,
  };
  return template.replace(/\{\{(\w+)\}\}/g, (placeholder, key: string) => {
    const value = checked[key];
    if (value === undefined)
      throw new Error(`templates/Dockerfile has an unknown placeholder ${placeholder}.`);
    return value;
  });
}
