import type { ImageFiles } from './image-files.js';

export interface OsRelease {
  /** The image path read (after symlinks), e.g. `usr/lib/os-release`. */
  readonly path: string;
  /** PRETTY_NAME, else NAME and VERSION, else ID. */
  readonly name: string;
  readonly id: string | null;
  readonly versionId: string | null;
  /** Every KEY=value of the file, unquoted. */
  readonly fields: Readonly<Record<string, string>>;
}

/** os-release(5): shell-style assignments; values may be double- or single-quoted, with backslash escapes. */
export function parseOsRelease(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match || line.startsWith('#')) continue;
    fields[match[1] as string] = unquote(match[2] as string);
  }
  return fields;
}

function unquote(value: string): string {
  let out = '';
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < value.length; i++) {
    const char = value[i] as string;
    if (quote === "'") {
      if (char === "'") quote = null;
      else out += char;
    } else if (char === '\\' && i + 1 < value.length) {
      const next = value[i + 1] as string;
      // Inside double quotes only these are escapes, as in sh.
      if (quote === null || '$`"\\'.includes(next)) {
        out += next;
        i++;
      } else out += char;
    } else if (char === '"' || (char === "'" && quote === null)) {
      quote = quote === char ? null : (char as '"' | "'");
    } else if (quote === null && (char === ' ' || char === '\t') && value.slice(i).trim().startsWith('#')) {
      break;
    } else out += char;
  }
  return out;
}

/** /etc/os-release, falling back to /usr/lib/os-release as the spec says; null when neither exists. */
export async function readOsRelease(files: ImageFiles): Promise<OsRelease | null> {
  const file = (await files.readText('etc/os-release')) ?? (await files.readText('usr/lib/os-release'));
  if (!file) return null;
  const fields = parseOsRelease(file.text);
  const nameAndVersion = [fields.NAME, fields.VERSION].filter(Boolean).join(' ');
  return {
    path: file.resolved,
    name: fields.PRETTY_NAME || nameAndVersion || fields.ID || 'unknown',
    id: fields.ID ?? null,
    versionId: fields.VERSION_ID ?? null,
    fields,
  };
}
