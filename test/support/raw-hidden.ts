/**
 * What a terminal acts on or a reader cannot see, listed by hand (not the tool's own pattern): C0, DEL, C1,
 * soft hyphen, NBSP and other spaces, bidi and zero-width controls, line separators, fillers, variation
 * selectors, BOM, lone surrogates. A line a person sees must not match it.
 */
export const RAW_HIDDEN = new RegExp(
  '[\\u0000-\\u001f\\u007f-\\u00a0\\u00ad\\u061c\\u115f\\u1160\\u1680\\u180e\\u2000-\\u200f' +
    '\\u2028-\\u202f\\u205f-\\u206f\\u3000\\u3164\\ufe00-\\ufe0f\\ufeff\\ufff9-\\ufffb\\ud800-\\udfff]',
  'u',
);

/** The hidden characters of `text`, as code points, for a failure message that shows them. */
export function rawHidden(text: string): string[] {
  return [...text]
    .filter((char) => RAW_HIDDEN.test(char))
    .map((char) => `U+${(char.codePointAt(0) as number).toString(16).padStart(4, '0')}`);
}
