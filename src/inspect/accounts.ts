import type { ImageFiles } from './image-files.js';

export interface User {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  /** Name of the primary group, when /etc/group names it. */
  readonly group: string | null;
  readonly gecos: string;
  readonly home: string;
  readonly shell: string;
}

export interface Group {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

export interface Accounts {
  /** Image paths read, or null when the file is missing. */
  readonly passwdPath: string | null;
  readonly groupPath: string | null;
  readonly users: readonly User[];
  readonly groups: readonly Group[];
}

/** `name:password:uid:gid:gecos:home:shell` lines; malformed lines and comments are skipped. */
export function parsePasswd(text: string): Omit<User, 'group'>[] {
  const users: Omit<User, 'group'>[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields.length < 7 || line.startsWith('#')) continue;
    const [name = '', , uid = '', gid = '', gecos = '', home = '', shell = ''] = fields;
    if (!/^\d+$/.test(uid) || !/^\d+$/.test(gid)) continue;
    users.push({ name, uid: Number(uid), gid: Number(gid), gecos, home, shell });
  }
  return users;
}

/** `name:password:gid:member,member` lines. */
export function parseGroup(text: string): Group[] {
  const groups: Group[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields.length < 4 || line.startsWith('#')) continue;
    const [name = '', , gid = '', members = ''] = fields;
    if (!/^\d+$/.test(gid)) continue;
    groups.push({ name, gid: Number(gid), members: members.split(',').filter((member) => member !== '') });
  }
  return groups;
}

/** Users and groups of /etc/passwd and /etc/group; null when neither can be read. */
export async function readAccounts(files: ImageFiles): Promise<Accounts | null> {
  const [passwd, group] = await Promise.all([files.readText('etc/passwd'), files.readText('etc/group')]);
  if (passwd === undefined && group === undefined) return null;
  const groups = group ? parseGroup(group.text) : [];
  const groupNames = new Map<number, string>();
  for (const { gid, name } of groups) if (!groupNames.has(gid)) groupNames.set(gid, name);
  return {
    passwdPath: passwd?.resolved ?? null,
    groupPath: group?.resolved ?? null,
    users: (passwd ? parsePasswd(passwd.text) : []).map((user) => ({
      ...user,
      group: groupNames.get(user.gid) ?? null,
    })),
    groups,
  };
}
