import type { EntryType } from '../manifest.js';

const TYPE_CHAR: Readonly<Record<EntryType, string>> = {
  file: '-',
  hardlink: '-',
  dir: 'd',
  symlink: 'l',
  fifo: 'p',
  char: 'c',
  block: 'b',
};

/** Permission bits as `ls -l` shows them, e.g. `drwxrwxrwt`, `-rwsr-xr-x`. */
export function modeString(type: EntryType, mode: number): string {
  const bit = (mask: number, char: string) => (mode & mask ? char : '-');
  const special = (exec: number, flag: number, set: string) => {
    if (mode & flag) return mode & exec ? set : set.toUpperCase();
    return mode & exec ? 'x' : '-';
  };
  return (
    TYPE_CHAR[type] +
    bit(0o400, 'r') +
    bit(0o200, 'w') +
    special(0o100, 0o4000, 's') +
    bit(0o040, 'r') +
    bit(0o020, 'w') +
    special(0o010, 0o2000, 's') +
    bit(0o004, 'r') +
    bit(0o002, 'w') +
    special(0o001, 0o1000, 't')
  );
}

/** Permission bits in octal with four digits, e.g. `0755`, `1777`. */
export function octalMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}
