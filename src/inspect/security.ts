import type { EntryType } from '../manifest.js';
import type { Accounts } from './accounts.js';
import type { InspectEntry } from './target.js';

export interface Finding {
  readonly path: string;
  readonly type: EntryType;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly devmajor?: number;
  readonly devminor?: number;
}

export interface SecurityFindings {
  /** Regular files with the setuid bit. */
  readonly setuid: readonly Finding[];
  /** Regular files with the setgid bit (setgid folders are ordinary and not listed). */
  readonly setgid: readonly Finding[];
  /** World-writable regular files, and world-writable folders without the sticky bit. */
  readonly worldWritable: readonly Finding[];
  /** Entries whose uid no /etc/passwd line names; null when there is no passwd to check against. */
  readonly unknownUid: readonly Finding[] | null;
  /** Entries whose gid no /etc/group line names; null when there is no group file. */
  readonly unknownGid: readonly Finding[] | null;
  /** Character and block device nodes. */
  readonly devices: readonly Finding[];
}

export function securityFindings(
  entries: readonly InspectEntry[],
  accounts: Accounts | null,
): SecurityFindings {
  const uids = accounts?.passwdPath ? new Set(accounts.users.map((user) => user.uid)) : null;
  const gids = accounts?.groupPath ? new Set(accounts.groups.map((group) => group.gid)) : null;
  const setuid: Finding[] = [];
  const setgid: Finding[] = [];
  const worldWritable: Finding[] = [];
  const unknownUid: Finding[] = [];
  const unknownGid: Finding[] = [];
  const devices: Finding[] = [];
  for (const entry of entries) {
    const finding = toFinding(entry);
    if (entry.type === 'file') {
      if (entry.mode & 0o4000) setuid.push(finding);
      if (entry.mode & 0o2000) setgid.push(finding);
      if (entry.mode & 0o002) worldWritable.push(finding);
    } else if (entry.type === 'dir' && entry.mode & 0o002 && !(entry.mode & 0o1000)) {
      worldWritable.push(finding);
    } else if (entry.type === 'char' || entry.type === 'block') devices.push(finding);
    if (uids && !uids.has(entry.uid)) unknownUid.push(finding);
    if (gids && !gids.has(entry.gid)) unknownGid.push(finding);
  }
  return {
    setuid,
    setgid,
    worldWritable,
    unknownUid: uids ? unknownUid : null,
    unknownGid: gids ? unknownGid : null,
    devices,
  };
}

function toFinding(entry: InspectEntry): Finding {
  return {
    path: entry.path,
    type: entry.type,
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    ...(entry.devmajor !== undefined && { devmajor: entry.devmajor }),
    ...(entry.devminor !== undefined && { devminor: entry.devminor }),
  };
}
