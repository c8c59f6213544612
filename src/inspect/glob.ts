/**
 * Compiles `--ignore` patterns into one test on manifest paths. Rules, as in .gitignore:
 * `*` and `?` stay within one path component, `**` spans components, `[abc]`/`[!abc]` are classes;
 * a pattern without `/` matches a name at any depth; one with `/` is anchored at the image root
 * (a leading `/` is allowed); a pattern that matches a folder also covers everything below it.
 */
export function ignoreMatcher(patterns: readonly string[]): (path: string) => boolean {
  if (patterns.length === 0) return () => false;
  const sources = patterns.map((pattern) => {
    const trimmed = pattern.replace(/^\/+/, '').replace(/\/+$/, '');
    const anchored = pattern.replace(/\/+$/, '').includes('/');
    return `${anchored ? '' : '(?:.*/)?'}${translate(trimmed)}`;
  });
  const regexp = new RegExp(`^(?:${sources.join('|')})(?:/.*)?$`, 's');
  return (path) => regexp.test(path);
}

function translate(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i] as string;
    if (char === '*') {
      if (glob[i + 1] === '*') {
        // `**/` also matches no folder at all, so `a/**/b` covers `a/b`.
        const slash = glob[i + 2] === '/';
        out += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else out += '[^/]*';
    } else if (char === '?') out += '[^/]';
    else if (char === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) out += '\\[';
      else {
        let body = glob.slice(i + 1, end);
        const negated = body.startsWith('!') || body.startsWith('^');
        if (negated) body = body.slice(1);
        out += `[${negated ? '^/' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
        i = end;
      }
    } else out += char.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return out;
}
