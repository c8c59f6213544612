import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractCommand } from '../../src/cli/extract-command.js';
import { exitCode } from '../../src/cli/run-command.js';
import { foreignReference, validReference } from './reference-arbitrary.js';

// npm run extract's flags, checked in-process on random command lines: usage errors (exit 2) never reach
// Docker, and every well-formed command line gets past the checks to the engine (which, unreachable here,
// makes it exit 1). The engine is pointed at a socket that does not exist, so nothing can run.

let work: string;
const saved = { DOCKER_HOST: process.env.DOCKER_HOST, DOCKER_CONTEXT: process.env.DOCKER_CONTEXT };

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-cli-flags-'));
  process.env.DOCKER_HOST = 'unix:///nonexistent/distroless-contents-test.sock';
  process.env.DOCKER_CONTEXT = '';
});

afterAll(async () => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  await rm(work, { recursive: true, force: true });
});

const context = { signal: new AbortController().signal, debug: false };

/** The exit code and message the CLI would give for `argv`. */
async function outcome(argv: string[]): Promise<{ code: number; message: string }> {
  const write = process.stderr.write;
  // Progress lines are not what is under test.
  process.stderr.write = () => true;
  try {
    return { code: await extractCommand(argv, context), message: '' };
  } catch (error) {
    return { code: exitCode(error), message: error instanceof Error ? error.message : String(error) };
  } finally {
    process.stderr.write = write;
  }
}

/** Well-formed option groups of a single-image run, each a few words of argv. */
const validOptions = fc.uniqueArray(
  fc.oneof<fc.Arbitrary<string[]>[]>(
    fc.constant<string[]>(['--force']),
    fc.constantFrom('missing', 'always', 'never').map((policy) => ['--pull', policy]),
    fc.constantFrom('linux/amd64', 'linux/arm64/v8').map((platform) => ['--platform', platform]),
    validReference.map((ref) => ['--base', ref.raw]),
    fc.constant<string[]>(['--keep-image']),
    fc.constantFrom('article', 'fast').map((method) => ['--method', method]),
    fc
      .tuple(fc.stringMatching(/^[a-z][a-z.]{0,9}$/), fc.string({ maxLength: 8 }))
      .map(([k, v]) => ['--label', `${k}=${v}`]),
    fc.constant<string[]>(['--json']),
    fc.constant<string[]>(['-q']),
    fc.constantFrom('/etc', '/usr//share/./doc/', '/').map((path) => ['--path', path]),
  ),
  { maxLength: 6, selector: (group: string[]) => group[0] },
);

/** A single-image command line: the image, -o into the test folder and the options, in any order. */
const validCommandLine = fc.tuple(validReference, validOptions, fc.nat()).map(([ref, options, at]) => {
  const groups = [...options, ['-o', join(work, 'out')]];
  groups.splice(at % (groups.length + 1), 0, [ref.raw]);
  return groups;
});

/** Options no command knows, in the forms a user could mistype them. */
const unknownFlag = fc
  .stringMatching(/^[a-z][a-z-]{1,12}$/)
  .filter((name) => !KNOWN.includes(name))
  .chain((name) => fc.constantFrom<string[]>([`--${name}`], [`--${name}=x`]));
const KNOWN = [
  'output',
  'manifest',
  'force',
  'pull',
  'platform',
  'base',
  'keep-image',
  'method',
  'cache',
  'label',
  'path',
];
const KNOWN_MORE = ['output-dir', 'from-file', 'jobs', 'json', 'quiet', 'debug', 'help'];
KNOWN.push(...KNOWN_MORE);

/** A string flag at the very end, with its value missing. */
const valueless = fc.constantFrom(
  '--output',
  '--manifest',
  '--pull',
  '--platform',
  '--base',
  '--method',
  '--label',
  '--path',
  '--jobs',
);

/** Options that cannot go together, or values no option takes. */
const conflict = fc.oneof(
  fc.constant(['--cache', '--method', 'fast']),
  fc.constant(['--jobs', '3']),
  validReference.map((ref) => [ref.raw]),
  fc
    .stringMatching(/^[a-z]{1,10}$/)
    .filter((p) => !['missing', 'always', 'never'].includes(p))
    .map((p) => ['--pull', p]),
  fc
    .stringMatching(/^[a-z]{1,10}$/)
    .filter((m) => !['article', 'fast'].includes(m))
    .map((m) => ['--method', m]),
  fc.stringMatching(/^[a-z]{1,10}$/).map((label) => ['--label', label]),
  fc.stringMatching(/^[a-z]{1,10}$/).map((path) => ['--path', path]),
  fc.stringMatching(/^[a-z]{1,10}$/).map((name) => ['--path', `/${name}/../etc`]),
  fc.stringMatching(/^[a-z]{1,10}$/).map((platform) => ['--platform', platform]),
  foreignReference.map((ref) => ['--base', ref]),
);

const insert = (groups: string[][], extra: string[], at: number) => {
  const copy = [...groups];
  copy.splice(at % (copy.length + 1), 0, extra);
  return copy.flat();
};

describe('npm run extract on random command lines', () => {
  it('gets every well-formed one past the checks, to the engine', async () => {
    await fc.assert(
      fc.asyncProperty(validCommandLine, async (groups) => {
        const { code, message } = await outcome(groups.flat());
        expect({ code, message }).toMatchObject({
          code: 1,
          message: expect.stringMatching(/No Docker engine answers/),
        });
      }),
      { numRuns: 60 },
    );
  });

  it('stops any with an unknown option with exit 2, naming it', async () => {
    await fc.assert(
      fc.asyncProperty(validCommandLine, unknownFlag, fc.nat(), async (groups, flag, at) => {
        const { code, message } = await outcome(insert(groups, flag, at));
        expect(code, message).toBe(2);
        expect(message).toContain((flag[0] as string).split('=')[0]);
      }),
      { numRuns: 60 },
    );
  });

  it('stops any with a value missing at the end with exit 2', async () => {
    await fc.assert(
      fc.asyncProperty(validCommandLine, valueless, async (groups, flag) => {
        const { code, message } = await outcome([...groups.flat(), flag]);
        expect(code, message).toBe(2);
        expect(message).toMatch(
          new RegExp(`^${flag} needs a value \\(see distroless-contents extract --help\\)$`),
        );
      }),
      { numRuns: 40 },
    );
  });

  it('stops any with conflicting options or a value no option takes with exit 2', async () => {
    await fc.assert(
      // Last, since a later valid value of the same option would win over it.
      fc.asyncProperty(validCommandLine, conflict, async (groups, extra) => {
        const { code, message } = await outcome([...groups.flat(), ...extra]);
        expect(code, `${message} (${extra.join(' ')})`).toBe(2);
      }),
      { numRuns: 80 },
    );
  });

  it('writes nothing for a usage error', async () => {
    expect(await readdir(work)).toEqual([]);
  });
});
