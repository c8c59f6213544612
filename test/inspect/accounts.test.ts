import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGES } from '../../docker/test-images.mjs';
import { parseGroup, parsePasswd, readAccounts } from '../../src/inspect/accounts.js';
import { imageFiles } from '../../src/inspect/image-files.js';
import { withTarget } from '../../src/inspect/load-target.js';
import { dumpImage } from './dumps.js';

let work: string;
let manifestPath: string;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dc-accounts-'));
  ({ manifestPath } = await dumpImage(TEST_IMAGES.staticNonroot, work, 'static'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('accounts', () => {
  it('reads the distroless users and groups of the static look-alike (shared facts)', async () => {
    const accounts = await withTarget(manifestPath, {}, (target) => readAccounts(imageFiles(target)));
    expect(accounts?.users).toEqual([
      { name: 'root', uid: 0, gid: 0, group: 'root', gecos: 'root', home: '/root', shell: '/sbin/nologin' },
      {
        name: 'nobody',
        uid: 65534,
        gid: 65534,
        group: 'nobody',
        gecos: 'nobody',
        home: '/nonexistent',
        shell: '/sbin/nologin',
      },
      {
        name: 'nonroot',
        uid: 65532,
        gid: 65532,
        group: 'nonroot',
        gecos: 'nonroot',
        home: '/home/nonroot',
        shell: '/sbin/nologin',
      },
    ]);
    expect(accounts?.groups.map((group) => [group.name, group.gid])).toEqual([
      ['root', 0],
      ['nobody', 65534],
      ['tty', 5],
      ['staff', 50],
      ['nonroot', 65532],
    ]);
  });

  it("parses this machine's /etc/passwd and /etc/group as getent reads them", () => {
    const getent = (db: string) => execFileSync('getent', [db], { encoding: 'utf8' }).trim().split('\n');
    const users = parsePasswd(readFileSync('/etc/passwd', 'utf8'));
    expect(users.map((u) => [u.name, 'x', u.uid, u.gid, u.gecos, u.home, u.shell].join(':'))).toEqual(
      getent('passwd').map((line) => line.replace(/^([^:]*):[^:]*:/, '$1:x:')),
    );
    const groups = parseGroup(readFileSync('/etc/group', 'utf8'));
    expect(groups.map((g) => `${g.name}:${g.gid}:${g.members.join(',')}`)).toEqual(
      getent('group').map((line) => line.replace(/^([^:]*):[^:]*:/, '$1:')),
    );
  });

  it('skips comments and malformed lines', () => {
    expect(parsePasswd('# comment\nbad line\nx:x:notanumber:0::/:/bin/sh\nok:x:1:2:g:/h:/s\n')).toEqual([
      { name: 'ok', uid: 1, gid: 2, gecos: 'g', home: '/h', shell: '/s' },
    ]);
  });
});
