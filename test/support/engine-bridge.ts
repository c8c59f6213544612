import { randomBytes } from 'node:crypto';
import { execa } from 'execa';

/**
 * A Linux bridge of a test-owned engine's own. dockerd started with `--bridge=none` deletes the host
 * engine's `docker0` on start (and every later build with a RUN step on the main engine then fails), so
 * each extra engine gets a bridge it may create and remove without touching anyone else's.
 */
export interface EngineBridge {
  /** At most 15 characters, as interface names must be. */
  readonly name: string;
  remove(): Promise<void>;
}

export async function createEngineBridge(): Promise<EngineBridge> {
  const name = `dcbr-${randomBytes(4).toString('hex')}`;
  await execa('ip', ['link', 'add', 'name', name, 'type', 'bridge']);
  await execa('ip', ['link', 'set', name, 'up']);
  return {
    name,
    async remove() {
      await execa('ip', ['link', 'delete', name], { reject: false });
    },
  };
}

/** Whether the main engine's default bridge exists, for tests that prove an extra engine left it alone. */
export async function hostBridgeExists(): Promise<boolean> {
  return (await execa('ip', ['link', 'show', 'docker0'], { reject: false })).exitCode === 0;
}
