import { access, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { extractImage } from '../../src/index.js';
import type { Manifest } from '../../src/manifest.js';
import { runCli } from '../support/cli.js';
import { compareTrees, readDumpTree } from '../support/image-tree.js';
import { docker, leftovers, stagingLeftovers, testLabel } from '../support/leftovers.js';
import { pushImageIndex } from '../support/registry-push.js';
import { type RegistryServer, startRegistry } from '../support/registry-server.js';

// A real registry (Debian's docker-registry) on 127.0.0.1 behind htpasswd basic auth. The engine treats
// 127.0.0.0/8 registries as insecure, so plain http works without daemon configuration.

let registry: RegistryServer;
let work: string;
/** DOCKER_CONFIG after a real `docker login`. */
let loggedIn: string;
const label = testLabel();
/** Marks the images pushed by hand (and so pulled back), apart from what the runs create. */
const pushedLabel = { 'dev.distroless-contents.test-pushed': label.value };
const remote = (name: string) => `${registry.host}/distroless-contents-test/${name}`;
let staticRef: string;
let shellRef: string;
let multiRef: string;

const ARM64_FILES = { 'platform.txt': 'arm64\n', 'only-on-arm64': 'arm64 layer\n' };
const AMD64_FILES = { 'platform.txt': 'amd64\n' };

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dc-registry-test-'));
  registry = await startRegistry();
  staticRef = `${remote('static')}:nonroot`;
  shellRef = `${remote('shell')}:latest`;
  multiRef = `${remote('multi')}:1`;
  loggedIn = join(work, 'config-logged-in');
  const cli = { env: { DOCKER_CONFIG: loggedIn } };
  await execa('docker', ['login', '--username', registry.user, '--password-stdin', registry.host], {
    ...cli,
    input: registry.password,
  });
  for (const [local, name] of [
    [TEST_IMAGES.staticNonroot, staticRef],
    [TEST_IMAGES.shell, shellRef],
  ] as const) {
    await execa('docker', ['tag', local, name]);
    await execa('docker', ['push', '--quiet', name], cli);
    // Only the tag goes: the image stays, as other tests use it under its own name.
    await execa('docker', ['image', 'rm', name]);
  }
  await pushImageIndex(registry, 'distroless-contents-test/multi', '1', [
    { os: 'linux', architecture: 'amd64', files: AMD64_FILES, labels: pushedLabel },
    { os: 'linux', architecture: 'arm64', variant: 'v8', files: ARM64_FILES, labels: pushedLabel },
  ]);
});

afterAll(async () => {
  const errors: unknown[] = [];
  const ours = (name: string) => name.startsWith(`${registry?.host}/`);
  for (const image of await docker.listImages({ all: true })) {
    for (const tag of (image.RepoTags ?? []).filter(ours)) {
      await docker
        .getImage(tag)
        .remove()
        .catch((e: unknown) => errors.push(e));
    }
  }
  // Pulled platform images that lost their tag to a later pull: only those pushed here, never a shared image.
  const filters = JSON.stringify({ label: [`dev.distroless-contents.test-pushed=${label.value}`] });
  const labelled = await docker.listImages({ all: true, filters });
  for (const image of labelled) {
    await docker
      .getImage(image.Id)
      .remove({ force: true })
      .catch((e: unknown) => errors.push(e));
  }
  await registry?.stop().catch((e: unknown) => errors.push(e));
  await rm(work, { recursive: true, force: true });
  if (errors.length > 0) throw new AggregateError(errors, 'registry test cleanup failed');
});

async function isLocal(name: string): Promise<boolean> {
  return docker
    .getImage(name)
    .inspect()
    .then(
      () => true,
      () => false,
    );
}

/** The CLI with these docker CLI settings, its output as text. */
async function cli(args: string[], env: Record<string, string>) {
  const result = await runCli(args, { env });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

function extractArgs(image: string, output: string, ...more: string[]): string[] {
  return [
    'extract',
    image,
    '--base',
    shellRef,
    '--pull',
    'always',
    '-o',
    output,
    '--label',
    label.arg,
    ...more,
  ];
}

describe('pulls from a registry behind basic auth with the docker login credentials', () => {
  it('extracts with --pull always through `docker login` and dumps what a direct extraction dumps', async () => {
    const direct = join(work, 'direct');
    await extractImage(TEST_IMAGES.staticNonroot, {
      output: direct,
      base: TEST_IMAGES.shell,
      pull: 'never',
      labels: label.labels,
    });
    expect(await isLocal(staticRef)).toBe(false);
    const output = join(work, 'pulled');
    const result = await cli(extractArgs(staticRef, output, '--manifest', `${output}.json`), {
      DOCKER_CONFIG: loggedIn,
    });
    expect(result.stderr).toContain(`pulling ${staticRef} with the login from ${loggedIn}/config.json`);
    expect(result.exitCode, result.stderr).toBe(0);
    // Without a terminal the pull is one of the plain progress steps, with its duration.
    expect(result.stderr).toMatch(/^pulling: done in \d+\.\d s$/m);
    const manifest = JSON.parse(await readFile(`${output}.json`, 'utf8')) as Manifest;
    // The digest is the registry's: the image came over the wire, not from the local tag.
    expect(manifest.image.digest).toMatch(new RegExp(`^${remote('static')}@sha256:[0-9a-f]{64}$`));
    expect(compareTrees(await readDumpTree(direct), await readDumpTree(output), { owners: true })).toEqual(
      [],
    );
    expect(await leftovers(label.value)).toEqual([]);
  });

  it('gets the login from a docker-credential helper named by credsStore', async () => {
    const config = join(work, 'config-helper');
    const bin = join(work, 'bin');
    await mkdir(config);
    await mkdir(bin, { recursive: true });
    const helper = join(bin, 'docker-credential-dctest');
    // Answers only for the registry it is asked about, as a real store would.
    await writeFile(
      helper,
      [
        '#!/bin/sh',
        '[ "$1" = get ] || exit 1',
        `[ "$(cat)" = "${registry.host}" ] || { echo "credentials not found in native keychain"; exit 1; }`,
        `echo '{"ServerURL":"${registry.host}","Username":"${registry.user}","Secret":"${registry.password}"}'`,
        '',
      ].join('\n'),
    );
    await chmod(helper, 0o755);
    await writeFile(join(config, 'config.json'), JSON.stringify({ credsStore: 'dctest' }));
    await docker
      .getImage(staticRef)
      .remove()
      .catch(() => {});
    const output = join(work, 'helper');
    const result = await cli(extractArgs(staticRef, output), {
      DOCKER_CONFIG: config,
      PATH: `${bin}:${process.env.PATH ?? ''}`,
    });
    expect(result.stderr).toContain(`pulling ${staticRef} with the login from docker-credential-dctest`);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(await readFile(join(output, 'etc/passwd'), 'utf8')).toContain('nonroot:x:65532');
  });

  it('fails in one line naming the registry when the password is wrong, and leaves nothing behind', async () => {
    const config = join(work, 'config-wrong');
    await mkdir(config);
    const auth = Buffer.from(`${registry.user}:not-the-password`).toString('base64');
    await writeFile(join(config, 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth } } }));
    const output = join(work, 'wrong');
    const result = await cli(extractArgs(staticRef, output, '--quiet'), { DOCKER_CONFIG: config });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `^error: Registry ${registry.host} refused the credentials of ${registry.user} from ${config}/config.json \\(.*\\); run docker login ${registry.host}\\.$`,
      ),
    );
    expect(await leftovers(label.value)).toEqual([]);
    expect(await stagingLeftovers(work)).toEqual([]);
    await expect(access(output)).rejects.toThrow(/ENOENT/);
  });

  it('says a login is needed when there is none', async () => {
    const config = join(work, 'config-empty');
    await mkdir(config);
    const result = await cli(extractArgs(staticRef, join(work, 'anonymous'), '--quiet'), {
      DOCKER_CONFIG: config,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `^error: Registry ${registry.host} wants a login to pull ${staticRef} \\(.*\\); run docker login ${registry.host}\\.$`,
      ),
    );
  });
});

describe('--platform picks one image of a multi-platform index', () => {
  it.each([
    ['linux/arm64', 'linux/arm64/v8', ARM64_FILES],
    ['linux/amd64', 'linux/amd64', AMD64_FILES],
  ])('--platform %s dumps that platform’s files and records %s', async (platform, recorded, files) => {
    const output = join(work, `multi-${platform.replace('/', '-')}`);
    const result = await cli(
      extractArgs(multiRef, output, '--platform', platform, '--manifest', `${output}.json`),
      { DOCKER_CONFIG: loggedIn },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const manifest = JSON.parse(await readFile(`${output}.json`, 'utf8')) as Manifest;
    expect(manifest.image.platform).toBe(recorded);
    const onDisk = await readDumpTree(output);
    expect([...onDisk.keys()].sort()).toEqual(Object.keys(files).sort());
    for (const [path, content] of Object.entries(files)) {
      expect(await readFile(join(output, path), 'utf8')).toBe(content);
    }
    expect(await leftovers(label.value)).toEqual([]);
  });
});
