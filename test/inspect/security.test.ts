import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import type { Accounts } from '../../src/inspect/accounts.js';
import { securityFindings } from '../../src/inspect/security.js';
import type { Manifest } from '../../src/manifest.js';
import { dumpImage } from './dumps.js';

const isRoot = process.getuid?.() === 0;
let work: string;
let edge: { folder: string; manifest: Manifest };
let stat: { folder: string; manifest: Manifest };
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dc-security-'));
  edge = await dumpImage(TEST_IMAGES.edge, work, 'edge');
  stat = await dumpImage(TEST_IMAGES.staticNonroot, work, 'static');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function find(folder: string, ...args: string[]): string[] {
  return execFileSync('find', ['.', '-mindepth', '1', ...args, '-printf', '%P\\n'], {
    cwd: folder,
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean)
    .sort();
}
const paths = (list: readonly { path: string }[] | null) => list?.map((f) => f.path).sort();

describe('security findings', () => {
  it.runIf(isRoot)('finds in the edge image what find -perm and -type c/b find in its root-made dump', () => {
    const found = securityFindings(edge.manifest.entries, null);
    expect(paths(found.setuid)).toEqual(find(edge.folder, '-type', 'f', '-perm', '-4000'));
    expect(paths(found.setgid)).toEqual(find(edge.folder, '-type', 'f', '-perm', '-2000'));
    const writable = [
      ...find(edge.folder, '-type', 'f', '-perm', '-0002'),
      ...find(edge.folder, '-type', 'd', '-perm', '-0002', '!', '-perm', '-1000'),
    ].sort();
    expect(paths(found.worldWritable)).toEqual(writable);
    expect(paths(found.devices)).toEqual(find(edge.folder, '(', '-type', 'c', '-o', '-type', 'b', ')'));
    expect(found.devices.map((f) => [f.path, f.devmajor, f.devminor])).toContainEqual(['special/null', 1, 3]);
    expect(found.unknownUid).toBeNull();
  });

  it('flags entries whose uid or gid no passwd or group line names', () => {
    const accounts: Accounts = {
      passwdPath: 'etc/passwd',
      groupPath: 'etc/group',
      users: [{ name: 'root', uid: 0, gid: 0, group: 'root', gecos: '', home: '/root', shell: '/bin/sh' }],
      groups: [{ name: 'root', gid: 0, members: [] }],
    };
    const found = securityFindings(edge.manifest.entries, accounts);
    const expectedUid = edge.manifest.entries
      .filter((e) => e.uid !== 0)
      .map((e) => e.path)
      .sort();
    expect(paths(found.unknownUid)).toEqual(expectedUid);
    expect(paths(found.unknownUid)).toContain('owners/huge');
    expect(paths(found.unknownGid)).toContain('special/loop0');
  });

  it('finds nothing alarming in the static look-alike: its /tmp is sticky, every owner is named', () => {
    const accounts: Accounts = {
      passwdPath: 'etc/passwd',
      groupPath: 'etc/group',
      users: [0, 65534, 65532].map((uid) => ({
        name: String(uid),
        uid,
        gid: uid,
        group: null,
        gecos: '',
        home: '',
        shell: '',
      })),
      groups: [0, 65534, 5, 50, 65532].map((gid) => ({ name: String(gid), gid, members: [] })),
    };
    const found = securityFindings(stat.manifest.entries, accounts);
    expect(found).toEqual({
      setuid: [],
      setgid: [],
      worldWritable: [],
      unknownUid: [],
      unknownGid: [],
      devices: [],
    });
  });
});
