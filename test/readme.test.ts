import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../docker/test-images.mjs';
import { ROOT } from './support/cli.js';
import { testLabel } from './support/leftovers.js';

// Every README shell line that redirects stdout into a file must leave in it exactly what it says. Each runs
// as written, in a folder laid out like the clone (npm runs scripts in the package's folder), with two
// substitutions because no registry is in reach here, both made explicitly below: a registry image named in
// the line becomes its local look-alike, and a line that relies on the default base (alpine, pulled) gets
// the local stand-in with --base.

const LOCAL_LOOK_ALIKES: Readonly<Record<string, string>> = {
  'gcr.io/distroless/static-debian12:nonroot': TEST_IMAGES.staticNonroot,
  'gcr.io/distroless/static-debian12': TEST_IMAGES.staticLatest,
  'gcr.io/distroless/base-debian12': TEST_IMAGES.baseNosslNonroot,
};
/** What `images.txt` holds when a line reads it: the README leaves the list to the reader. */
const IMAGE_LIST = [TEST_IMAGES.staticNonroot, TEST_IMAGES.baseNosslNonroot];

/** Shell lines of the README's sh code blocks that send stdout to a file, and the file. */
async function redirectingLines(): Promise<{ line: string; file: string }[]> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const lines: { line: string; file: string }[] = [];
  for (const block of readme.matchAll(/^```(?:sh|bash|shell)\n([\s\S]*?)^```/gm)) {
    for (const raw of (block[1] as string).split('\n')) {
      const line = raw.replace(/\s+#.*$/, '').trim();
      // `>` or `1>` (not `2>`, not `->` inside a comment), then the file.
      const file = /(?:^|\s)1?>\s*(\S+)/.exec(line)?.[1];
      if (file) lines.push({ line, file });
    }
  }
  return lines;
}

function localLine(line: string, label: string): string {
  let local = line;
  for (const [name, lookAlike] of Object.entries(LOCAL_LOOK_ALIKES)) {
    local = local.replace(new RegExp(`${name.replace(/[.]/g, '\\.')}(?=\\s|$)`, 'g'), lookAlike);
  }
  const base = /\s--base\s/.test(local) ? '' : ` --base ${TEST_IMAGES.shell} --pull never`;
  return local.replace(/(npm run (?:-s )?\w+ --|npx distroless-contents \w+)/, `$1${base} --label ${label}`);
}

let clone: string;
beforeAll(async () => {
  clone = await mkdtemp(join(tmpdir(), 'dc-readme-'));
  for (const name of ['package.json', 'node_modules', 'src', 'templates', 'tsconfig.json']) {
    await symlink(join(ROOT, name), join(clone, name));
  }
  await writeFile(join(clone, 'images.txt'), `${IMAGE_LIST.join('\n')}\n`);
});
afterAll(async () => {
  await rm(clone, { recursive: true, force: true });
});

describe('README lines that redirect stdout', () => {
  it('are there to check', async () => {
    expect((await redirectingLines()).length).toBeGreaterThan(0);
  });

  it('each writes exactly the JSON it promises', async () => {
    for (const { line, file } of await redirectingLines()) {
      const label = testLabel();
      const command = localLine(line, label.arg);
      const result = await execa('sh', ['-c', command], { cwd: clone, reject: false });
      expect(result.exitCode, `${command}\n${result.stderr}`).toBe(0);
      const text = await readFile(join(clone, file), 'utf8');
      // JSON and nothing else: npm's banner or a progress line would fail here.
      const summary = JSON.parse(text) as { images: { reference: string; status: string }[] };
      expect(summary.images.map((image) => [image.reference, image.status])).toEqual(
        IMAGE_LIST.map((image) => [image, 'done']),
      );
      expect((await readdir(join(clone, 'dumps'))).length).toBe(2 * IMAGE_LIST.length);
    }
  }, 300_000);
});
