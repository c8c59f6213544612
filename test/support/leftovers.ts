import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import Docker from 'dockerode';
import { STAGING_PREFIX } from '../../src/extract/output-folder.js';

export const docker = new Docker();

export const TEST_LABEL = 'dev.distroless-contents.test';

/** A label unique to one test, so parallel tests can check their own leftovers only. */
export function testLabel(): { key: string; value: string; arg: string; labels: Record<string, string> } {
  const value = randomUUID();
  return { key: TEST_LABEL, value, arg: `${TEST_LABEL}=${value}`, labels: { [TEST_LABEL]: value } };
}

/**
 * Containers and images that still carry the test's label: what the test made and named, not proof that
 * nothing is left (the engine makes some images without a label). For that, compare the whole inventory of
 * an engine the test owns: test/support/inventory.ts, as test/faults/nothing-left-suite.ts does.
 */
export async function leftovers(value: string): Promise<string[]> {
  const filters = JSON.stringify({ label: [`${TEST_LABEL}=${value}`] });
  const containers = await docker.listContainers({ all: true, filters });
  const images = await docker.listImages({ all: true, filters });
  return [...containers.map((c) => `container ${c.Id}`), ...images.map((i) => `image ${i.Id}`)];
}

/** Staging folders left in a folder. */
export async function stagingLeftovers(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.startsWith(STAGING_PREFIX));
}
