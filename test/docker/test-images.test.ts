import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestImages } from '../../docker/build-test-images.mjs';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { exportImageToFolder } from '../support/docker.js';
import { compareTrees, readImageTree, type TreeEntry } from '../support/image-tree.js';

// The local stand-ins for the images the article dumps, checked against facts/distroless.md through the
// oracle (the images' own layers) and through the engine (inspect, create, export, run).

const docker = new Dockerode();
const folders: string[] = [];
const trees = new Map<string, Map<string, TreeEntry>>();

async function tree(image: string): Promise<Map<string, TreeEntry>> {
  const cached = trees.get(image) ?? (await readImageTree(docker, image));
  trees.set(image, cached);
  return cached;
}

async function exported(image: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'test-images-test-'));
  folders.push(dir);
  await exportImageToFolder(docker, image, dir);
  return dir;
}

const STATIC_PACKAGES = ['base-files', 'netbase', 'tzdata', 'media-types'];

beforeAll(async () => {
  await buildTestImages();
}, 300_000);

afterAll(async () => {
  await Promise.all(folders.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe.each([TEST_IMAGES.staticNonroot, TEST_IMAGES.staticLatest])(
  '%s, the distroless static look-alike',
  (image) => {
    it('has the passwd and group lines of distroless', async () => {
      const dir = await exported(image);
      expect(await readFile(join(dir, 'etc/passwd'), 'utf8')).toBe(
        'root:x:0:0:root:/root:/sbin/nologin\n' +
          'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' +
          'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n',
      );
      const groups = (await readFile(join(dir, 'etc/group'), 'utf8')).trim().split('\n');
      expect(groups.map((line) => line.split(':').slice(0, 3).join(':')).sort()).toEqual(
        ['root:x:0', 'nobody:x:65534', 'tty:x:5', 'staff:x:50', 'nonroot:x:65532'].sort(),
      );
    });

    it('has /home/nonroot 700 owned by 65532, /root 700 and /tmp 1777', async () => {
      const files = await tree(image);
      expect(files.get('home/nonroot')).toMatchObject({ type: 'dir', mode: 0o700, uid: 65532, gid: 65532 });
      expect(files.get('root')).toMatchObject({ type: 'dir', mode: 0o700, uid: 0, gid: 0 });
      expect(files.get('tmp')).toMatchObject({ type: 'dir', mode: 0o1777, uid: 0, gid: 0 });
    });

    it('keeps package metadata in status.d only, as distroless does', async () => {
      const files = await tree(image);
      const statusDir = [...files.keys()].filter((p) => p.startsWith('var/lib/dpkg/status.d/'));
      expect(statusDir.sort()).toEqual(
        STATIC_PACKAGES.flatMap((p) => [
          `var/lib/dpkg/status.d/${p}`,
          `var/lib/dpkg/status.d/${p}.md5sums`,
        ]).sort(),
      );
      expect(files.has('var/lib/dpkg/status')).toBe(false);
      expect(files.has('var/lib/dpkg/info')).toBe(false);
      const dir = await exported(image);
      const stanza = await readFile(join(dir, 'var/lib/dpkg/status.d/tzdata'), 'utf8');
      expect(stanza).toMatch(/^Package: tzdata\nStatus: install ok installed\n[\s\S]*^Version: \S+$/m);
      const md5sums = await readFile(join(dir, 'var/lib/dpkg/status.d/tzdata.md5sums'), 'utf8');
      expect(md5sums).toMatch(/^[0-9a-f]{32} {2}usr\/share\/zoneinfo\/Europe\/Paris$/m);
    });

    it('has no shell and no libc, but a CA bundle, zoneinfo, nsswitch.conf and a Distroless os-release', async () => {
      const files = await tree(image);
      expect([...files.keys()].filter((p) => /(^|\/)(sh|bash|busybox|libc\.so\.6)$/.test(p))).toEqual([]);
      expect(files.get('etc/os-release')).toMatchObject({ type: 'symlink', target: '../usr/lib/os-release' });
      expect(files.get('etc/nsswitch.conf')?.type).toBe('file');
      expect(files.get('usr/share/zoneinfo/UTC')?.type).toMatch(/^(file|symlink)$/);
      const dir = await exported(image);
      expect(await readFile(join(dir, 'etc/os-release'), 'utf8')).toMatch(/^PRETTY_NAME="Distroless"$/m);
      const bundle = await readFile(join(dir, 'etc/ssl/certs/ca-certificates.crt'), 'utf8');
      expect(bundle.match(/-----BEGIN CERTIFICATE-----/g)?.length).toBeGreaterThan(100);
    });

    it('cannot be run without a command: it has no Cmd and no Entrypoint', async () => {
      const info = await docker.getImage(image).inspect();
      expect(info.Config.Cmd ?? null).toBeNull();
      expect(info.Config.Entrypoint ?? null).toBeNull();
      await expect(docker.createContainer({ Image: image })).rejects.toThrow(/no command specified/i);
    });
  },
);

describe('static image configuration', () => {
  it('sets user, workdir and env as distroless nonroot and latest, on one shared layer', async () => {
    const nonroot = await docker.getImage(TEST_IMAGES.staticNonroot).inspect();
    const latest = await docker.getImage(TEST_IMAGES.staticLatest).inspect();
    const env = [
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt',
    ];
    expect(nonroot.Config).toMatchObject({ User: '65532', WorkingDir: '/home/nonroot', Env: env });
    expect(latest.Config).toMatchObject({ User: '0', WorkingDir: '/', Env: env });
    expect(nonroot.RootFS.Layers).toHaveLength(1);
    expect(latest.RootFS.Layers).toEqual(nonroot.RootFS.Layers);
  });
});

describe(`${TEST_IMAGES.baseNosslNonroot}, the base-nossl look-alike`, () => {
  it("is static:nonroot's layer under a second layer that adds libc6 and changes nothing else", async () => {
    const base = await docker.getImage(TEST_IMAGES.baseNosslNonroot).inspect();
    const stat = await docker.getImage(TEST_IMAGES.staticNonroot).inspect();
    expect(base.RootFS.Layers).toHaveLength(2);
    expect(base.RootFS.Layers?.[0]).toBe(stat.RootFS.Layers?.[0]);
    expect(base.Config).toMatchObject({ User: '65532', WorkingDir: '/home/nonroot' });

    const lower = await tree(TEST_IMAGES.staticNonroot);
    const whole = await tree(TEST_IMAGES.baseNosslNonroot);
    const kept = new Map([...whole].filter(([path]) => lower.has(path)));
    expect(compareTrees(lower, kept, { owners: true })).toEqual([]);

    const dir = await exported(TEST_IMAGES.baseNosslNonroot);
    const md5sums = await readFile(join(dir, 'var/lib/dpkg/status.d/libc6.md5sums'), 'utf8');
    const packaged = new Set(
      md5sums
        .trim()
        .split('\n')
        .map((line) => line.slice(34)),
    );
    const addedFiles = [...whole.values()]
      .filter((e) => !lower.has(e.path) && e.type === 'file')
      .map((e) => e.path);
    // md5sums lists every file of the package but its conffiles, which live in /etc.
    expect(addedFiles.filter((p) => !packaged.has(p) && !p.startsWith('etc/')).sort()).toEqual([
      'var/lib/dpkg/status.d/libc6',
      'var/lib/dpkg/status.d/libc6.md5sums',
    ]);
    expect(addedFiles.some((p) => /^lib\/[^/]+-linux-gnu\/libc\.so\.6$/.test(p))).toBe(true);
  });
});

describe(`${TEST_IMAGES.shell}, the alpine stand-in`, () => {
  it('runs /bin/sh from busybox by default, with applets linked in /bin', async () => {
    const { stdout } = await execa('docker', [
      'run',
      '--rm',
      // Other tests start and kill engines of their own; the default bridge may not survive them.
      '--network',
      'none',
      '--label',
      'dev.distroless-contents.test=test-images',
      TEST_IMAGES.shell,
      'sh',
      '-c',
      'ls / >/dev/null && tar --help 2>&1 | head -1',
    ]);
    expect(stdout).toMatch(/BusyBox/);
    const info = await docker.getImage(TEST_IMAGES.shell).inspect();
    expect(info.Config.Cmd).toEqual(['/bin/sh']);
    const files = await tree(TEST_IMAGES.shell);
    expect(files.get('bin/sh')).toMatchObject({ type: 'symlink', target: '/bin/busybox' });
    expect(files.get('bin/busybox')).toMatchObject({ type: 'file', mode: 0o755 });
    expect(files.get('tmp')).toMatchObject({ type: 'dir', mode: 0o1777 });
  });
});

describe(`${TEST_IMAGES.edge}`, () => {
  it('has three layers and no command, like distroless', async () => {
    const info = await docker.getImage(TEST_IMAGES.edge).inspect();
    expect(info.RootFS.Layers).toHaveLength(3);
    expect(info.Config.Cmd ?? null).toBeNull();
    expect(info.Config.Entrypoint ?? null).toBeNull();
  });
});

describe('buildTestImages', () => {
  it('builds nothing when every image is current, and keeps the images as they are', async () => {
    const before = await Promise.all(
      Object.values(TEST_IMAGES).map((name) => docker.getImage(name).inspect()),
    );
    const logged: string[] = [];
    expect(await buildTestImages({ log: (line) => logged.push(line) })).toEqual({});
    expect(logged.filter((line) => line.includes('building'))).toEqual([]);
    const after = await Promise.all(
      Object.values(TEST_IMAGES).map((name) => docker.getImage(name).inspect()),
    );
    expect(after.map((image) => image.Id)).toEqual(before.map((image) => image.Id));
  });
});
