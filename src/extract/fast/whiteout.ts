/**
 * What a layer member's last path component means under the image spec's whiteout rules: `.wh..wh..opq`
 * makes its folder opaque, `.wh.NAME` hides NAME, any other `.wh..wh.` name is an engine's own bookkeeping
 * (aufs hardlink folders) that hides nothing, and every other name is an ordinary entry.
 */
export type WhiteoutKind =
  | { readonly kind: 'opaque' }
  | { readonly kind: 'hides'; readonly name: string }
  | { readonly kind: 'reserved' }
  | undefined;

const PREFIX = '.wh.';
const OPAQUE = '.wh..wh..opq';

export function whiteoutOf(name: string): WhiteoutKind {
  if (!name.startsWith(PREFIX)) return undefined;
  if (name === OPAQUE) return { kind: 'opaque' };
  if (name.startsWith(PREFIX, PREFIX.length)) return { kind: 'reserved' };
  return { kind: 'hides', name: name.slice(PREFIX.length) };
}
