import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { extractPackage, packageStatus } from './debian-packages.mjs';
import { writeDockerArchive } from './docker-archive.mjs';
import { importRootfsTar, labelChanges, loadArchive } from './docker-cli.mjs';
import {
  GENERATED_MTIME,
  makeRootfsDir,
  settleDirectoryMtimes,
  tarRootfs,
  writeRootfsFile,
} from './rootfs-tar.mjs';
import { TEST_IMAGES } from './test-images.mjs';

/** The Debian packages distroless static-debian12 is made of (its CA bundle comes from ca-certificates). */
const STATIC_PACKAGES = ['base-files', 'netbase', 'tzdata', 'media-types'];
const CA_PACKAGE = 'ca-certificates';
/** What base-nossl adds on top of static. */
const BASE_NOSSL_PACKAGES = ['libc6'];

export const STATIC_FAMILY_PACKAGES = [...STATIC_PACKAGES, CA_PACKAGE, ...BASE_NOSSL_PACKAGES];

// The lines distroless writes (GoogleContainerTools/distroless base/base.bzl), see facts/distroless.md.
const PASSWD = [
  'root:x:0:0:root:/root:/sbin/nologin',
  'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin',
  'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin',
  '',
].join('\n');
const GROUP = ['root:x:0:', 'nobody:x:65534:', 'tty:x:5:', 'staff:x:50:', 'nonroot:x:65532:', ''].join('\n');
const NSSWITCH = [
  '# /etc/nsswitch.conf',
  '',
  'passwd:         files',
  'group:          files',
  'shadow:         files',
  'gshadow:        files',
  '',
  'hosts:          files dns',
  'networks:       files',
  '',
  'protocols:      db files',
  'services:       db files',
  'ethers:         db files',
  'rpc:            db files',
  '',
].join('\n');
// base-files ships /etc/os-release as a symlink to this file; distroless replaces its content.
const OS_RELEASE = [
  'PRETTY_NAME="Distroless"',
  'NAME="Debian GNU/Linux"',
  'ID="debian"',
  'VERSION_ID="12"',
  'VERSION="Debian GNU/Linux 12 (bookworm)"',
  'HOME_URL="https://github.com/GoogleContainerTools/distroless"',
  'SUPPORT_URL="https://github.com/GoogleContainerTools/distroless/blob/master/README.md"',
  'BUG_REPORT_URL="https://github.com/GoogleContainerTools/distroless/issues/new"',
  '',
].join('\n');

const ENV = [
  'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt',
];
const NONROOT = { User: '65532', WorkingDir: '/home/nonroot' };
const ROOT = { User: '0', WorkingDir: '/' };

/**
 * static:nonroot and static:latest (one layer, the same one) and base-nossl:nonroot (that layer plus libc6).
 * No Cmd and no Entrypoint, as distroless.
 */
export async function buildStaticImages({ debs, workDir, labels }) {
  const root = join(workDir, 'static-rootfs');
  await mkdir(root);
  for (const name of STATIC_PACKAGES) {
    await extractPackage(debs.get(name), root);
    await addPackageStatus(root, debs.get(name), join(workDir, `control-${name}`));
  }
  await addCaBundle(root, debs.get(CA_PACKAGE), join(workDir, CA_PACKAGE));
  await writeRootfsFile(root, 'etc/passwd', PASSWD);
  await writeRootfsFile(root, 'etc/group', GROUP);
  await writeRootfsFile(root, 'etc/nsswitch.conf', NSSWITCH);
  await writeRootfsFile(root, 'usr/lib/os-release', OS_RELEASE);
  await makeRootfsDir(root, 'home/nonroot', { mode: 0o700, uid: 65532, gid: 65532 });
  await settleDirectoryMtimes(root);
  const staticLayer = { file: join(workDir, 'static.tar') };
  staticLayer.diffId = await tarRootfs(root, staticLayer.file);

  const changes = (config) => [
    `USER ${config.User}`,
    `WORKDIR ${config.WorkingDir}`,
    ...ENV.map((e) => `ENV ${e}`),
    ...labelChanges(labels),
  ];
  await importRootfsTar(staticLayer.file, TEST_IMAGES.staticNonroot, changes(NONROOT));
  await importRootfsTar(staticLayer.file, TEST_IMAGES.staticLatest, changes(ROOT));

  const libcRoot = join(workDir, 'libc6-rootfs');
  for (const name of BASE_NOSSL_PACKAGES) {
    await extractPackage(debs.get(name), libcRoot);
    await addPackageStatus(libcRoot, debs.get(name), join(workDir, `control-${name}`));
  }
  await settleDirectoryMtimes(libcRoot);
  const libcLayer = { file: join(workDir, 'libc6.tar') };
  libcLayer.diffId = await tarRootfs(libcRoot, libcLayer.file);

  const created = new Date(GENERATED_MTIME * 1000).toISOString();
  const archive = join(workDir, 'base-nossl.tar');
  await writeDockerArchive({
    file: archive,
    tag: TEST_IMAGES.baseNosslNonroot,
    layers: [staticLayer, libcLayer],
    config: {
      architecture: engineArchitecture(),
      os: 'linux',
      created,
      config: { ...NONROOT, Env: ENV, Labels: labels },
      history: [
        { created, created_by: `static-debian12 look-alike: ${STATIC_PACKAGES.join(', ')}, CA bundle` },
        { created, created_by: `base-nossl: ${BASE_NOSSL_PACKAGES.join(', ')}` },
      ],
    },
  });
  await loadArchive(archive);
}

/** Debian names what Node calls x64 amd64; the .debs apt downloads are for this machine's architecture. */
export function engineArchitecture() {
  return { x64: 'amd64', ia32: '386', ppc64: 'ppc64le' }[process.arch] ?? process.arch;
}

async function addPackageStatus(root, deb, controlDir) {
  const { name, stanza, md5sums } = await packageStatus(deb, controlDir);
  await makeRootfsDir(root, 'var/lib/dpkg/status.d');
  await writeRootfsFile(root, `var/lib/dpkg/status.d/${name}`, stanza);
  await writeRootfsFile(root, `var/lib/dpkg/status.d/${name}.md5sums`, md5sums);
}

/**
 * What update-ca-certificates would make, without openssl or a shell: every certificate the package ships,
 * in sorted path order, concatenated. Only the bundle and the copyright go into the image, as in distroless.
 */
async function addCaBundle(root, deb, unpacked) {
  await extractPackage(deb, unpacked);
  const certDir = join(unpacked, 'usr/share/ca-certificates');
  const certs = (await readdir(certDir, { recursive: true }))
    .filter((path) => path.endsWith('.crt'))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (certs.length === 0) throw new Error(`${deb} holds no certificates under /usr/share/ca-certificates`);
  const parts = [];
  for (const cert of certs) {
    const text = await readFile(join(certDir, cert), 'utf8');
    parts.push(text.endsWith('\n') ? text : `${text}\n`);
  }
  await writeRootfsFile(root, 'etc/ssl/certs/ca-certificates.crt', parts.join(''));
  const copyright = await readFile(join(unpacked, 'usr/share/doc/ca-certificates/copyright'));
  await writeRootfsFile(root, 'usr/share/doc/ca-certificates/copyright', copyright);
}
