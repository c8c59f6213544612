import type { EntryType } from '../manifest.js';
import { baseName, parentPath } from './image-paths.js';
import type { InspectEntry } from './target.js';

export interface TreeLine {
  readonly path: string;
  readonly depth: number;
  /** The drawing before the name, e.g. `│   ├── `. */
  readonly prefix: string;
  readonly name: string;
  readonly type: EntryType;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly target?: string;
}

export interface TreeListing {
  readonly depth: number;
  readonly lines: readonly TreeLine[];
  /** Counts of what is listed (the root not included). */
  readonly directories: number;
  readonly others: number;
}

/** A `tree -a -L depth` listing, siblings by name in code-unit order (as tree sorts with LC_ALL=C). */
export function treeListing(entries: readonly InspectEntry[], depth: number): TreeListing {
  const children = new Map<string, InspectEntry[]>();
  for (const entry of entries) {
    // Siblings share their parent's prefix, so path order is name order within a folder.
    const parent = parentPath(entry.path);
    const list = children.get(parent);
    if (list) list.push(entry);
    else children.set(parent, [entry]);
  }
  const lines: TreeLine[] = [];
  let directories = 0;
  let others = 0;
  const visit = (folder: string, level: number, indent: string) => {
    const list = children.get(folder) ?? [];
    list.forEach((entry, index) => {
      const last = index === list.length - 1;
      lines.push({
        path: entry.path,
        depth: level,
        prefix: `${indent}${last ? '└── ' : '├── '}`,
        name: baseName(entry.path),
        type: entry.type,
        mode: entry.mode,
        uid: entry.uid,
        gid: entry.gid,
        size: entry.size,
        ...(entry.target !== undefined && { target: entry.target }),
      });
      if (entry.type === 'dir') {
        directories++;
        if (level < depth) visit(entry.path, level + 1, `${indent}${last ? '    ' : '│   '}`);
      } else others++;
    });
  };
  visit('', 1, '');
  return { depth, lines, directories, others };
}
