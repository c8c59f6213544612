import fc from 'fast-check';

// Image references built piece by piece from the grammar of github.com/distribution/reference (grammar in
// its reference.go doc comment), written here apart from src/reference.ts so that each checks the other.

export interface GeneratedReference {
  readonly raw: string;
  readonly registry?: string;
  readonly path: string;
  readonly tag?: string;
  readonly digest?: string;
}

const lower = 'abcdefghijklmnopqrstuvwxyz0123456789';
const alnum = `${lower}ABCDEFGHIJKLMNOPQRSTUVWXYZ`;
const word = `${alnum}_`;
const hex = '0123456789abcdef';

const chars = (alphabet: string, min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...alphabet), minLength: min, maxLength: max });

/** path-component: alphanumeric (separator alphanumeric)*, separator: [_.] | __ | [-]+ */
const pathComponent = fc
  .tuple(
    chars(lower, 1, 6),
    fc.array(fc.tuple(fc.constantFrom('.', '_', '__', '-', '--', '---'), chars(lower, 1, 6)), {
      maxLength: 3,
    }),
  )
  .map(([first, rest]) => first + rest.map(([separator, part]) => separator + part).join(''));

/** A domain the docker CLI takes for a registry: it has a dot or a port, or is localhost. Lowercase. */
const registry = fc
  .tuple(
    fc.oneof(
      fc.constant('localhost'),
      fc
        .array(
          fc
            .tuple(chars(lower, 1, 1), chars(`${lower}-`, 0, 6), chars(lower, 1, 1))
            .map(([a, b, c]) => a + b + c),
          { minLength: 2, maxLength: 3 },
        )
        .map((parts) => parts.join('.')),
    ),
    fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
  )
  .map(([host, port]) => (port === undefined ? host : `${host}:${port}`));

/** tag: [\w][\w.-]{0,127} */
const tag = fc.tuple(chars(word, 1, 1), chars(`${word}.-`, 0, 20)).map(([a, b]) => a + b);

/** A digest the engine can verify: sha256, sha384 or sha512 with its exact number of lowercase hex digits. */
const digest = fc
  .constantFrom(['sha256', 64] as const, ['sha384', 96] as const, ['sha512', 128] as const)
  .chain(([algorithm, length]) => chars(hex, length, length).map((encoded) => `${algorithm}:${encoded}`));

export const validReference: fc.Arbitrary<GeneratedReference> = fc
  .record({
    registry: fc.option(registry, { nil: undefined }),
    components: fc.array(pathComponent, { minLength: 1, maxLength: 3 }),
    tag: fc.option(tag, { nil: undefined }),
    digest: fc.option(digest, { nil: undefined }),
  })
  .filter(({ registry, components }) => {
    // Without a registry, a first component with a dot would be read as one; and names stop at 255.
    const first = components[0] ?? '';
    if (registry === undefined && components.length > 1 && (/[.:]/.test(first) || first === 'localhost'))
      return false;
    return (registry === undefined ? 0 : registry.length + 1) + components.join('/').length <= 255;
  })
  .map(({ registry, components, tag, digest }) => {
    const path = components.join('/');
    const raw = `${registry === undefined ? '' : `${registry}/`}${path}${tag === undefined ? '' : `:${tag}`}${digest === undefined ? '' : `@${digest}`}`;
    return {
      raw,
      path,
      ...(registry !== undefined && { registry }),
      ...(tag !== undefined && { tag }),
      ...(digest !== undefined && { digest }),
    };
  });

/** Characters no reference holds: each could end a Dockerfile word or line, or start a shell expansion. */
export const FOREIGN = [
  '\n',
  '\r',
  ' ',
  '\t',
  '"',
  "'",
  '$',
  '`',
  '\\',
  '{',
  '}',
  '#',
  ';',
  '&',
  '|',
  '=',
  '*',
  '\0',
  '\u2028',
  'é',
  '\u{1F600}',
];

/** A valid reference with one foreign character put in somewhere. */
export const foreignReference: fc.Arbitrary<string> = fc
  .tuple(validReference, fc.constantFrom(...FOREIGN), fc.nat())
  .map(([ref, foreign, at]) => {
    const position = at % (ref.raw.length + 1);
    return ref.raw.slice(0, position) + foreign + ref.raw.slice(position);
  });

/** Every character any accepted reference or image ID may hold. */
export const REFERENCE_ALPHABET = /^[A-Za-z0-9._\-:/@[\]+]+$/;
