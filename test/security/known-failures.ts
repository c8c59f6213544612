import type { Method } from './guarded-run.js';

export interface KnownFailure {
  readonly reason: string;
  /** It writes outside the output, not only gets the dump wrong. */
  readonly escapes?: boolean;
}

/**
 * Hostile cases a method gets wrong today, by case name, with where the fix belongs. Their tests run and are
 * expected to fail; the day one passes, vitest reports it, and its line goes.
 */
export const KNOWN_FAILURES: Partial<Readonly<Record<Method, Readonly<Record<string, KnownFailure>>>>> = {
  fast: {
    // src/extract/fast/apply-layer.ts tarProblems: GNU tar's notices "Removing leading `/' from member
    // names" / "... from hard link targets" are taken for errors; they are what the engine does too.
    'absolute-names': { reason: 'GNU tar notice taken for an error' },
    'hardlink-absolute-target': { reason: 'GNU tar notice taken for an error' },
    // src/extract/fast/tar-header.ts decodeMember: the trailing-slash rule reads the ustar name field (cut at
    // 100 bytes) instead of the final name, and layer-filter.ts then gives that "directory" no data.
    'long-name-cut-at-a-slash': { reason: 'trailing slash of the cut name field' },
    'nesting-1900': { reason: 'trailing slash of the cut name field' },
    'smuggled-member-trailing-slash': {
      reason: 'the filter and GNU tar split the stream differently',
      escapes: true,
    },
    // src/extract/fast/layer-filter.ts: several PAX headers before one member are merged; GNU tar and Go
    // keep only the last, so GNU tar writes a name the filter never checked.
    'smuggled-member-two-pax-headers': {
      reason: 'the filter merges PAX headers GNU tar does not',
      escapes: true,
    },
  },
};
